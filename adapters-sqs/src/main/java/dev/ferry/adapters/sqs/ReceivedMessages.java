package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * What an {@link SqsSource} makes of a message it received: a {@link Delivery} (system and message
 * attributes as strings, the receive count, the send time, group and deduplication ids, the receipt),
 * and whether it may be handled at all — its body and attributes match the MD5s SQS sent (the SDK's
 * own check is off, so that one damaged message does not fail a whole receive), and its sender is
 * allowed; and how one receive sorts into those (damage counted per message). Thread-safe.
 */
final class ReceivedMessages {

    /** Receives with an MD5 mismatch before a message is dead-lettered: damage in transit rarely repeats. */
    static final int MD5_RECEIVES = 3;
    /** How long a message damaged in transit waits before its next receive: after the first damage, after later ones. */
    static final java.time.Duration FIRST_DAMAGE_PAUSE = java.time.Duration.ofSeconds(2);
    static final java.time.Duration LATER_DAMAGE_PAUSE = java.time.Duration.ofSeconds(10);
    private static final int MAX_DAMAGED_TRACKED = 10_000;
    private static final String MD5_MISMATCH = "MD5 ";
    private static final Logger LOG = LoggerFactory.getLogger(SqsSource.class);

    /** Damaged receives seen here, by message id, until the message arrives intact or is dead-lettered. */
    private final Map<String, Integer> damagedReceives = new ConcurrentHashMap<>();

    private final String source;
    private final Clock clock;
    private final boolean verifyMd5;
    private final Set<String> allowedSenders;
    private final LongAdder md5Mismatches = new LongAdder();
    private final LongAdder foreignSenders = new LongAdder();
    /** At most 20 refusal lines in 10 s: a flood from a sender not allowed wrote one line each, the allowlist in each. */
    private final LineBudget lines;

    /** The queue's ARN: a moved-back copy's identity is trusted only when it names this queue. */
    private final String queueArn;
    /** The queue's own name, as Ferry's dead letters of it name it ({@link DeadLetterAttributes#SOURCE}). */
    private final String queueName;

    ReceivedMessages(String source, String queueName, String queueArn, Clock clock, boolean verifyMd5,
                     Set<String> allowedSenders) {
        this.source = source;
        this.lines = new LineBudget(20, java.time.Duration.ofSeconds(10), skipped -> LOG.warn("SQS '{}': {} more "
                + "messages refused on arrival not logged one by one (ferry_sqs_refused_total counts them)", source, skipped));
        this.queueName = queueName;
        this.queueArn = queueArn;
        this.clock = clock;
        this.verifyMd5 = verifyMd5;
        this.allowedSenders = allowedSenders;
    }

    /** A receive sorted: what may be handled, in order, and what goes back or to the DLQ at once. */
    record Sorted(List<Delivery> accepted, List<Settlement> refused) {
    }

