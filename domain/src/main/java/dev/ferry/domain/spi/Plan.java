package dev.ferry.domain.spi;

/**
 * What an adapter made of its settings: checked, not yet started. {@code ferry validate} stops
 * here; {@code ferry run} opens every plan. Opening may connect, bind ports and create clients.
 *
 * @param <T> what opening gives: a {@link dev.ferry.domain.transport.Sink}, an {@link OpenedSource},
 *            an {@link dev.ferry.domain.idempotency.IdempotencyLedger}
 */
@FunctionalInterface
public interface Plan<T> {

    T open(AdapterContext context);
}
