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

    @Override
    default void close() {
    }
}
