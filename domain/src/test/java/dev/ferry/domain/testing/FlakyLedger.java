package dev.ferry.domain.testing;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.model.FerryException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A real in-memory ledger with a fault switch: while a fault is set, every call fails the way it
 * says (throws a store error, throws an {@code Error}, or answers {@code null} like a broken
 * plugin). Records every key it was asked about.
 */
public final class FlakyLedger implements IdempotencyLedger {

    /** How calls fail while the switch is on. */
    public enum Fault { NONE, STORE_DOWN, ERROR, NULL_ANSWER }

    private final IdempotencyLedger inner;
    private volatile Fault fault = Fault.NONE;
    public final AtomicInteger failedCalls = new AtomicInteger();
    public final List<String> keys = new CopyOnWriteArrayList<>();

    public FlakyLedger(IdempotencyLedger inner) {
        this.inner = inner;
    }

    public static FlakyLedger create() {
        return new FlakyLedger(InMemoryLedger.create());
    }

    public void fault(Fault fault) {
        this.fault = fault;
    }

    private <T> T call(Supplier<T> body, T nullAnswer) {
        switch (fault) {
            case STORE_DOWN -> {
                failedCalls.incrementAndGet();
                throw new FerryException("ledger unreachable (injected)", true);
            }
            case ERROR -> {
                failedCalls.incrementAndGet();
                throw new NoClassDefFoundError("com/example/plugin/LedgerClient (injected)");
            }
            case NULL_ANSWER -> {
                failedCalls.incrementAndGet();
                return nullAnswer;
            }
            default -> {
                return body.get();
            }
        }
    }

    @Override
    public Claim claim(String key, Duration lease) {
        keys.add(key);
        return call(() -> inner.claim(key, lease), null);
    }

    @Override
    public boolean complete(String key, long token, Duration ttl) {
        return call(() -> inner.complete(key, token, ttl), false);
    }

    @Override
    public boolean release(String key, long token) {
        return call(() -> inner.release(key, token), false);
    }

    @Override
    public boolean extend(String key, long token, Duration lease) {
        return call(() -> inner.extend(key, token, lease), false);
    }

    @Override
    public boolean extend(String key, long token, Duration lease, Duration answerWithin) {
        return call(() -> inner.extend(key, token, lease, answerWithin), false); // the bound forwarded with it
    }
}
