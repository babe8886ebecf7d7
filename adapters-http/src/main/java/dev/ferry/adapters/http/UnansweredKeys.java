package dev.ferry.adapters.http;

import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The events of an {@link HttpSink}, each at its target ({@link #at}), that an attempt of went unanswered — no
 * answer within the timeout, a refused or reset connection, a gateway's 502 to 504: whatever
 * {@link Attempt#unreachable()} marks — and that have not been answered since. For one of these a 409 "key in
 * use" is the endpoint still at work on the request that went unanswered. The domain's {@code Outage} times
 * such events but cannot be asked whether one is among them, so they are kept here. Remembered for the
 * outage's patience (a minute at least) after their last unanswered attempt, at most {@link #MAX_KEYS} at
 * once (the one noted longest ago forgotten first). Thread-safe.
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

    /**
     * What the sink remembers an event under — here, and in its outage's timing: its key at the target its requests went
     * to. A url of {@code {attr.partner}} sends two sources' events of one key to two receivers; remembered by the key
     * alone, one's 2xx forgot the other's request still at work (its 409s spent attempts), and one's outage past the
     * patience made the other's first failure {@code Retry}. The target's length first: no target and key make another's.
     * Long ones are hashed where they are held ({@code LedgerKeys.bounded}), as a long key alone was.
     */
    static String at(java.net.URI target, String key) {
        String to = target.toString();
        return to.length() + ":" + to + " " + key;
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

    /** Whether any key is remembered: read on the path of every answer. */
    boolean any() {
        return since.any();
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
