package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;

/**
 * Amazon SNS notifications delivered to SQS. A {@code Notification} envelope is unwrapped and its
 * {@code Message} decoded by the next decoder, with the envelope's TopicArn, MessageId, Subject,
 * Timestamp and MessageAttributes added to the delivery's attributes ({@code sns.*}). Subscription
 * and unsubscribe confirmations become one event of type {@code sns:SubscriptionConfirmation} /
 * {@code sns:UnsubscribeConfirmation} — recognised, never handed on as payload. A body without an
 * envelope (raw message delivery) goes to the next decoder as it is.
 */
final class SnsDecoder extends JsonSupport {

    private final Decoder next;

    SnsDecoder(JsonLimits limits, Decoder next) {
        super(limits);
        this.next = next;
    }

    /** The envelope's fields and each message attribute's, on both paths. */
    static final Fields ENVELOPE = Fields.of("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
            "SubscribeURL", "MessageAttributes");
    static final int TYPE = 0;
    static final int MESSAGE_ID = 1;
    static final int TOPIC_ARN = 2;
    static final int SUBJECT = 3;
    static final int MESSAGE = 4;
    static final int TIMESTAMP = 5;
    static final int MESSAGE_ATTRIBUTES = 7;
    static final Fields ATTRIBUTE = Fields.of("Value");

    private static final class Envelope {
        final String[] fields = new String[MESSAGE_ATTRIBUTES];
        Map<String, String> attributes;
    }

    private static void envelopeField(Envelope e, JsonParser p, int field, JsonToken t) throws IOException, Failure {
        if (field == MESSAGE_ATTRIBUTES) {
            e.attributes = messageAttributes(p, t);
        } else {
            e.fields[field] = string(p, t, null, -1, ENVELOPE.name(field));
        }
    }

