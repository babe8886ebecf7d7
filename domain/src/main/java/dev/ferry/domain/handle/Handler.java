package dev.ferry.domain.handle;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;

/**
 * Port: acts on one event. This is the code a user hands Ferry.
 *
 * <p>Contract: returns an {@link Outcome}; called from several threads at once for events of
 * different groups, never concurrently for two events of the same group. A thrown exception is
 * taken as {@code Retry} with the exception's message — it never stops the listener. With the
 * idempotency ledger on, a handler is not called twice for an event whose effect completed.
 */
@FunctionalInterface
public interface Handler {

    Outcome handle(Event event, Delivery delivery);
}
