package dev.ferry.domain.model;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One decoded event. A delivery may carry several (MTurk {@code Events[]}, S3 {@code Records[]}).
 *
 * @param key        idempotency key: two deliveries carrying the same event yield the same key
 * @param type       event type used for routing (e.g. {@code AssignmentSubmitted}, {@code ObjectCreated:Put})
 * @param time       when the event happened, null when the format has no time
 * @param groupKey   ordering key within the event's stream, null when unordered
 * @param payload    the bytes a sink forwards; not copied, callers must not mutate it
 * @param attributes decoded fields worth routing or forwarding on (bucket, objectKey, HITId, ...)
 */
public record Event(
        String key,
        String type,
        Instant time,
        String groupKey,
        byte[] payload,
        Map<String, String> attributes) {

    public Event {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("event key must be non-empty, was " + (key == null ? "null" : "''"));
        }
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
        attributes = attributes == null ? Map.of() : attributes;
    }

    public static Event of(String key, String type, byte[] payload) {
        return new Event(key, type, null, null, payload, Map.of());
    }

    public Optional<String> group() {
        return Optional.ofNullable(groupKey);
    }

    public Optional<Instant> occurredAt() {
        return Optional.ofNullable(time);
    }

    public Optional<String> attribute(String name) {
        return Optional.ofNullable(attributes.get(name));
    }

    public String payloadAsString() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "Event[" + type + " " + key + (groupKey == null ? "" : " group " + groupKey) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Event e && e.key.equals(key) && e.type.equals(type)
                && Objects.equals(e.groupKey, groupKey) && java.util.Arrays.equals(e.payload, payload)
                && Objects.equals(e.time, time) && e.attributes.equals(attributes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, type, groupKey);
    }
}
