package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import java.util.List;

/**
 * The receives whose message the transport took away lately (an ack or a dead letter it answered for), and those it
 * is asked to take now: a handler's settle of one of them again — a callback that fired twice, a handler that returned
 * and settled too — is refused, or a handled message's copy reached the DLQ. The last {@link #SIZE} are kept, by the
 * id's hash and length, receive count and the receipt's identity hash (never the id itself — an HTTP key of 1,024
 * characters kept 16,384 times was 17 MB a listener — nor a body or the receipt): a Kafka record read again, an HTTP
 * event sent again under its key, have the id and count of one removed before, and another receipt. Guarded by the
 * settler's lock on what it is sending.
 */
final class RecentRemovals {

    static final int SIZE = 1 << 14;

    private final long[] ids = new long[SIZE];
    private final int[] receives = new int[SIZE];
    private final int[] receipts = new int[SIZE];
    private int next;

    void record(Delivery delivery) {
        int i = next;
        ids[i] = idOf(delivery);
        receives[i] = delivery.receiveCount();
        receipts[i] = System.identityHashCode(delivery.receipt());
        next = (i + 1) & (SIZE - 1);
    }

    /** Whether {@code delivery}'s receive was taken away lately, or is queued or sent to be. */
    boolean has(Delivery delivery, SettlementQueue pending, List<List<SettlementQueue.Queued>> sending) {
        int receipt = System.identityHashCode(delivery.receipt());
        long id = idOf(delivery);
        for (int i = 0; i < SIZE; i++) {
            if (receipts[i] == receipt && receives[i] == delivery.receiveCount() && ids[i] == id) {
                return true;
            }
        }
        for (var batch : sending) {
            for (var q : batch) {
                if (removes(q, delivery)) {
                    return true;
                }
            }
        }
        for (var q : pending.queued()) {
            if (removes(q, delivery)) {
                return true;
            }
        }
        return false;
    }

    /** The id's hash (a String caches it) and length: never 0 for a kept one, as a slot not yet written is. */
    private static long idOf(Delivery delivery) {
        String id = delivery.id();
        return (long) id.hashCode() << 32 | (id.length() + 1L) & 0xFFFF_FFFFL;
    }

    private static boolean removes(SettlementQueue.Queued q, Delivery delivery) {
        var s = q.settlement();
        return (s.disposition() instanceof Disposition.Ack || s.disposition() instanceof Disposition.DeadLetter)
                && s.delivery().equals(delivery);
    }
}
