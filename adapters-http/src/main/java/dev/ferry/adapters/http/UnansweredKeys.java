package dev.ferry.adapters.http;

import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The events of an {@link HttpSink} that an attempt of went unanswered — no answer within the timeout, a
 * refused or reset connection, a gateway's 502 to 504: whatever {@link Attempt#unreachable()} marks — and
 * that have not been answered since. For one of these a 409 "key in use" is the endpoint still at work on
 * the request that went unanswered. The domain's {@code Outage} times such events but cannot be asked
 * whether one is among them, so they are kept here. Remembered for the outage's patience (a minute at
 * least) after their last unanswered attempt, at most {@link #MAX_KEYS} at once (the one noted longest ago
 * forgotten first). Thread-safe.
 */
final class UnansweredKeys {

    /** Events remembered at once, as many as a listener holds in flight at most. */
    static final int MAX_KEYS = 100_000;
    /** Remembered at least this long: a patience of zero still waits nothing, but a 409 right after is still known. */
    private static final long AT_LEAST_NANOS = Duration.ofMinutes(1).toNanos();

    /** Each event, from its last attempt that went unanswered. */
    private final RememberedKeys<Boolean> since;

    UnansweredKeys(Duration patience) {
        this(patience, System::nanoTime);
    }

    UnansweredKeys(Duration patience, LongSupplier nanoTime) {
        this.since = new RememberedKeys<>(MAX_KEYS, Math.max(Durations.nanos(patience), AT_LEAST_NANOS), nanoTime);
    }

    /** An attempt of {@code key} went unanswered. */
    void add(String key) {
        since.put(held(key), Boolean.TRUE);
    }

    /**
     * {@code key} as the ledger holds it: an idempotency key a client sent, up to what its header allows, or an event id
     * as long as a JSON string may be, is hashed past 1 KiB — kept whole for each request unanswered, they held
     * gigabytes while a sink was down.
     */
    private static String held(String key) {
        return dev.ferry.domain.idempotency.LedgerKeys.bounded(key);
    }

    /** Whether an attempt of {@code key} went unanswered, within the time remembered, and nothing answered it since. */
    boolean contains(String key) {
        return since.any() && since.get(held(key)) != null;
    }

    /** {@code key} was answered (taken, refused, or a 409 with nothing unanswered before it): its wait is over. */
    void remove(String key) {
        if (since.any()) { // and those past their time, that went elsewhere (the DLQ, a stop), are forgotten with it
            since.removeIf(held(key), unanswered -> true);
        }
    }

    /** Events remembered now (for tests). */
    int size() {
        return since.size();
    }
}
