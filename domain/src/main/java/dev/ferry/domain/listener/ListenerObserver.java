package dev.ferry.domain.listener;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;

/**
 * Callbacks for metrics and logs. Called on the listener's threads: keep them quick and never
 * throw (an exception is caught and ignored). Every method has a no-op default.
 */
public interface ListenerObserver {

    ListenerObserver NONE = new ListenerObserver() { };

    default void received(Delivery delivery) {
    }

    /** One event handled, with its outcome and how long the handler took. */
    default void handled(Event event, Outcome outcome, long nanos) {
    }

    default void settled(Delivery delivery, Disposition disposition) {
    }

    default void leasesExtended(int count) {
    }

    default void stopped(ShutdownReport report) {
    }
}
