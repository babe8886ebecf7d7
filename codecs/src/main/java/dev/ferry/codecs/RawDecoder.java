package dev.ferry.codecs;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.util.List;

/**
 * Text or bytes as they are: one event per delivery, keyed by the transport's deduplication id or
 * message id, grouped by the delivery's group key, with the body as payload. Only the size limit applies.
 */
final class RawDecoder implements Decoder {

    private final String type;
    private final int maxBodyBytes;

    RawDecoder(String type, int maxBodyBytes) {
        this.type = type;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public Decoded decode(Delivery delivery) {
        if (delivery.body().length > maxBodyBytes) {
            return Decoded.malformed("body of " + delivery.body().length + " bytes is larger than the limit of "
                    + maxBodyBytes + " bytes");
        }
        var key = delivery.deduplicationId() != null ? delivery.deduplicationId() : delivery.id();
        return Decoded.of(List.of(new Event(key, type, delivery.sentAt(), delivery.groupKey(), delivery.body(),
                delivery.attributes())));
    }
}
