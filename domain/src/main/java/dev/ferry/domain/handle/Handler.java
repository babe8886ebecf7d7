package dev.ferry.domain.handle;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;

/**
 * Port: acts on one event. This is the code a user hands Ferry.
 *
 * <p>Contract: returns an {@link Outcome}; called from several threads at once for events of
 * different groups, never concurrently for two events of the same group of one listener. Groups are
 * a listener's own: one handler given to two listeners (the packaged app gives its routes to every
 * source) may be called at once for a group of the same name on each. A thrown exception is
 * taken as {@code Retry} with the exception's message — it never stops the listener — except a
 * {@link HeldElsewhereException} (part of the work is another worker's for now) and a
 * {@link LedgerFailedException} (the handler's own ledger call failed): the delivery waits in hand,
 * no attempt spent. A decorator that catches exceptions should let those through (or keep them as
 * the cause of what it throws). With the
 * idempotency ledger on, a handler is not called twice for an event whose effect completed.
 */
@FunctionalInterface
public interface Handler {

    Outcome handle(Event event, Delivery delivery);
}
