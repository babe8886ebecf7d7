package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A deadline that moves on with every sign of progress: it passes only when nothing came for {@code limit}. */
final class ReadDeadline {

    private final long limitNanos;
    private final LongSupplier nanoTime;
    private long deadline;

    ReadDeadline(Duration limit, LongSupplier nanoTime) {
        this.limitNanos = limit.toNanos();
        this.nanoTime = nanoTime;
        this.deadline = nanoTime.getAsLong() + limitNanos;
    }

    /** Something came: the limit counts again from now. */
    void progressed() {
        deadline = nanoTime.getAsLong() + limitNanos;
    }

    /** Whether nothing came for the whole limit. */
    boolean passed() {
        return nanoTime.getAsLong() - deadline > 0;
    }
}
