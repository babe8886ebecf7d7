package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * What an {@link SqsSource} makes of a message it received: a {@link Delivery} (system and message
 * attributes as strings, the receive count, the send time, group and deduplication ids, the receipt),
 * and whether it may be handled at all — its body and attributes match the MD5s SQS sent (the SDK's
 * own check is off, so that one damaged message does not fail a whole receive), and its sender is
 * allowed. Thread-safe.
 */
final class ReceivedMessages {

    private static final String MD5_MISMATCH = "MD5 ";

    private final String source;
    private final Clock clock;
    private final boolean verifyMd5;
    private final Set<String> allowedSenders;
    private final LongAdder md5Mismatches = new LongAdder();
    private final LongAdder foreignSenders = new LongAdder();

    ReceivedMessages(String source, Clock clock, boolean verifyMd5, Set<String> allowedSenders) {
        this.source = source;
        this.clock = clock;
        this.verifyMd5 = verifyMd5;
        this.allowedSenders = allowedSenders;
    }

    /** True when {@code problem} (an answer of {@link #screen}) says the message was damaged in transit. */
    static boolean damaged(String problem) {
        return problem.startsWith(MD5_MISMATCH);
    }

    long md5Mismatches() {
        return md5Mismatches.sum();
    }

    long foreignSenders() {
        return foreignSenders.sum();
    }

    /** Why a message must not be handled, or null when it may. */
    String screen(Message m) {
        if (verifyMd5) {
            if (m.md5OfBody() != null) {
                String actual = Md5.ofBody(m.body());
                if (!actual.equalsIgnoreCase(m.md5OfBody())) {
                    md5Mismatches.increment();
                    return MD5_MISMATCH + "of body mismatch: SQS sent MD5OfBody " + m.md5OfBody() + " but the body received hashes to "
                            + actual + " (damaged in transit)";
                }
            }
            if (m.md5OfMessageAttributes() != null && !m.messageAttributes().isEmpty()) {
                String actual = Md5.ofAttributes(m.messageAttributes());
                if (!actual.equalsIgnoreCase(m.md5OfMessageAttributes())) {
                    md5Mismatches.increment();
                    return MD5_MISMATCH + "of message attributes mismatch: SQS sent MD5OfMessageAttributes "
                            + m.md5OfMessageAttributes() + " but the attributes received hash to " + actual
                            + " (damaged in transit)";
                }
            }
        }
        if (!allowedSenders.isEmpty()) {
            String sender = m.attributes().get(MessageSystemAttributeName.SENDER_ID);
            if (sender == null || !allowedSenders.contains(sender)) {
                foreignSenders.increment();
                return "SenderId " + (sender == null ? "missing" : "'" + sender + "'") + " is not in the allowlist "
                        + allowedSenders.stream().sorted().toList() + " of queue '" + source + "'";
            }
        }
        return null;
    }

    Delivery toDelivery(Message m, long receivedAt) {
        var system = m.attributesAsStrings();
        var own = m.messageAttributes();
        if (own.containsKey(MessageAttributes.OVERFLOW)) {
            own = MessageAttributes.expand(own); // what a Ferry sink folded away is the handler's to see, by its own name
        }
        var attributes = new HashMap<String, String>((own.size() + system.size()) * 2);
        MessageAttributes.toStrings(own, attributes);
        attributes.putAll(system);
        return new Delivery(
                m.messageId(),
                m.body().getBytes(StandardCharsets.UTF_8),
                attributes,
                parseInt(system.get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT.toString()), 1),
                sentAt(system.get(MessageSystemAttributeName.SENT_TIMESTAMP.toString())),
                system.get(MessageSystemAttributeName.MESSAGE_GROUP_ID.toString()),
                system.get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID.toString()),
                source,
                new SqsReceipt(m.receiptHandle(), receivedAt, m.messageAttributes()));
    }

    private Instant sentAt(String millis) {
        try {
            return millis == null ? clock.instant() : Instant.ofEpochMilli(Long.parseLong(millis));
        } catch (NumberFormatException e) {
            return clock.instant();
        }
    }

    private static int parseInt(String value, int fallback) {
        try {
            return value == null ? fallback : Math.max(1, Integer.parseInt(value));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
