package dev.ferry.domain.decode;

import dev.ferry.domain.model.Delivery;

/**
 * Port: turns a delivery's body into events.
 *
 * <p>Contract: never throws for bad input — a body it cannot read is {@link Decoded.Malformed}
 * with a reason naming the field or offset; it never hangs (size and depth are bounded by the
 * implementation). Implementations are stateless or thread-safe: the engine calls one decoder
 * from many threads at once. An exception (or {@code null}) that escapes anyway is a failure of the
 * delivery: tried again with backoff, dead-lettered with the exception's message when attempts run out.
 */
@FunctionalInterface
public interface Decoder {

    Decoded decode(Delivery delivery);

    /**
     * True when the event keys this decoder makes are unique by nature, whatever source the body
     * came through (an S3 sequencer, an MTurk EventDocId): the listener then keeps them in the
     * ledger's shared scope, so one event reaching two sources is handled once. False (the default)
     * for ids that only mean something within one stream (a message id, a JSON field): those are
     * scoped to their source. See {@link dev.ferry.domain.idempotency.LedgerKeys}.
     */
    default boolean keysUniqueByNature() {
        return false;
    }
}
