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

    /**
     * For a sink's plan: the longest one publish takes when its destination does not answer — its
     * timeouts, in-process retries and their pauses — before the sink answers by itself (an outage
     * waited out, a retry). The listener's handler timeout must outlast it, or a destination that hangs
     * has the call interrupted and an attempt spent instead. Zero (the default): not known.
     */
    default java.time.Duration longestCall() {
        return java.time.Duration.ZERO;
    }
}
