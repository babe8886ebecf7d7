package dev.ferry.adapters.mvstore.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;

/**
 * H2's name for a file (under any scheme: Ferry's, a test's) whose channel counts the reads that fail on it. H2 keeps
 * some failures to itself: looking for a store's newest chunk as it opens, it takes a read that fails for a chunk not
 * there and opens at an older one, unsaid. A later read of the file through (the disk healed meanwhile, or failing at
 * times) said nothing of those reads: the ledger took the older version H2 had opened for what the disk held, and
 * opened it — completions that had returned were lost, their messages run again. Counted, an opening whose own reads
 * failed is told from one that read the file whole.
 *
 * <p>Public only because H2 makes a path of each scheme by reflection; not Ferry's API.
 */
public final class CountedReadsFilePath extends ScopedFilePath<AtomicLong> {

    private static final String SCHEME = "ferry-counted";
    /**
     * The failed reads of the opening under way on this thread: the channel H2 opens for it counts them. Above the
     * registration, which is made with it.
     */
    private static final Scope<AtomicLong> OPENING = new Scope<>();

    static {
        FilePath.register(new CountedReadsFilePath());
    }

    /** H2 makes one of these for every path of the scheme; use {@link #of}. */
    public CountedReadsFilePath() {
        super(SCHEME, OPENING);
    }

    /** The name under which H2 opens the file it knows as {@code name} (any scheme's), its reads counted. */
    public static String of(String name) {
        return named(SCHEME, name);
    }

    /**
     * Runs {@code opening} (an H2 store opened by a name of this scheme): each read that fails on a channel H2 opens on
     * this thread meanwhile — as it does, in the store's constructor — is counted in {@code failedReads}, for as long as
     * that channel is open. A channel opened on another thread counts nothing, as before this count.
     */
    public static <T> T counting(AtomicLong failedReads, Supplier<T> opening) {
        return OPENING.run(failedReads, opening);
    }

    @Override
    FileChannel opened(FileChannel channel, AtomicLong failedReads) {
        return new Counted(channel, failedReads);
    }

    /** The base channel, every read that fails on it counted; all else passed through as it is. */
    private static final class Counted extends FileBase {

        private final FileChannel base;
        private final AtomicLong failedReads;

        Counted(FileChannel base, AtomicLong failedReads) {
            this.base = base;
            this.failedReads = failedReads;
        }

        @Override
        public int read(ByteBuffer dst, long at) throws IOException {
            try {
                return base.read(dst, at);
            } catch (IOException | RuntimeException e) { // H2 may swallow it: the count does not
                failedReads.incrementAndGet();
                throw e;
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            try {
                return base.read(dst);
            } catch (IOException | RuntimeException e) {
                failedReads.incrementAndGet();
                throw e;
            }
        }

        @Override
        public int write(ByteBuffer src, long at) throws IOException {
            return base.write(src, at);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return base.write(src);
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            base.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            base.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            base.force(metaData);
        }

        @Override
        public FileLock tryLock(long at, long size, boolean shared) throws IOException {
            return base.tryLock(at, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }

        @Override
        public String toString() {
            return base.toString();
        }
    }
}
