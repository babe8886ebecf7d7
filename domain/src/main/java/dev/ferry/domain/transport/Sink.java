package dev.ferry.domain.transport;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;

/**
 * Port: where events go (another queue, a Kafka topic, an HTTP endpoint, a log).
 *
 * <p>Contract: {@link #publish} returns only once the destination confirmed the event
 * ({@code Done}) or it is clear it did not: {@code Retry} for failures that may pass,
 * {@code Throttled} when the destination asked to slow down, {@code Reject} when the event can
 * never be accepted. It does not throw for a failed send. Thread-safe.
 */
public interface Sink extends AutoCloseable {

    String name();

    Outcome publish(Event event);

    /**
     * What holds this sink back right now (the HTTP sink's open circuit breaker, say), for health
     * reports; empty when nothing does. Cheap: called on every health probe.
     */
    default java.util.Optional<String> holdingBack() {
        return java.util.Optional.empty();
    }

    /**
     * What {@link #holdingBack()} says, as the health endpoints show it to anyone who reaches them (no
     * token): where the calls go and how they fail, without what the service answered — an error body may
     * echo a credential or the payload's fields. By default the same text: a sink whose reasons quote the
     * service's answers says less here.
     */
    default java.util.Optional<String> holdingBackInBrief() {
        return holdingBack();
    }

    @Override
    default void close() {
    }
}
