package dev.ferry.domain.listener;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The pause a poller makes after a poll that found nothing without waiting for it: short polls ({@code pollWait} 0), or
 * a source that answers "nothing" from memory whatever the wait (a plugin's poll that never blocks). Without it a poller
 * spun a core and, on SQS, sent hundreds of paid requests a second for an idle queue. Only an answer within a
 * millisecond counts as "at once" while {@code pollWait} is not 0: one that went over the network is not a spin, and
 * may be a receive whose every message the source refused (screening), which must not be slowed.
 */
final class EmptyPolls {

    private static final long MOST = TimeUnit.SECONDS.toNanos(1);
    private static final long AT_ONCE = TimeUnit.MILLISECONDS.toNanos(1);

    private final long pollWait;
    private final long longest;
    /** Empty answers at once in a row, per poller thread. */
    private final ThreadLocal<Integer> inARow = ThreadLocal.withInitial(() -> 0);

    EmptyPolls(Duration pollWait) {
        this.pollWait = pollWait.toNanos();
        this.longest = this.pollWait > 0 ? Math.min(this.pollWait, MOST) : MOST; // a source that waited would take as long
    }

    /**
     * The pause (nanoseconds) after a poll that took {@code tookNanos}: none when it answered something ({@code empty}
     * false) or took a millisecond or more (with a poll wait); else 10 ms doubling while the answers stay empty and at
     * once, to 1 s or the poll wait, whichever is shorter.
     */
    long pauseAfter(boolean empty, long tookNanos) {
        if (!empty || pollWait > 0 && tookNanos >= AT_ONCE) {
            inARow.set(0);
            return 0;
        }
        int n = inARow.get();
        inARow.set(n + 1);
        return Math.min(longest, TimeUnit.MILLISECONDS.toNanos(10L << Math.min(n, 7)));
    }
}
