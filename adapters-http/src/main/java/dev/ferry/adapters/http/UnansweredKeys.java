package dev.ferry.adapters.http;

import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
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

    private final long forgetNanos;
    private final LongSupplier nanoTime;
    /** Each event and when its last attempt went unanswered (nanoTime), noted longest ago first; guarded by this. */
    private final Map<String, Long> since = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_KEYS;
        }
    };
    /** Whether any event is remembered: read without the lock on the path of every answer. */
    private volatile boolean any;

    UnansweredKeys(Duration patience) {
        this(patience, System::nanoTime);
    }

    UnansweredKeys(Duration patience, LongSupplier nanoTime) {
        this.forgetNanos = Math.max(Durations.nanos(patience), AT_LEAST_NANOS);
        this.nanoTime = nanoTime;
    }

    /** An attempt of {@code key} went unanswered. */
    void add(String key) {
        String held = held(key);
        synchronized (this) {
            since.remove(held); // put back last: the map stays ordered by when each was noted
            since.put(held, nanoTime.getAsLong());
            any = true;
        }
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
        if (!any) {
            return false;
        }
        synchronized (this) {
            forgetOld();
            return since.containsKey(held(key));
        }
    }

    /** {@code key} was answered (taken, refused, or a 409 with nothing unanswered before it): its wait is over. */
    void remove(String key) {
        if (!any) {
            return;
        }
        synchronized (this) {
            since.remove(held(key));
            forgetOld(); // and those that went elsewhere (the DLQ, a stop) and were never answered here
        }
    }

    /** Events remembered now (for tests). */
    synchronized int size() {
        return since.size();
    }

    private void forgetOld() {
        long now = nanoTime.getAsLong();
        for (var it = since.values().iterator(); it.hasNext(); ) {
            if (now - it.next() <= forgetNanos) {
                break; // noted longest ago first: the rest are younger
            }
            it.remove();
        }
        any = !since.isEmpty();
    }
}
