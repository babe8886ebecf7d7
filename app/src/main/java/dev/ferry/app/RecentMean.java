package dev.ferry.app;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The mean of what a timer recorded over about the last minute, from its running count and total —
 * for the console, where a timer's own mean (since the process started) kept showing a backlog of an
 * hour ago long after it drained. Looked at every few seconds; marks the running figures at most every
 * five seconds and compares with the oldest mark of the last minute. Thread-safe.
 */
final class RecentMean {

    static final long WINDOW = TimeUnit.SECONDS.toNanos(60);
    static final long MARK_EVERY = TimeUnit.SECONDS.toNanos(5);

    private final LongSupplier nanoTime;
    /** {at (nanoTime), count, total}, oldest first. */
    private final ArrayDeque<double[]> marks = new ArrayDeque<>();

    RecentMean() {
        this(System::nanoTime);
    }

    RecentMean(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /**
     * The mean over the last minute (or since the first look, when that is more recent), in the unit of
     * {@code total}; null when nothing was recorded in it.
     */
    synchronized Double of(long count, double total) {
        long now = nanoTime.getAsLong();
        var last = marks.peekLast();
        if (last == null || now - (long) last[0] >= MARK_EVERY) {
            marks.addLast(new double[] {now, count, total});
        }
        while (marks.size() > 1 && now - (long) marks.peekFirst()[0] > WINDOW) {
            marks.pollFirst();
        }
        var since = marks.peekFirst();
        double recorded = count - since[1];
        return recorded <= 0 ? null : (total - since[2]) / recorded;
    }
}
