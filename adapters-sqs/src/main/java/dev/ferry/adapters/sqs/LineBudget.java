package dev.ferry.adapters.sqs;

import java.time.Duration;
import java.util.function.LongConsumer;

/**
 * At most {@code lines} log lines in each {@code window}: those past it are counted, and the count is said once the
 * next window's first line is taken. Thread-safe.
 */
final class LineBudget {

    private final int lines;
    private final long windowNanos;
    private final LongConsumer skippedSaid;
    private long windowStart = System.nanoTime();
    private int taken;
    private long skipped;

    LineBudget(int lines, Duration window, LongConsumer skippedSaid) {
        this.lines = lines;
        this.windowNanos = window.toNanos();
        this.skippedSaid = skippedSaid;
    }

    /** True when a line may be written now; false (counted) when this window's lines are spent. */
    boolean take() {
        long said;
        synchronized (this) {
            long now = System.nanoTime();
            if (now - windowStart >= windowNanos) {
                windowStart = now;
                taken = 0;
            }
            if (taken >= lines) {
                skipped++;
                return false;
            }
            taken++;
            said = skipped;
            skipped = 0;
        }
        if (said > 0) {
            skippedSaid.accept(said);
        }
        return true;
    }
}