    /**
     * Sorts one receive. A message that fails its screening is dead-lettered with the reason, except
     * one damaged in transit fewer than {@link #MD5_RECEIVES} times here, which is released to be
     * received again; on a FIFO queue its group's later messages of the receive go back with it.
     */
    Sorted sort(List<Message> messages, long receivedAt, boolean fifo) {
        var accepted = new ArrayList<Delivery>(messages.size());
        List<Settlement> refused = List.of();
        Set<String> groupsGivenBack = null; // FIFO: a group whose earlier message of this receive went back
        for (var m : messages) {
            var delivery = toDelivery(m, receivedAt, fifo);
            if (groupsGivenBack != null && delivery.groupKey() != null && groupsGivenBack.contains(delivery.groupKey())) {
                refused.add(new Settlement(delivery, Disposition.RELEASE)); // behind its released head, in order
                continue;
            }
            String problem = screen(m);
            if (problem == null) {
                if (!damagedReceives.isEmpty()) {
                    damagedReceives.remove(m.messageId());
                }
                accepted.add(delivery);
                continue;
            }
            if (refused.isEmpty()) {
                refused = new ArrayList<>();
            }
            int damaged = damaged(problem) ? damagedReceive(m.messageId()) : 0;
            if (damaged > 0 && damaged < MD5_RECEIVES) {
                // #16: what arrived is damaged, the stored message most likely is not: receive it again
                // rather than copy the damaged body to the DLQ and delete the intact original. Counted by the
                // damaged receives seen here, not by SQS's receive count (other receives were not damaged)
                if (lines.take()) {
                    LOG.warn("SQS '{}': message {} released to be received again (damaged receive {} of {} "
                            + "before it is dead-lettered): {}", source, m.messageId(), damaged, MD5_RECEIVES, problem);
                }
                // after a pause that grows (2 s, then 10 s): released at once, a second of damage in transit (a proxy's
                // incident) met all three receives in milliseconds, and the intact original was replaced by the damage
                refused.add(new Settlement(delivery,
                        Disposition.redeliver(damaged == 1 ? FIRST_DAMAGE_PAUSE : LATER_DAMAGE_PAUSE)));
                if (fifo && delivery.groupKey() != null) {
                    // handed out now, its group's later messages would run before it comes back
                    if (groupsGivenBack == null) {
                        groupsGivenBack = new HashSet<>();
                    }
                    groupsGivenBack.add(delivery.groupKey());
                }
                continue;
            }
            damagedReceives.remove(m.messageId());
            if (lines.take()) {
                LOG.warn("SQS '{}': message {} dead-lettered, not handled: {}", source, m.messageId(), problem);
            }
            refused.add(new Settlement(delivery, Disposition.deadLetter(damaged > 0
                    ? problem + "; the same on " + damaged + " receives, so the stored message itself "
                    + "disagrees with its MD5: this copy is its body as received" : problem)));
        }
        return new Sorted(accepted, refused);
    }

