package dev.ferry.domain.testing;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.function.Supplier;

/** The system's clock in UTC, but a read throws whatever {@code fault} gives at that moment (null: none). */
public final class FaultyClock extends Clock {

    private final Supplier<? extends Throwable> fault;

    public FaultyClock(Supplier<? extends Throwable> fault) {
        this.fault = Objects.requireNonNull(fault, "fault");
    }

    @Override
    public Instant instant() {
        var thrown = fault.get();
        if (thrown instanceof RuntimeException e) {
            throw e;
        }
        if (thrown instanceof Error e) {
            throw e;
        }
        if (thrown != null) {
            throw new IllegalStateException(thrown);
        }
        return Instant.now();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
