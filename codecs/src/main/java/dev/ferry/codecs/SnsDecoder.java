package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
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
        HashMap<String, String> messageAttributes = null;
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
                var attributes = new HashMap<>(delivery.attributes());
                attributes.put("sns.TopicArn", topicArn);
                putIfPresent(attributes, "sns.MessageId", messageId);
                putIfPresent(attributes, "sns.Subject", subject);
                putIfPresent(attributes, "sns.Timestamp", timestamp);
                if (messageAttributes != null) {
                    attributes.putAll(messageAttributes);
                }
                var inner = new Delivery(delivery.id(), message.getBytes(StandardCharsets.UTF_8), attributes,
                        delivery.receiveCount(), delivery.sentAt(), delivery.groupKey(), delivery.deduplicationId(),
                        delivery.source(), delivery.receipt());
                var decoded = next.decode(inner);
                if (decoded instanceof Decoded.Malformed m) {
                    return Decoded.malformed("SNS Message from " + topicArn + ": " + m.reason());
                }
                return decoded;
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

    private static HashMap<String, String> messageAttributes(JsonParser p, JsonToken t) throws IOException, Failure {
        expect(t, JsonToken.START_OBJECT, "MessageAttributes", "an object");
        var attributes = new HashMap<String, String>();
        String name;
        while ((name = p.nextFieldName()) != null) {
            var path = "MessageAttributes." + name;
            expect(p.nextToken(), JsonToken.START_OBJECT, path, "an object with Type and Value");
            String field;
            while ((field = p.nextFieldName()) != null) {
                var v = p.nextToken();
                if (field.equals("Value")) {
                    attributes.put(name, string(p, v, path + ".Value"));
                } else {
                    p.skipChildren();
                }
            }
        }
        return attributes;
    }

    private static void putIfPresent(HashMap<String, String> map, String key, String value) {
        if (value != null) {
            map.put(key, value);
        }
    }
}