    /** Counts a damaged receive of the message here; returns how many were seen (the map is bounded). */
    private int damagedReceive(String messageId) {
        if (damagedReceives.size() >= MAX_DAMAGED_TRACKED) {
            damagedReceives.clear(); // a flood of damage: counting starts again, each message released a little longer
        }
        return damagedReceives.merge(messageId, 1, Integer::sum);
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
            if (sender == null || !allowed(sender)) {
                foreignSenders.increment();
                return "SenderId " + (sender == null ? "missing" : "'" + sender + "'") + " is not in the allowlist "
                        + allowedSenders.stream().sorted().toList() + " of queue '" + source + "'";
            }
        }
        return null;
    }

    /**
     * Whether {@code sender} may send here: listed whole, or by the part before its first ':'. SQS names a
     * message sent under an assumed role by the role's id and the session's name ({@code AROA…:i-0abc…} from
     * EC2, {@code AROA…:awslambda_…}); the session changes with each instance, container and login, so a
     * listed role id admits all of its sessions — compared whole, it dead-lettered every message, and Ferry's
     * own release copies, sent under a task role, again after each redeploy.
     */
    private boolean allowed(String sender) {
        if (allowedSenders.contains(sender)) {
            return true;
        }
        // a role's session (AROA…:session): the role id admits every session of it. Nothing else by its prefix: a
        // federated user is named ACCOUNT:name, its name the caller's to choose, and a listed account id is its root
        int colon = sender.indexOf(':');
        return colon > 0 && sender.startsWith("AROA") && allowedSenders.contains(sender.substring(0, colon));
    }

    /** Said once: the server answered no receive counts. */
    private final java.util.concurrent.atomic.AtomicBoolean countsMissingSaid = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * {@code fifo}: whether the queue is FIFO. Only there is MessageGroupId the group whose order SQS keeps: a
     * standard queue takes it as a fair queue's tenant id, and taken for the group key it outranked the codec's
     * group — one account's events ran in two lanes at once. There it stays an attribute only.
     */
    Delivery toDelivery(Message m, long receivedAt, boolean fifo) {
        var system = m.attributesAsStrings();
        if (!system.containsKey(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT.toString())
                && countsMissingSaid.compareAndSet(false, true)) {
            // taken as a first receive, silently: max-receives never fired, a given-up message's owed copy was not looked
            // for, a fan-out's lone target never asked for its mark (a server that ignores MessageSystemAttributeNames)
            LOG.warn("SQS '{}': a message came without its ApproximateReceiveCount: the server does not return the system "
                    + "attributes Ferry asks for, so every message counts as received once — max-receives cannot dead-letter "
                    + "a message that keeps coming back, and a redelivery is not known as one; use a server that does", source);
        }
        var own = m.messageAttributes();
        if (own.containsKey(MessageAttributes.OVERFLOW)) {
            // what a Ferry sink folded away is the handler's to see, by its own name; a sender's fold of thousands is
            // kept whole (this runs before screening, and the delivery keeps what it unfolds)
            own = MessageAttributes.expand(own);
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
                fifo ? system.get(MessageSystemAttributeName.MESSAGE_GROUP_ID.toString()) : null,
                identity(own, system.get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID.toString())),
                source,
                new SqsReceipt(m.receiptHandle(), receivedAt, m.messageAttributes()));
    }

    /**
     * The deduplication id a delivery carries: for a copy a redrive moved back, the identity its message
     * had before it was dead-lettered (trusted beside a redrive's or a release's own mark only: a producer's attribute
     * of that name must not make its messages duplicates of each other); for a dead letter Ferry wrote that came back
     * to the queue it was dead-lettered from as it was, the identity it names ({@link #deadLetterCameBack}); else SQS's.
     */
    private String identity(Map<String, MessageAttributeValue> own, String dedup) {
        if (own.isEmpty()) {
            return dedup;
        }
        String identity = movedBack(own);
        if (identity == null) {
            identity = deadLetterCameBack(own);
        }
        return identity != null ? identity : dedup;
    }

    /** The identity a redrive's or a release's copy carries ({@link MessageAttributes#ORIGIN}); null when none here. */
    private String movedBack(Map<String, MessageAttributeValue> own) {
        var origin = own.get(MessageAttributes.ORIGIN);
        if (origin == null || origin.stringValue() == null
                || !(own.containsKey(DeadLetterRedrive.RUN) || own.containsKey(GroupParker.RELEASE_ATTRIBUTE))) {
            return null;
        }
        // bound to the queue it was moved back to: a copy relayed elsewhere with its attributes (a sink, a splitter)
        // must not make the messages it becomes duplicates of each other
        return MessageAttributes.originIn(origin.stringValue(), queueArn);
    }

    /**
     * The identity ({@link MessageAttributes#DEAD_LETTER_ORIGIN}) of a dead letter Ferry wrote, when it is back in the
     * queue it was dead-lettered from: SQS's own message move task ({@code ferry queues redrive --native}, the
     * console's "start DLQ redrive") moves a dead letter as it is, its attributes kept and no mark added, under a
     * message id (and on FIFO a deduplication id) of its own — keyed by them, it was a new event, and every sink the
     * message had reached was written again. Null otherwise.
     */
    private String deadLetterCameBack(Map<String, MessageAttributeValue> own) {
        var origin = own.get(MessageAttributes.DEAD_LETTER_ORIGIN);
        var from = own.get(DeadLetterAttributes.SOURCE);
        if (origin == null || from == null || origin.stringValue() == null || origin.stringValue().isEmpty()
                || queueName == null || !queueName.equals(from.stringValue())) {
            return null;
        }
        // Bound to this queue by the name its dead letters carry (all they say of where they came from): read from the
        // DLQ itself, moved to another queue, or sent on by a Ferry sink (which drops the origin), a dead letter names
        // no identity, so the messages one becomes are not duplicates of each other. What remains: a producer that may
        // send to this queue and writes both attributes naming it makes its own messages one event (on purpose, as
        // one that sets a FIFO deduplication id does), and a dead letter carried to a queue of the same name in
        // another account or region keeps its identity there (a producer's deduplication id or an SQS message id)
        return origin.stringValue();
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
