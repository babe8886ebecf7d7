package dev.ferry.adapters.mvstore.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.h2.store.fs.FileBase;

/**
 * A file channel over an {@link AsynchronousFileChannel}, which an interrupt does not close: the
 * caller waits for each read or write without giving way to interrupts, then sets its flag again.
 * Each read or write goes through the JDK's I/O threads (a hand-off) — paid only when H2 reads a
 * page it does not hold in its cache, or writes a commit.
 */
final class UninterruptibleChannel extends FileBase {

    private final Path path;
    private final AsynchronousFileChannel file;
    private long position;

    UninterruptibleChannel(Path path, String mode) throws IOException {
        this.path = path;
        this.file = AsynchronousFileChannel.open(path, options(mode), null);
    }

    private static Set<StandardOpenOption> options(String mode) {
        var options = EnumSet.of(StandardOpenOption.READ);
        if (!mode.equals("r")) {
            options.add(StandardOpenOption.WRITE);
            options.add(StandardOpenOption.CREATE);
        }
        if (mode.equals("rws")) {
            options.add(StandardOpenOption.SYNC);
        } else if (mode.equals("rwd")) {
            options.add(StandardOpenOption.DSYNC);
        }
        return options;
    }

    @Override
    public int read(ByteBuffer dst, long at) throws IOException {
        return await(file.read(dst, at));
    }

    @Override
    public int write(ByteBuffer src, long at) throws IOException {
        return await(file.write(src, at));
    }

    @Override
    public synchronized int read(ByteBuffer dst) throws IOException {
        int read = read(dst, position);
        if (read > 0) {
            position += read;
        }
        return read;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
        int written = write(src, position);
        position += written;
        return written;
    }

    @Override
    public synchronized long position() {
        return position;
    }

    @Override
    public synchronized FileChannel position(long newPosition) {
        if (newPosition < 0) {
            throw new IllegalArgumentException("position must be >= 0, was " + newPosition);
        }
        position = newPosition;
        return this;
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public synchronized FileChannel truncate(long size) throws IOException {
        file.truncate(size);
        position = Math.min(position, size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        file.force(metaData);
    }

    @Override
    public FileLock tryLock(long at, long size, boolean shared) throws IOException {
        return file.tryLock(at, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }

    /** The operation's result, waited for through interrupts; the caller's flag is set again after. */
    private static int await(Future<Integer> operation) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return operation.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException("file operation failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
