package dev.ferry.adapters.mvstore;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The ledger's fencing tokens: handed out from a block recorded in the file first, so that they keep
 * growing across restarts and crashes (a claim of the next process never gets a token an earlier
 * one held).
 */
final class LedgerTokens {

    private static final long BLOCK = 1_000_000;
    private static final String RESERVED = "tokensReserved";

    private final LedgerFile files;
    private final LedgerCommits commits;
    private final AtomicLong tokens;
    private volatile long reserved;

    /** Reads the reservation in the file and records the next block. */
    LedgerTokens(LedgerFile files, LedgerCommits commits) {
        this.files = files;
        this.commits = commits;
        long stored = files.maps().meta().getOrDefault(RESERVED, 0L);
        this.tokens = new AtomicLong(stored);
        this.reserved = stored;
        reserve(stored + 1);
    }

    long next() {
        long token = tokens.incrementAndGet();
        if (token >= reserved) {
            reserve(token);
        }
        return token;
    }

    /** A lock, not a monitor: a virtual thread waiting on a monitor pins its carrier on JDK 21 (a commit waits up to 60 s). */
    private final java.util.concurrent.locks.ReentrantLock reserving = new java.util.concurrent.locks.ReentrantLock();

    private void reserve(long needed) {
        reserving.lock();
        try {
            while (needed >= reserved) {
                long next = reserved + BLOCK;
                var m = files.maps();
                m.meta().put(RESERVED, next);
                commits.commit(m.store(), false);
                reserved = next;
            }
        } finally {
            reserving.unlock();
        }
    }

    /**
     * The file was opened again after a failed write: the reservation tokens are handed out of is
     * written again (the last one may not have reached the file), so tokens keep growing.
     */
    void reopened(LedgerFile.Maps m) {
        reserving.lock();
        try {
            m.meta().put(RESERVED, Math.max(reserved, m.meta().getOrDefault(RESERVED, 0L)));
            commits.commit(m.store(), false);
        } finally {
            reserving.unlock();
        }
    }
}
