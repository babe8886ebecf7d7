package dev.ferry.adapters.sqs;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a FIFO queue stored altered (SQS's answer carried the MD5 of another body or other attributes), and
 * how many times: the next copy goes under a deduplication id of its own. Sent again under the same id, the
 * good copy would be dropped as a duplicate of the damaged one, and SQS answers a dropped duplicate with the
 * hash of what was sent — confirmed, with only the damaged message kept. Rare (damage on the way), so the
 * memory is bounded and starts again past {@link #MAX}. Thread-safe.
 */
final class AlteredCopies {

    /** Altered copies remembered at most. */
    static final int MAX = 10_000;

    private final Map<String, Integer> altered = new ConcurrentHashMap<>();

    /** Records that a copy of {@code id} was stored altered. */
    void altered(String id) {
        if (altered.size() >= MAX) {
            altered.clear();
        }
        altered.merge(dev.ferry.domain.idempotency.LedgerKeys.bounded(id), 1, Integer::sum); // an event key may be 256 Ki chars
    }

    /**
     * An event's deduplication id: its key, or after {@code times} copies stored altered one of its own — a hash (a
     * NUL is hashed), so that no other event's key is ever the same id (nor a key spelled like a hash: hashed as well).
     */
    static String eventDedupId(String key, Integer times) {
        return SqsIds.dedupId(times == null ? key : "\u0000altered-" + times + "\u0000" + key);
    }

    /** How many copies of {@code id} were stored altered; null for none. */
    Integer times(String id) {
        return altered.isEmpty() ? null : altered.get(dev.ferry.domain.idempotency.LedgerKeys.bounded(id));
    }
}
