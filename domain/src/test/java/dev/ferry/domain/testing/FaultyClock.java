package dev.ferry.domain.testing;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/** The system's clock in UTC, but a read throws whatever {@code fault} gives at that moment (null: none). */
public final class FaultyClock extends Clock {

    private final Supplier<? extends Throwable> fault;

    public FaultyClock(Supplier<? extends Throwable> fault) {
        this.fault = Objects.requireNonNull(fault, "fault");
    }

    /**
     * A clock that throws {@code error} on its first read made while {@code method} of {@code owner} is on the stack
     * and {@code armed} is set, which it clears: one fault, at one place, when the test says.
     */
    public static FaultyClock onceWithin(Class<?> owner, String method, AtomicBoolean armed, Throwable error) {
        return new FaultyClock(() -> StackWalker.getInstance().walk(frames -> frames.anyMatch(
                f -> f.getClassName().equals(owner.getName()) && f.getMethodName().equals(method)))
                && armed.compareAndSet(true, false) ? error : null);
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
