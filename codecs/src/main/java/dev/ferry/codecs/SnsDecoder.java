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

    @Override
    protected Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return next.decode(delivery);
        }
        String type = null;
        String messageId = null;
        String topicArn = null;
        String subject = null;
        String message = null;
        String timestamp = null;
        String subscribeUrl = null;
        Map<String, String> messageAttributes = null;
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            switch (name) {
                case "Type" -> {
                    seen = once(seen, 1, p, name);
                    type = string(p, t, null, -1, name);
                }
                case "MessageId" -> {
                    seen = once(seen, 2, p, name);
                    messageId = string(p, t, null, -1, name);
                }
                case "TopicArn" -> {
                    seen = once(seen, 4, p, name);
                    topicArn = string(p, t, null, -1, name);
                }
                case "Subject" -> {
                    seen = once(seen, 8, p, name);
                    subject = string(p, t, null, -1, name);
                }
                case "Message" -> {
                    seen = once(seen, 16, p, name);
                    message = string(p, t, null, -1, name);
                }
                case "Timestamp" -> {
                    seen = once(seen, 32, p, name);
                    timestamp = string(p, t, null, -1, name);
                }
                case "SubscribeURL" -> {
                    seen = once(seen, 64, p, name);
                    subscribeUrl = string(p, t, null, -1, name);
                }
                case "MessageAttributes" -> {
                    seen = once(seen, 128, p, name);
                    messageAttributes = messageAttributes(p, t);
                }
                default -> p.skipChildren();
            }
        }
        expectEnd(p);
        if (type == null || topicArn == null) {
            return next.decode(delivery);
        }
        switch (type) {
            case "Notification" -> {
                if (message == null) {
                    throw new Failure("Message: missing in an SNS Notification from " + topicArn);
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
    private Decoded inner(Delivery delivery, byte[] message, String topicArn, Map<String, String> envelope) {
        var inner = new Delivery(delivery.id(), message, delivery.attributes(), delivery.receiveCount(),
                delivery.sentAt(), delivery.groupKey(), delivery.deduplicationId(), delivery.source(), delivery.receipt());
        return switch (next.decode(inner)) {
            case Decoded.Malformed m -> Decoded.malformed("SNS Message from " + topicArn + ": " + m.reason());
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

    private static Map<String, String> messageAttributes(JsonParser p, JsonToken t) throws IOException, Failure {
        expect(t, JsonToken.START_OBJECT, "MessageAttributes", "an object");
        var attributes = new LinkedHashMap<String, String>();
        String name;
        while ((name = p.nextFieldName()) != null) {
            var path = "MessageAttributes." + name;
            expect(p.nextToken(), JsonToken.START_OBJECT, path, "an object with Type and Value");
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
        return attributes;
    }

    // ------------------------------------------------------------ fast path

    private static final byte[][] FIELDS = {Scan.ascii("Type"), Scan.ascii("MessageId"), Scan.ascii("TopicArn"),
        Scan.ascii("Subject"), Scan.ascii("Message"), Scan.ascii("Timestamp"), Scan.ascii("SubscribeURL")};
    private static final int TYPE = 0;
    private static final int MESSAGE_ID = 1;
    private static final int TOPIC_ARN = 2;
    private static final int SUBJECT = 3;
    private static final int MESSAGE = 4;
    private static final int TIMESTAMP = 5;
    private static final byte[] MESSAGE_ATTRIBUTES = Scan.ascii("MessageAttributes");
    private static final byte[] VALUE = Scan.ascii("Value");
    private static final byte[] NOTIFICATION = Scan.ascii("Notification");

    /** The envelope's attributes, in the Jackson path's order. */
    static final SpanMap.Shape SHAPE = SpanMap.Shape.of("sns.TopicArn", SpanMap.Kind.STRING,
            "sns.MessageId", SpanMap.Kind.STRING, "sns.Subject", SpanMap.Kind.STRING,
            "sns.Timestamp", SpanMap.Kind.STRING);

    @Override
    protected Decoded fast(byte[] b, Delivery delivery) {
        int p = Scan.ws(b, 0);
        if (p >= b.length || b[p] != '{') {
            return null;
        }
        var f = new int[2 * FIELDS.length];
        java.util.Arrays.fill(f, -1);
        String[] attributes = null;
        int attributeCount = 0;
        int seen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return null;
            }
            int field = field(b, ns, ne);
            int bit = field >= 0 ? 1 << field : 0;
            if (field >= 0) {
                p = scan.stringInto(b, p, f, 2 * field);
            } else if (Scan.is(b, ns, ne, MESSAGE_ATTRIBUTES)) {
                bit = 128;
                if (b[p] != '{') {
                    return null;
                }
                attributes = new String[8];
                int q = Scan.first(b, p + 1, (byte) '}');
                while (q >= 0) {
                    int an = q + 1;
                    int ae = scan.nameEnd(b, q);
                    if (ae < 0 || (q = Scan.valueStart(b, ae)) < 0 || b[q] != '{') {
                        return null;
                    }
                    var name = Scan.string(b, an, ae);
                    for (int i = 0; i < attributeCount; i++) {
                        if (attributes[2 * i].equals(name)) {
                            return null;
                        }
                    }
                    int valueStart = -1;
                    int valueEnd = -1;
                    int r = Scan.first(b, q + 1, (byte) '}');
                    while (r >= 0) {
                        int vn = r + 1;
                        int ve = scan.nameEnd(b, r);
                        if (ve < 0 || (r = Scan.valueStart(b, ve)) < 0) {
                            return null;
                        }
                        if (Scan.is(b, vn, ve, VALUE)) {
                            int end = scan.stringOrNull(b, r);
                            if (valueStart >= 0 || end == Scan.BAIL) {
                                return null;
                            }
                            if (end == Scan.NULL_VALUE) {
                                r += 4;
                            } else {
                                valueStart = r + 1;
                                valueEnd = end;
                                r = end + 1;
                            }
                        } else {
                            r = scan.skipMember(b, vn, ve, r, 3);
                        }
                        if (r < 0) {
                            return null;
                        }
                        r = Scan.next(b, r, (byte) '}');
                        if (r < Scan.BAIL) {
                            break;
                        }
                    }
                    if (r == Scan.BAIL) {
                        return null;
                    }
                    q = ~r;
                    if (2 * attributeCount + 2 > attributes.length) {
                        attributes = java.util.Arrays.copyOf(attributes, attributes.length * 2);
                    }
                    attributes[2 * attributeCount] = name;
                    attributes[2 * attributeCount + 1] = valueStart < 0 ? null : Scan.string(b, valueStart, valueEnd);
                    attributeCount++;
                    q = Scan.next(b, q, (byte) '}');
                    if (q < Scan.BAIL) {
                        break;
                    }
                }
                if (q == Scan.BAIL) {
                    return null;
                }
                p = ~q;
            } else {
                p = scan.skipMember(b, ns, ne, p, 1);
            }
            if (p < 0 || (seen & bit) != 0) {
                return null;
            }
            seen |= bit;
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                p = ~p;
                break;
            }
        }
        if (p < 0 || !Scan.atEnd(b, p)) {
            return null;
        }
        if (f[2 * TYPE] < 0 || f[2 * TOPIC_ARN] < 0) {
            return next.decode(delivery); // raw message delivery: no envelope
        }
        if (!Scan.is(b, f[2 * TYPE], f[2 * TYPE + 1], NOTIFICATION) || f[2 * MESSAGE] < 0) {
            return null; // confirmations and problems: the Jackson path
        }
        var message = Scan.utf8(b, f[2 * MESSAGE], f[2 * MESSAGE + 1]);
        if (message == null) {
            return null;
        }
        var spans = new int[] {f[2 * TOPIC_ARN], f[2 * TOPIC_ARN + 1], f[2 * MESSAGE_ID], f[2 * MESSAGE_ID + 1],
            f[2 * SUBJECT], f[2 * SUBJECT + 1], f[2 * TIMESTAMP], f[2 * TIMESTAMP + 1]};
        Map<String, String> messageAttributes = Map.of();
        if (attributeCount > 0) {
            var builder = new FlatMap.Builder(attributeCount);
            for (int i = 0; i < attributeCount; i++) {
                builder.put(attributes[2 * i], attributes[2 * i + 1]);
            }
            messageAttributes = builder.build();
        }
        var envelope = MergedMap.of(new SpanMap(SHAPE, b, spans, 0), messageAttributes);
        return inner(delivery, message, Scan.string(b, f[2 * TOPIC_ARN], f[2 * TOPIC_ARN + 1]), envelope);
    }

    private static int field(byte[] b, int ns, int ne) {
        for (int i = 0; i < FIELDS.length; i++) {
            if (Scan.is(b, ns, ne, FIELDS[i])) {
                return i;
            }
        }
        return -1;
    }
}
