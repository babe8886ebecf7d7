package dev.ferry.domain.memory;

import java.time.Instant;
import java.util.Map;

/** One message as an {@link InMemoryQueue} keeps it, with its lease state. Guarded by the queue's lock. */
final class StoredMessage {

    /** What a delivery carries to settle it: which queue, which message, which receive. */
    record Receipt(String queue, String messageId, long sequence) {
    }

    final String id;
    final byte[] body;
    final Map<String, String> attributes;
    final String groupId;
    final String deduplicationId;
    final Instant sentAt;
    Instant visibleAt;
    int receiveCount;
    Receipt receipt;
    /** When it was last received: its invisibility ends 12 hours after at the latest. */
    Instant receivedAt;
    boolean leased;

    StoredMessage(String id, byte[] body, Map<String, String> attributes, String groupId, String deduplicationId,
                  Instant sentAt, Instant visibleAt) {
        this.id = id;
        this.body = body;
        this.attributes = attributes;
        this.groupId = groupId;
        this.deduplicationId = deduplicationId;
        this.sentAt = sentAt;
        this.visibleAt = visibleAt;
    }

    /** Leased to a consumer and its lease still running at {@code now}. */
    boolean inFlight(Instant now) {
        return leased && visibleAt.isAfter(now);
    }
}
