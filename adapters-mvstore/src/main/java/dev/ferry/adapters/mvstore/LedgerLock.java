package dev.ferry.adapters.mvstore;

import dev.ferry.domain.model.FerryException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A lock on a file beside the ledger's ({@code NAME.lock}, empty, left in place), held from the ledger's opening to its
 * close. H2's own lock on the ledger file is let go when a broken store is closed, until the file opens again — a
 * second, or the whole of a disk's outage while the opening fails — and another process could open the file then,
 * beside this one: two instances, each taking the other's claims for its own. A Ferry takes this lock before it opens
 * the file, and is refused while another holds it.
 */
final class LedgerLock implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LedgerFile.class);

    /** Null when no lock file could be made (said at the opening). */
    private final FileChannel channel;

    private LedgerLock(FileChannel channel) {
        this.channel = channel;
    }

    /** The lock of the ledger {@code file} (named as the file system knows it), or a clear refusal. */
    static LedgerLock take(Path file) {
        var path = file.resolveSibling(file.getFileName() + ".lock");
        FileChannel channel;
        try {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            // a ledger file mounted alone into a directory Ferry may not write, or a lock file made by another user (a
            // CLI command run with sudo): such a start worked before there was a lock file — it goes on, on H2's lock
            LOG.warn("ledger {}: its lock file {} cannot be made or written ({}); the file is locked by H2 alone, which lets "
                    + "it go while a store broken by a failed write is opened again", file, path, String.valueOf(e));
            return new LedgerLock(null);
        }
        java.nio.channels.FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | RuntimeException e) { // OverlappingFileLockException: this JVM holds it under another name
            closeQuietly(channel, e);
            throw new FerryException("cannot open the ledger file " + file + ": its lock file " + path + " cannot be locked ("
                    + e + ")", e, false);
        }
        if (lock == null) {
            closeQuietly(channel, null);
            throw new FerryException("cannot open the ledger file " + file + ": the file is locked (another process has it "
                    + "open: its lock file " + path + " is held)", false);
        }
        return new LedgerLock(channel);
    }

    @Override
    public void close() {
        if (channel != null) {
            closeQuietly(channel, null); // closing the channel lets the lock go
        }
    }

    private static void closeQuietly(FileChannel channel, Throwable into) {
        try {
            channel.close();
        } catch (IOException e) {
            if (into != null) {
                into.addSuppressed(e);
            }
        }
    }
}
