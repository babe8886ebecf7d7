package dev.ferry.adapters.mvstore;

import dev.ferry.adapters.mvstore.internal.CountedReadsFilePath;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.FerryException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store version of the last commit callers were told is on disk (0: none yet), and what an opening of the file
 * that reads it back older does: refused ({@link #notOlder}), and with fsync off, not for ever.
 */
final class CommittedVersion {

    private static final Logger LOG = LoggerFactory.getLogger(CommittedVersion.class);

    private final AtomicLong version = new AtomicLong();
    /** How long the same older version is refused before it is opened as it is; null (fsync on): for ever. */
    private volatile Duration openOlderAfter;
    /** The older version the last refused opening read back (-1: none), and since when: under LedgerFile#opening. */
    private long refused = -1;
    private long refusedSince;

    long get() {
        return version.get();
    }

    /**
     * Where the store's file fails to read (a disk failing where the newest chunks are does), or -1 when it reads
     * through to its end. Read through the store's own channel: a second descriptor of the file, closed, would drop
     * every lock the process holds on it (H2's own).
     */
    private static long unreadableAt(MVStore store) {
        var files = store.getFileStore();
        long size = files.size();
        long at = 0;
        try {
            while (at < size) {
                int n = (int) Math.min(64 * 1024, size - at);
                files.readFully(null, at, n); // a single file's store reads at the position, whatever the chunk
                at += n;
            }
            return -1;
        } catch (RuntimeException e) {
            return at;
        }
    }

    /** A commit whose newest chunk is {@code written} was reported on disk. */
    void raise(long written) {
        version.accumulateAndGet(written, Math::max);
    }

    /**
     * With fsync off, a commit counted is in the page cache only: its write-back may fail, its pages dropped, and
     * every reopening then reads the file back older, for good — each refused, the ledger failing every call until a
     * restart, which opens that older file anyway. Read back the same for longer than {@code bound}, it is opened.
     */
    void openOlderAfter(Duration bound) {
        this.openOlderAfter = bound;
    }

    /**
     * Opens the store of {@code file} by H2's {@code name} for it, a {@link CountedReadsFilePath} name (any other: its
     * failed reads go uncounted), with H2's background writer off; refused older than what was committed
     * ({@link #notOlder}).
     */
    MVStore open(Path file, String name) {
        var failedReads = new AtomicLong();
        var store = CountedReadsFilePath.counting(failedReads,
                () -> new MVStore.Builder().fileName(name).autoCommitDisabled().open());
        notOlder(file, store, failedReads.get());
        return store;
    }

    /**
     * Refuses an opening of the file older than a commit its callers were told is on disk. H2 recovers a store that
     * was not closed cleanly by looking for its newest chunk, and takes a read that fails meanwhile (the disk that
     * broke the store, still failing) for a chunk not there: it opened, unsaid, at an older one, and its next commit
     * was written over the newer ones — completions that had returned were lost for good (a later copy of an acked
     * message ran again), parks too. Closed at once instead, nothing written, the file is opened again later (at most
     * once a second): once its reads work, with all that was committed. 0 (a first opening): any version.
     *
     * <p>With fsync off ({@link #openOlderAfter}), the same older version read back for longer than the bound, from a
     * file that reads through to its end, by an opening none of whose own reads failed ({@code failedReads}), is taken
     * for what the disk has: opened, what is lost said, as a restart would have opened it — without the restart.
     */
    private void notOlder(Path file, MVStore store, long failedReads) {
        try {
            check(file, store, failedReads);
        } catch (RuntimeException | Error e) { // (no memory for the read-through's buffer): left open, it held the file
            try {                              // locked for every later opening, until a restart
                store.closeImmediately();      // (closed already where refused: a no-op)
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /**
     * The store is opened with H2's background writer off, and it stays so while this reads the file through: running,
     * it committed on the older version meanwhile, over the newer chunks' blocks (free space to it), or cut the file.
     */
    private void check(Path file, MVStore store, long failedReads) {
        long read = store.getFileStore().lastChunkVersion();
        long committed = version.get();
        if (read >= committed) {
            refused = -1;
            return;
        }
        long now = System.nanoTime();
        if (read != refused) { // another version read back: the disk is still changing its answer, waited for anew
            refused = read;
            refusedSince = now;
        }
        var after = openOlderAfter;
        boolean due = after != null && now - refusedSince >= after.toNanos();
        long unreadable = due ? unreadableAt(store) : -1;
        if (due && (unreadable >= 0 || failedReads > 0)) {
            // the disk still failing where the newer chunks are (H2 takes a read that fails for a chunk not there): it
            // may heal, with all that was committed — opened older after the bound, what came back was lost for good.
            // The read-through passing says nothing of H2's own reads (the disk healed meanwhile, or fails at times):
            // the version H2 opened at on reads that failed was taken for what the disk has
            refusedSince = now;
            due = false;
        }
        // not lowered past a commit counted meanwhile (a commit on the store that broke, finishing late): refused then
        if (due && version.compareAndSet(committed, read)) {
            refused = -1;
            LOG.error("ledger {}: the file has read back at version {} for {}, older than version {} committed; with "
                    + "fsync off those commits reached the page cache only, and their write-back failed. Opened at "
                    + "version {}, as a restart would: what versions {} to {} held is lost — completions (their "
                    + "messages may run again), parks (a group's later messages may overtake its head), owed "
                    + "dead-letter marks", file, read, Durations.text(Duration.ofNanos(now - refusedSince)), committed,
                    read, read + 1, committed);
            return;
        }
        store.closeImmediately();
        throw new FerryException("ledger " + file + ": the file read back older than what was committed (version "
                + read + ", committed " + committed + "): the disk may still be failing; it is tried again"
                + refusedFor(unreadable, failedReads, after), true);
    }

    /** What keeps a file read back older from being opened so, said: its failing reads, or the bound still running. */
    private static String refusedFor(long unreadable, long failedReads, Duration after) {
        if (unreadable >= 0) {
            return " (the file fails to read at byte " + unreadable + ": it is not opened older while it does)";
        }
        if (failedReads > 0) {
            return " (" + failedReads + " of its reads failed as H2 opened it: it is not opened older from reads that "
                    + "failed)";
        }
        return after == null ? "" : " (fsync is off: read back so for " + Durations.text(after) + " from a file that "
                + "reads through, it is opened as it is, and what it lacks is lost)";
    }
}
