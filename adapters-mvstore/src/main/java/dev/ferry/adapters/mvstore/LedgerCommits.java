package dev.ferry.adapters.mvstore;

import dev.ferry.domain.model.FerryException;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.h2.mvstore.MVStore;

/**
 * The ledger file's commits. Writes that must be on disk before they are reported (completions,
 * parks) share commits: one caller commits everything written so far while the others wait for it.
 * Every commit runs on a thread of its own that nothing interrupts — an interrupted thread's file
 * channel is closed under the whole store, and H2 stops waiting for a commit's write when
 * interrupted — and its caller waits for it uninterruptibly.
 */
final class LedgerCommits {

    private final Path file;
    private final LedgerFile files;
    private final boolean fsync;
    private final ExecutorService committer = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("ferry-ledger-commit").factory());
    /** Writes counted so far; those up to {@link #committedWrites} are on disk. */
    private final AtomicLong writes = new AtomicLong();
    private final ReentrantLock commitLock = new ReentrantLock();
    private final Condition committed = commitLock.newCondition();
    private long committedWrites;
    private boolean committing;
    /** The mark each commit writes (on the committer thread only). */
    private long mark = System.nanoTime();

    /** The map each commit writes its mark to. */
    static final String MARKS = "ferry-commit-marks";

    LedgerCommits(Path file, LedgerFile files, boolean fsync) {
        this.file = file;
        this.files = files;
        this.fsync = fsync;
    }

    /**
     * Counts a write to {@code m} and returns once a commit covering it is done. One caller commits
     * everything written so far while the others wait for it (or for the next one), so concurrent
     * completions share commits instead of queueing for one each.
     */
    void awaitDurable(LedgerFile.Maps m) {
        long seq = writes.incrementAndGet();
        commitLock.lock();
        try {
            while (committedWrites < seq) {
                if (committing) {
                    committed.awaitUninterruptibly();
                    continue;
                }
                committing = true;
                long target = writes.get();
                commitLock.unlock();
                boolean ok = false;
                try {
                    commit(m.store(), fsync);
                    ok = true;
                } finally {
                    commitLock.lock();
                    committing = false;
                    if (ok) {
                        committedWrites = Math.max(committedWrites, target);
                    }
                    committed.signalAll();
                }
            }
        } finally {
            commitLock.unlock();
        }
        if (files.current() != m) {
            // written to a store that broke and was opened again: the commit that counted it may not have had it
            throw new FerryException("ledger " + file + " was opened again after a failed write; this change may be lost", true);
        }
    }

    /**
     * Commits (and syncs, when asked) on the ledger's own thread, which nothing interrupts, and waits
     * for it uninterruptibly: an interrupt arriving while the caller waits cannot cut the write short.
     */
    void commit(MVStore store, boolean sync) {
        var done = committer.submit(() -> {
            // a change of its own, so that the commit writes: one with nothing unsaved returns at once, though H2's
            // background commit may have taken what it is to cover and queued the write on H2's save thread, where it
            // is not on disk yet (or fails). With a write of its own it waits in line behind that one; on a closed
            // store it fails instead of returning as if written
            store.<Integer, Long>openMap(MARKS).put(0, ++mark);
            store.commit();
            if (sync) {
                try {
                    store.sync();
                } catch (RuntimeException failed) {
                    // H2 goes on after a failed sync with memory ahead of the disk: a completion retried would find itself
                    // done though the disk may not have it. Broken instead, the store is opened again from what is on disk
                    try {
                        store.panic(org.h2.mvstore.DataUtils.newMVStoreException(
                                org.h2.mvstore.DataUtils.ERROR_WRITING_FAILED, "sync failed: {0}", failed.toString(), failed));
                    } catch (RuntimeException broken) {
                        // panic throws what it broke the store with
                    }
                    throw failed;
                }
            }
            return null;
        });
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    done.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new FerryException("ledger " + file + ": commit failed", e.getCause(), true);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    boolean fsync() {
        return fsync;
    }

    void close() {
        committer.shutdown();
    }
}
