package dev.ferry.domain.listener;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * A per-message log line bounded: the first {@value #BURST} in ten seconds go out, the rest are counted
 * and said in one line when the next comes after that window, or at {@link #flush()}. A storm — a
 * million poison messages, a ledger outage under a thousand claims extended each round, a throttled
 * acknowledgement of every message — wrote a line each, filling a disk or a log bill and pushing the
 * lines that mattered past a log pipeline's rate limit.
 */
final class LineBurst {

    static final int BURST = 20;
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final System.Logger log;
    private final String what;
    private final String where;
    private final java.util.function.Consumer<Runnable> writer;
    private long windowStart = System.nanoTime();
    private int written;
    private long leftOut;

    /**
     * @param what  what the lines are, plural ("dead letters from 'orders'"), for the count
     * @param where where each one is kept, for the count ("the dead-letter queue keeps each"); null for none
     */
    LineBurst(System.Logger log, String what, String where) {
        this(log, what, where, Runnable::run);
    }

    /** {@code writer} writes the count's line (an {@link AsideLog}'s: a log that blocks must not hold its caller). */
    LineBurst(System.Logger log, String what, String where, java.util.function.Consumer<Runnable> writer) {
        this.log = log;
        this.what = what;
        this.where = where;
        this.writer = writer;
    }

    /** Whether this line goes out; a new window first says what the last one left out. */
    synchronized boolean take() {
        long now = System.nanoTime();
        if (now - windowStart >= WINDOW_NANOS) {
            windowStart = now; // first: should the count's line fail, the new window stands all the same
            written = 0;
            flush();
        }
        if (written < BURST) {
            written++;
            return true;
        }
        leftOut++;
        return false;
    }

    /**
     * Says how many were left out and not said yet; never throws. A log that throws on every line threw here on the
     * caller's thread, the count kept for the next flush: the stop's flush threw, and again in its fallback, whose
     * threads were then never ended.
     */
    synchronized void flush() {
        if (leftOut > 0) {
            long n = leftOut;
            leftOut = 0; // before the write: a count the log refused is lost with its line, not said again and again
            try {
                writer.accept(() -> log.log(Level.WARNING, "{0} more {1} not logged one by one (at most {2} such "
                        + "lines in 10s{3})", n, what, BURST, where == null ? "" : "; " + where));
            } catch (Throwable logFailing) { // what called — the settler, the stop — goes on
            }
        }
    }
}