    /** Whether the body's object has both a Type and a TopicArn member, whatever their values: an envelope. */
    private boolean envelope(Delivery delivery) throws IOException {
        boolean type = false;
        boolean topicArn = false;
        try (JsonParser p = parsers.parser(delivery.body())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                type |= "Type".equals(p.currentName());
                topicArn |= "TopicArn".equals(p.currentName());
                p.nextToken();
                p.skipChildren();
            }
        }
        return type && topicArn;
    }

    /** The index of the first surrogate not part of a pair, or -1. */
    static int loneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    Decoder next() {
        return next;
    }

    /**
     * The next decoder's answer. What it throws (an {@code Error} too) is not the body's fault: it is
     * carried past both paths' handlers and thrown on as it was, once (see {@link InnerThrew}).
     */
    Decoded decodeNext(Delivery delivery) {
        Decoded decoded;
        try {
            decoded = next.decode(delivery);
        } catch (Throwable e) {
            throw new InnerThrew(e);
        }
        if (decoded == null) { // a failure of the inner decoder, as a throw is: not the body's fault, and asked once
            throw new InnerThrew(new IllegalStateException(
                    "the decoder of the SNS message returned null (a decoder must return Events or Malformed)"));
        }
        return decoded;
    }

    /**
     * The most MessageAttributes an envelope may carry (SNS sends at most 10): each inner event carries
     * them all, so a body of many events and many attributes would cost every sink and matcher their product.
     */
    static final int MAX_MESSAGE_ATTRIBUTES = 100;

    static String tooManyAttributes() {
        return "MessageAttributes: more than " + MAX_MESSAGE_ATTRIBUTES + " attributes (SNS sends at most 10)";
    }

    @Override
    protected Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return decodeNext(delivery);
        }
        var e = new Envelope();
        try {
            Members.object(p, ENVELOPE, SnsDecoder::envelopeField, e);
        } catch (Failure f) {
            // a field named like one of the envelope's but of another type: a fault only in an envelope
            if (!envelope(delivery)) {
                return decodeNext(delivery);
            }
            throw f;
        }
        expectEnd(p);
        String type = e.fields[TYPE];
        String messageId = e.fields[MESSAGE_ID];
        String topicArn = e.fields[TOPIC_ARN];
        String subject = e.fields[SUBJECT];
        String message = e.fields[MESSAGE];
        String timestamp = e.fields[TIMESTAMP];
        String subscribeUrl = e.fields[6];
        var messageAttributes = e.attributes;
        if (type == null || topicArn == null) {
            return decodeNext(delivery);
        }
        switch (type) {
            case "Notification" -> {
                if (message == null) {
                    throw new Failure("Message: missing in an SNS Notification from " + topicArn);
                }
                int lone = loneSurrogate(message);
                if (lone >= 0) { // not text: as UTF-8 it would turn into '?', and another message's key
                    throw new Failure("Message: a lone surrogate (\\u" + Integer.toHexString(message.charAt(lone))
                            + ") at character " + lone + " is not text");
                }
                var envelope = MergedMap.of(new FlatMap.Builder(4).put("sns.TopicArn", topicArn)
                        .put("sns.MessageId", messageId).put("sns.Subject", subject).put("sns.Timestamp", timestamp)
                        .build(), messageAttributes == null ? Map.of() : messageAttributes);
                return inner(delivery, message.getBytes(StandardCharsets.UTF_8), topicArn, envelope);
            }
            case "SubscriptionConfirmation", "UnsubscribeConfirmation" -> {
                var attributes = new FlatMap.Builder(3).put("TopicArn", topicArn).put("SubscribeURL", subscribeUrl)
                        .put("MessageId", messageId).build();
                var key = "sns:" + (messageId != null ? messageId : delivery.id());
                return Decoded.of(List.of(new Event(key, "sns:" + type, instant(timestamp, "Timestamp"), null,
                        delivery.body(), attributes)));
            }
            default -> throw new Failure("Type: unknown SNS message type \"" + clip(type)
                    + "\", expected Notification, SubscriptionConfirmation or UnsubscribeConfirmation");
        }
    }

    /** A tombstone has no envelope: typed as the inner decoder would type it. */
    @Override
    protected String tombstoneType() {
        return next instanceof JsonSupport inner ? inner.tombstoneType() : super.tombstoneType();
    }

    /** As unique as what the envelope carries. */
    @Override
    public boolean keysUniqueByNature() {
        return next.keysUniqueByNature();
    }

    /**
     * Decodes the inner message with the next decoder; each event gets the envelope's attributes
     * ({@code sns.TopicArn}, {@code sns.MessageId}, {@code sns.Subject}, {@code sns.Timestamp} and
     * the MessageAttributes by name) under its own, which win where a name is in both.
     */
    Decoded inner(Delivery delivery, byte[] message, String topicArn, Map<String, String> envelope) {
        // SNS delivers at least once: the same notification in two SQS messages is deduplicated by its own id (what
        // the raw decoder keys an event by), not by the SQS message that happened to carry it
        var snsMessageId = envelope.get("sns.MessageId");
        var outer = delivery.deduplicationId();
        var inner = new Delivery(delivery.id(), message, delivery.attributes(), delivery.receiveCount(),
                delivery.sentAt(), delivery.groupKey(), snsMessageId != null && !snsMessageId.isEmpty()
                ? "sns:" + snsMessageId
                // an envelope without an id on a content-based FIFO queue: the envelope's hash is SQS's five minutes, not
                // an identity — passed on, the inner body no longer matched it, and an envelope sent again an hour later
                // was dropped as a duplicate
                : outer != null && RawDecoder.sqsContentBased(delivery, outer) ? null : outer,
                delivery.source(), delivery.receipt());
        var decoded = decodeNext(inner);
        try {
            return merged(decoded, topicArn, envelope);
        } catch (Throwable e) {
            // reading what the inner decoder returned (an attribute map of its own whose methods throw) is its failure
            // too: caught by the fast path's handler, the body was read again by Jackson, the inner decoder asked a
            // second time, and the message dead-lettered as malformed
            throw new InnerThrew(e);
        }
    }

    private Decoded merged(Decoded decoded, String topicArn, Map<String, String> envelope) {
        return switch (decoded) {
            case Decoded.Malformed m -> Decoded.malformed("SNS Message from " + topicArn + ": " + m.reason());
            case Decoded.Events e when e.events().size() > 1 && copiedTooMuch(envelope, e.events().size()) ->
                    Decoded.malformed("SNS envelope from " + topicArn + ": its Subject, ids and MessageAttributes ("
                            + chars(envelope) + " characters) go with each of the message's " + e.events().size()
                            + " events, more than " + MAX_COPIED + " characters in all");
            case Decoded.Events e -> {
                var events = new Event[e.events().size()];
                for (int i = 0; i < events.length; i++) {
                    var x = e.events().get(i);
                    events[i] = new Event(x.key(), x.type(), x.time(), x.groupKey(), x.payload(),
                            MergedMap.of(x.attributes(), envelope));
                }
                yield Decoded.of(List.of(events));
            }
        };
    }

    /**
     * The most characters of envelope attributes copied onto a message's events in all: each event carries them, so
     * three Subject-sized strings of 256 KiB over 6,000 tiny S3 records were gigabytes written by a file sink and
     * read by every attribute route. One event may carry an envelope of any size.
     */
    static final int MAX_COPIED = 1 << 20;

    private static boolean copiedTooMuch(Map<String, String> envelope, int events) {
        return (long) chars(envelope) * events > MAX_COPIED;
    }

    private static long chars(Map<String, String> envelope) {
        long chars = 0;
        for (var entry : envelope.entrySet()) {
            chars += entry.getKey().length() + (entry.getValue() == null ? 0 : entry.getValue().length());
        }
        return chars;
    }

    private static Map<String, String> messageAttributes(JsonParser p, JsonToken t) throws IOException, Failure {
        expect(t, JsonToken.START_OBJECT, "MessageAttributes", "an object");
        var attributes = new LinkedHashMap<String, String>();
        String name;
        int count = 0;
        while ((name = p.nextFieldName()) != null) {
            if (++count > MAX_MESSAGE_ATTRIBUTES) {
                throw new Failure(tooManyAttributes());
            }
            var path = "MessageAttributes." + name;
            expect(p.nextToken(), JsonToken.START_OBJECT, path, "an object with Type and Value");
            // not Members.object: a Value twice has always let the last one win here, as SNS's own parsers do
            String field;
            while ((field = p.nextFieldName()) != null) {
                var v = p.nextToken();
                if (field.equals("Value")) {
                    var value = string(p, v, path + ".Value");
                    if (value != null) {
                        attributes.put(name, value);
                    } else {
                        attributes.remove(name);
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        // read-only, as the fast path's: shared by every event of the message, a handler's put showed in the others
        return java.util.Collections.unmodifiableMap(attributes);
    }

    private final SnsFastPath fastPath = new SnsFastPath(scan, this);

    @Override
    protected Decoded fast(byte[] b, Delivery delivery) {
        return fastPath.decode(b, delivery);
    }
}
