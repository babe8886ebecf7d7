package dev.ferry.domain.model;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One received message as the core sees it, whatever transport brought it.
 *
 * @param id              the transport's message id (SQS MessageId, Kafka topic-partition@offset)
 * @param body            the raw body; not copied, callers must not mutate it
 * @param attributes      message and system attributes (SenderId, SequenceNumber, ...), never null
 * @param receiveCount    how many times the transport has handed this message out, >= 1
 * @param sentAt          when the message was sent to the transport
 * @param groupKey        ordering key (FIFO MessageGroupId, Kafka record key), null when unordered
 * @param deduplicationId transport-level dedup id, null when absent
 * @param source          the name of the source it came from
 * @param receipt         opaque token the source's acknowledger uses to settle it
 */
public record Delivery(
        String id,
        byte[] body,
        Map<String, String> attributes,
        int receiveCount,
        Instant sentAt,
        String groupKey,
        String deduplicationId,
        String source,
        Object receipt) {

    public Delivery {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(sentAt, "sentAt");
        Objects.requireNonNull(source, "source");
        // read-only: a handler's put changed what the engine reads of the delivery after it (a release's pass, a mark)
        attributes = attributes == null ? Map.of() : java.util.Collections.unmodifiableMap(attributes);
        if (receiveCount < 1) {
            throw new IllegalArgumentException("receiveCount must be >= 1, was " + receiveCount + " for message " + id);
        }
    }

    /** The ordering key, if this delivery belongs to a group. */
    public Optional<String> group() {
        return Optional.ofNullable(groupKey);
    }

    /** An attribute's value, if present. */
    public Optional<String> attribute(String name) {
        return Optional.ofNullable(attributes.get(name));
    }

    @Override
    public String toString() {
        return "Delivery[" + id + " from " + source + ", " + body.length + " bytes, receive #" + receiveCount
                + (groupKey == null ? "" : ", group " + groupKey) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Delivery d && d.id.equals(id) && d.source.equals(source)
                && d.receiveCount == receiveCount && Objects.equals(d.receipt, receipt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, source, receiveCount);
    }
}
