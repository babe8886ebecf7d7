package dev.ferry.adapters.mvstore;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.FerryException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.h2.mvstore.MVStore;

/**
 * The ledger file's commits. Writes that must be on disk before they are reported (completions,
 * parks) share commits: one caller commits everything written so far while the others wait for it.
 * Every commit runs on a thread of its own that nothing interrupts — an interrupted thread's file
 * channel is closed under the whole store, and H2 stops waiting for a commit's write when
 * interrupted — and its caller waits for it uninterruptibly, up to {@link #BOUND}. A commit returns
 * once every write H2's own threads had queued is on disk (or throws what one failed with).
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
    private volatile long committedWrites; // raised under the lock; read without it by behind()
    private boolean committing;

    /** The longest a caller waits for a commit: a disk that hangs (an NFS or SAN stall) holds no one for ever. */
    static final Duration BOUND = Duration.ofSeconds(60);

    private final long boundNanos;

    LedgerCommits(Path file, LedgerFile files, boolean fsync) {
        this(file, files, fsync, BOUND);
    }

    LedgerCommits(Path file, LedgerFile files, boolean fsync, Duration bound) {
        this.file = file;
        this.files = files;
        this.fsync = fsync;
        this.boundNanos = bound.toNanos();
        if (files != null && !fsync) {
            // with fsync off, a commit is counted once in the page cache: its write-back failed, and every reopening
            // read the file back older, refused until a restart. The same older one read back for longer than a commit
            // may take is what the disk has: opened then, what is lost said (fsync on: a refusal means real loss)
            files.committed.openOlderAfter(bound);
        }
    }

    /**
     * Asks for a commit of the ledger soon, not waiting for it (one queued at a time): a note a crash must not take, from a
     * thread that must not wait a commit per note — the journal's one writer, at a stop with hundreds of owed dead
     * letters, wrote a few hundred in its two seconds and dropped the rest. Not synced: a process's crash, not a power cut.
     * The store committed is the one open when the task runs: one reopened meanwhile holds the notes made since. Once it
     * succeeds, {@code owed} forgets the marks this commit covers; until then they are written again into a file opened
     * after a failed write (the note had returned: nothing else writes them again).
     */
    void commitSoon(OwedMarks owed) {
        if (!commitQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            committer.execute(() -> {
                commitQueued.set(false); // a note made while this commits asks for the next
                try {
                    long noted = owed.newest(); // the marks written before this commit begins: those it covers
                    var store = files.current().store();
                    store.commit();
                    long written = newestChunk(store);
                    if (fsync) {
                        // with fsync on, only a chunk synced counts: one in the page cache alone, its write-back failed,
                        // read back older at every reopen — each refused, nothing newer written: wedged until a restart
                        syncOrBreak(store);
                    }
                    // on disk now as far as the journal's writer knows (it retries no more): a reopening that reads the
                    // file back older than this chunk drops the mark unsaid, and the copy that comes back runs after its
                    // group's later messages. Counted as committed, such an opening is refused (notOlder)
                    files.committed.raise(written);
                    owed.committed(store, noted);
                } catch (Throwable e) { // H2 broke the store: what it held uncommitted is gone with it (opened again from disk)
                    org.slf4j.LoggerFactory.getLogger(LedgerCommits.class).warn("ledger {}: a commit of owed dead-letter "
                            + "marks failed ({}); those not yet committed are written again into the file once it is opened "
                            + "again (a stop before that loses them, as a crash does)", file, String.valueOf(e));
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            commitQueued.set(false);
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean commitQueued = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Whether a write whose commit failed or ran out of time (its change in memory, perhaps never on disk) is not yet
     * covered by a commit that finished since.
     */
    boolean behind() {
        return unsure.get() > committedWrites; // not a commit merely under way: a reader would wait for every one
    }

    /** The last write whose caller was told it failed or was not known to be on disk (see {@link #behind}). */
    private final AtomicLong unsure = new AtomicLong();

    /**
     * Counts a write to {@code m} and returns once a commit covering it is done. One caller commits
     * everything written so far while the others wait for it (or for the next one), so concurrent
     * completions share commits instead of queueing for one each. Within the bound in all, waiting for
     * others' commits included: behind a disk that hangs, each waiter taking its turn to lead a commit
     * would otherwise wait one bound more than the one before.
     */
    void awaitDurable(LedgerFile.Maps m) {
        long seq = writes.incrementAndGet();
        boolean covered = false;
        try {
            awaitCovered(m, seq);
            covered = true;
        } finally {
            if (!covered) {
                unsure.accumulateAndGet(seq, Math::max);
            }
        }
    }

    private void awaitCovered(LedgerFile.Maps m, long seq) {
        long deadline = System.nanoTime() + boundNanos;
        boolean interrupted = false;
        commitLock.lock();
        try {
            while (committedWrites < seq) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw notFinished();
                }
                if (committing) {
                    try {
                        committed.awaitNanos(left);
                    } catch (InterruptedException e) { // waited out all the same; the flag is set again after
                        interrupted = true;
                    }
                    continue;
                }
                committing = true;
                long target = writes.get();
                commitLock.unlock();
                boolean ok = false;
                try {
                    commit(m.store(), fsync, left);
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
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (files.current() != m) {
            // written to a store that broke and was opened again: the commit that counted it may not have had it
            throw new FerryException("ledger " + file + " was opened again after a failed write; this change may be lost", true);
        }
    }

    /**
     * Commits (and syncs, when asked) on the ledger's own thread, which nothing interrupts, and waits
     * for it uninterruptibly: an interrupt arriving while the caller waits cannot cut the write short.
     * Not longer than the bound: then the outcome is unknown, and the caller hears so (retryable) while
     * the commit goes on.
     */
    void commit(MVStore store, boolean sync) {
        commit(store, sync, boundNanos);
    }

    private FerryException notFinished() {
        return new FerryException("ledger " + file + ": a commit did not finish within " + Durations.text(Duration.ofNanos(
                boundNanos)) + " (the disk hangs?); whether it is written is not known yet", true);
    }

    private void commit(MVStore store, boolean sync, long withinNanos) {
        var done = committer.submit(() -> {
            store.commit();
            // a commit with nothing unsaved returns at once, though H2's background commit may have taken what it is
            // to cover and queued the write on H2's own threads, where it is not on disk yet (or fails). This waits
            // for every write queued there and throws what one failed with; on a closed store it throws too, instead
            // of returning as if written. The newest chunk written then is what a reopening must read back (notOlder)
            long written = newestChunk(store);
            if (sync) {
                syncOrBreak(store);
            }
            // with fsync on, a chunk not synced (a sweep's, a token reservation's) is not counted: its write-back failed,
            // every reopen read the file back older and was refused, nothing newer written — wedged until a restart
            if (files != null && (sync || !fsync)) { // files: null in a test of the commits alone
                files.committed.raise(written);
            }
            return null;
        });
        boolean interrupted = false;
        long deadline = System.nanoTime() + withinNanos;
        try {
            for (;;) {
                try {
                    done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (TimeoutException e) {
                    throw notFinished();
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

    private static void syncOrBreak(MVStore store) {
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

    /** The newest chunk H2 has written, once every write queued on its own threads is done (throws what one failed with). */
    private static long newestChunk(MVStore store) {
        long[] written = new long[1];
        store.executeFilestoreOperation(() -> written[0] = store.getFileStore().lastChunkVersion());
        return written[0];
    }

    boolean fsync() {
        return fsync;
    }

    void close() {
        committer.shutdown();
    }

    /**
     * Runs {@code last} (the file's close) on the committer's thread, after the commits queued before it, and ends that
     * thread: a commit whose write failed while the close ran on another thread left H2's close spinning for ever (it
     * closes at once a store it is itself stopping, under its own lock). Waits for it, uninterruptibly, as a commit is.
     */
    void closeWith(Runnable last) {
        java.util.concurrent.Future<?> closing;
        try {
            closing = committer.submit(last);
        } catch (java.util.concurrent.RejectedExecutionException closedAlready) {
            last.run();
            return;
        } finally {
            committer.shutdown();
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    closing.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    if (e.getCause() instanceof Error r) {
                        throw r;
                    }
                    throw new FerryException("closing ledger " + file + " failed: " + e.getCause(), e.getCause(), false);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
