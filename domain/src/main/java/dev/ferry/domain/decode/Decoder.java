package dev.ferry.domain.decode;

import dev.ferry.domain.model.Delivery;

/**
 * Port: turns a delivery's body into events.
 *
 * <p>Contract: never throws for bad input — a body it cannot read is {@link Decoded.Malformed}
 * with a reason naming the field or offset; it never hangs (size and depth are bounded by the
 * implementation). Implementations are stateless or thread-safe: the engine calls one decoder
 * from many threads at once. An exception that escapes anyway is treated by the engine as
 * {@code Malformed} with the exception's message.
 */
@FunctionalInterface
public interface Decoder {

    Decoded decode(Delivery delivery);
}
