package dev.ferry.codecs;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.util.List;

/**
 * Text or bytes as they are: one event per delivery, keyed by the transport's deduplication id or
 * message id, grouped by the delivery's group key, with the body as payload. Only the size limit applies.
 *
 * <p>A deduplication id that SQS handed out (its {@code MessageDeduplicationId} attribute) and that
 * is the SHA-256 of the body is SQS's content-based deduplication, not an identity the sender chose:
 * SQS itself forgets it after 5 minutes, and the same body sent an hour later is a new event. Such
 * messages are keyed by their message id (which a redelivery keeps), so the ledger never drops a
 * legitimate resend for its whole TTL. Any other deduplication id — an HTTP {@code Idempotency-Key}
 * a client derived from the content, say — is the sender's identity, whatever it looks like.
 */
final class RawDecoder implements Decoder {

    /** The system attribute an SQS source hands out the deduplication id under. */
    private static final String SQS_DEDUPLICATION_ID = "MessageDeduplicationId";

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
        return Decoded.of(List.of(event(delivery, type)));
    }

    /**
     * The delivery as one event of {@code type}: keyed by its deduplication id, else its message id; its body, group
     * and attributes as they are (their values themselves: a Kafka tombstone's mark is known by its instance), the
     * delivery's own read-only map ({@code Delivery} makes it so).
     */
    static Event event(Delivery delivery, String type) {
        var dedup = delivery.deduplicationId();
        var key = dedup != null && !dedup.isEmpty() && !sqsContentBased(delivery, dedup) ? dedup : delivery.id();
        return new Event(key, type, delivery.sentAt(), delivery.groupKey(), delivery.body(), delivery.attributes());
    }

    /** True when SQS handed {@code dedup} out as the message's deduplication id and it is the body's hash. */
    static boolean sqsContentBased(Delivery delivery, String dedup) {
        return dedup.equals(delivery.attributes().get(SQS_DEDUPLICATION_ID)) && isContentHash(dedup, delivery.body());
    }

    /** True when {@code id} is the hex SHA-256 of {@code body}: content-based deduplication. */
    static boolean isContentHash(String id, byte[] body) {
        if (id.length() != 64) {
            return false;
        }
        try {
            var hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
            return hex.equalsIgnoreCase(id);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
