package dev.ferry.domain.memory;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The messages of an {@link InMemoryQueue} and SQS's rules for them: what a send may carry, visibility, leases and
 * receipts that go stale on re-receive, FIFO groups (and a keyed queue's keys) waiting for their head, a standard
 * queue's group id handed out as an attribute only, redrive after {@code maxReceiveCount}; a keyed queue held whole,
 * as Kafka holds a partition, while a message of it without a key waits to come back. Guarded by the queue's lock.
 */
final class MessageStore {

    final LinkedHashMap<String, StoredMessage> messages = new LinkedHashMap<>();
    private final String name;
    private final boolean fifo;
    /** A standard queue whose sender's group id is each delivery's group key, handed out and held as Kafka does a key. */
    private final boolean keyed;
    /** Moves a message to the dead-letter queue with a reason; null when the queue has none. */
    private final BiConsumer<StoredMessage, String> deadLetter;
    private final int maxReceiveCount;
    private long receipts;
    /**
     * A keyed queue's messages without a key put back with a Redeliver's delay: while one waits it out, nothing of the
     * queue is handed out ({@link #heldByAnUnkeyedRetry}). Dropped from here once seen gone or visible again.
     */
    private final HashSet<StoredMessage> unkeyedComingBack = new HashSet<>();
    /** SQS's ceiling on a message's invisibility, counted from its receive. */
    static final Duration LONGEST_INVISIBLE = Duration.ofHours(12);

    MessageStore(String name, boolean fifo, boolean keyed, BiConsumer<StoredMessage, String> deadLetter,
                 int maxReceiveCount) {
        this.name = name;
        this.fifo = fifo;
        this.keyed = keyed;
        this.deadLetter = deadLetter;
        this.maxReceiveCount = maxReceiveCount;
    }

    /**
     * The deduplication id {@code message} is stored with: its own, or on a FIFO queue with content-based deduplication
     * its body's SHA-256. Throws {@link IllegalArgumentException} for what SQS refuses: a FIFO message without a group
     * id, or without a dedup id where content-based dedup is off; a per-message delay on a FIFO queue; a delay outside
     * 0 to 15 minutes.
     */
    static String deduplicationIdOf(InMemoryQueue.Message message, String queue, boolean fifo, boolean contentBased) {
        String dedupId = message.deduplicationId();
        if (fifo) {
            if (message.groupId() == null) {
                throw new IllegalArgumentException("queue '" + queue + "' is FIFO but the message has no MessageGroupId");
            }
            if (!message.delay().isZero()) {
                throw new IllegalArgumentException("queue '" + queue + "' is FIFO: per-message delays are not allowed, "
                        + "only the queue's delay (was " + message.delay() + ")");
            }
            if (dedupId == null && contentBased) {
                dedupId = DeduplicationWindow.sha256(message.body());
            }
            if (dedupId == null) {
                throw new IllegalArgumentException("queue '" + queue + "' is FIFO without content-based deduplication "
                        + "but the message has no MessageDeduplicationId");
            }
        } else if (message.delay().isNegative() || message.delay().compareTo(Duration.ofMinutes(15)) > 0) {
            throw new IllegalArgumentException("message delay must be between 0 and 15 minutes, was " + message.delay());
        }
        return dedupId;
    }

    /**
     * Throws {@link IllegalArgumentException} for a redrive policy SQS refuses: a {@code maxReceiveCount} below 1, a
     * dead-letter queue of the other kind ({@code fifo} is the source queue's).
     */
    static void checkRedrivePolicy(boolean fifo, InMemoryQueue dlq, int maxReceiveCount) {
        if (maxReceiveCount < 1) {
            throw new IllegalArgumentException("maxReceiveCount must be >= 1, was " + maxReceiveCount);
        }
        if (dlq.fifo() != fifo) {
            throw new IllegalArgumentException("the dead-letter queue of a " + (fifo ? "FIFO" : "standard")
                    + " queue must be " + (fifo ? "FIFO" : "standard") + " too ('" + dlq.name() + "')");
        }
    }

    /**
     * The copy of {@code m} a dead-letter queue ({@code fifo} or not) is sent: its attributes but its sequence number,
     * with Ferry's reason, the queue it left and its receive count; on a FIFO one in its group, under an id of its own.
     * A {@code keyed} queue's (the source's: its dead-letter queue is standard) keeps its key and carries its place and
     * identity, as the Kafka source's dead letter does ({@link #addKafkaPlace}).
     */
    static InMemoryQueue.Message deadLetterCopy(StoredMessage m, String reason, String sourceQueue, boolean fifo,
                                                boolean keyed) {
        var attributes = new HashMap<>(m.attributes);
        attributes.remove(InMemoryQueue.SEQUENCE_NUMBER);
        attributes.put(InMemoryQueue.REASON_ATTRIBUTE, reason);
        attributes.put(InMemoryQueue.SOURCE_ATTRIBUTE, sourceQueue);
        attributes.put(InMemoryQueue.RECEIVE_COUNT_ATTRIBUTE, Integer.toString(m.receiveCount));
        if (keyed) {
            addKafkaPlace(attributes, m, sourceQueue);
        }
        // a keyed queue's key kept, as the Kafka dead letter keeps its record's key: dropped, a user's test of what a
        // dead letter carries found no key on it, where production's dead-letter topic holds the record under its key
        var groupId = fifo ? (m.groupId == null ? "dead-letters" : m.groupId) : keyed ? m.groupId : null;
        var dedupId = fifo ? "dlq-" + m.id + "-" + m.receipt.sequence() : null;
        return new InMemoryQueue.Message(m.body, attributes, groupId, dedupId, null);
    }

    /** The header a Kafka dead letter says its record's identity in ({@code KafkaSource.DEAD_LETTER_ORIGIN}). */
    private static final String DEAD_LETTER_ORIGIN = DeadLetterAttributes.PREFIX + "origin";

    /**
     * Adds to a keyed queue's dead letter what the Kafka source adds to its record's ({@code KafkaDeadLetters.addHeaders}):
     * {@code ferry.deadLetter.partition} and {@code .offset}, the place it was handed out at (0, and its offset as
     * {@link KafkaRecords#asRead} gives it), and {@code .origin}, what it is recorded under ({@link
     * KafkaRecords#identity}). Without them a user's test of a dead letter saw none of what production writes on it.
     */
    private static void addKafkaPlace(Map<String, String> attributes, StoredMessage m, String topic) {
        var read = KafkaRecords.asRead(m, topic); // the place the delivery carried, so the two cannot disagree
        attributes.put(DeadLetterAttributes.PREFIX + "partition", read.get("kafka.partition"));
        attributes.put(DeadLetterAttributes.PREFIX + "offset", read.get("kafka.offset"));
        // the delivery's deduplication id, from the one helper: made apart, the origin was orders-0@1/0/<ms> while the
        // raw event and its ledger entry were keyed orders-2, and a letter sent back was taken for another event
        attributes.put(DEAD_LETTER_ORIGIN, KafkaRecords.identity(m, topic));
    }

    /**
     * Hands out up to {@code max} visible messages, leased for {@code lease}; FIFO groups, and a keyed queue's keys, wait
     * for their head. A keyed queue hands out none while a message of it without a key waits to come back.
     */
    List<Delivery> receive(Instant now, int max, Duration lease) {
        if (keyed && heldByAnUnkeyedRetry(now)) {
            return List.of();
        }
        var visibleAgain = now.plus(lease);
        var batch = new ArrayList<Delivery>(Math.min(max, 1000));
        HashSet<String> blockedGroups = fifo || keyed ? new HashSet<>() : null; // read behind heldByGroup only
        // as SQS: while any message of a group is in flight, none of the group is handed out — not even an earlier one
        // that was released meanwhile (a consumer holding a later one would otherwise run it before its elder). A keyed
        // queue holds its keys so, as Kafka does while a record of the key is out or waits out a Redeliver: it handed a
        // key's later message out while its elder waited to come back from a retry, and the later one was done first
        if (fifo || keyed) { // a standard queue walked every message it held on each receive, for no group to hold
            for (var m : messages.values()) {
                if (heldByGroup(m) && m.inFlight(now)) {
                    blockedGroups.add(m.groupId);
                }
            }
        }
        Iterator<StoredMessage> it = messages.values().iterator();
        while (it.hasNext() && batch.size() < max) {
            var m = it.next();
            boolean visible = !m.visibleAt.isAfter(now);
            if (heldByGroup(m)) {
                if (blockedGroups.contains(m.groupId)) {
                    continue;
                }
                if (!visible) {
                    // An earlier message of the group is in flight, delayed or waiting to come back: the group waits.
                    blockedGroups.add(m.groupId);
                    continue;
                }
            } else if (!visible) {
                continue;
            }
            if (deadLetter != null && m.receiveCount >= maxReceiveCount) {
                // removed once the dead-letter queue took it; one that refuses (closed) leaves it here, not handed out,
                // and its group (FIFO, or a keyed queue's key) waits behind it as SQS's would: a later message must not
                // run before its elder
                if (moveToDeadLetter(m, "exceeded maxReceiveCount " + maxReceiveCount + " of queue '" + name + "'") == null) {
                    it.remove();
                } else if (heldByGroup(m)) {
                    blockedGroups.add(m.groupId);
                }
                continue;
            }
            m.receiveCount++;
            m.receivedAt = now;
            m.receipt = new StoredMessage.Receipt(name, m.id, ++receipts);
            m.leased = true;
            m.visibleAt = visibleAgain;
            // only a FIFO queue's group id is the group key, as SqsSource has it (and a keyed one's, asked for): a standard
            // queue's made a user's test run a tenant's messages one at a time, in order, where production runs them at once.
            // A keyed one's ids are a Kafka record's: its place, and what it is recorded under (KafkaRecords#identity)
            batch.add(new Delivery(keyed ? KafkaRecords.id(m, name) : m.id, m.body, attributesOf(m), m.receiveCount, m.sentAt,
                    fifo || keyed ? m.groupId : null, keyed ? KafkaRecords.identity(m, name) : m.deduplicationId, name,
                    m.receipt));
        }
        return batch;
    }

    /**
     * Whether {@code m} waits for the earlier messages of its group: on a FIFO queue, and on a keyed one when it has a key.
     * One without waits for no earlier message, and out it holds none back, as an unkeyed Kafka record; put back with a
     * delay it holds the whole keyed queue, as Kafka its partition ({@link #heldByAnUnkeyedRetry}).
     */
    private boolean heldByGroup(StoredMessage m) {
        return (fifo || keyed) && m.groupId != null;
    }

    /**
     * A message's attributes as SQS hands them out: a FIFO one's with its group and deduplication ids, a standard one's
     * with its group id (SQS keeps it for a fair queue's tenant; a handler may read it); a keyed one's as a Kafka source
     * hands a record's out, its headers as sent with its topic, partition and offset ({@link KafkaRecords#asRead}).
     */
    private Map<String, String> attributesOf(StoredMessage m) {
        if (fifo) {
            return withSystemAttributes(m);
        }
        if (keyed) {
            return KafkaRecords.asRead(m, name);
        }
        if (m.groupId == null) {
            return m.attributes;
        }
        var attributes = new HashMap<>(m.attributes);
        attributes.put(InMemoryQueue.MESSAGE_GROUP_ID, m.groupId);
        return Map.copyOf(attributes);
    }

    /**
     * A FIFO message's attributes as SQS hands them out, its group and deduplication ids among them: without them, a
     * decoder that tells SQS's content hash from a producer's id by that attribute (the raw format) keyed a resent body
     * by its hash here, and by its message id on SQS — one test's "charged once" was "charged twice" in production.
     */
    private static Map<String, String> withSystemAttributes(StoredMessage m) {
        var attributes = new HashMap<>(m.attributes);
        if (m.groupId != null) {
            attributes.put(InMemoryQueue.MESSAGE_GROUP_ID, m.groupId);
        }
        if (m.deduplicationId != null) {
            attributes.put("MessageDeduplicationId", m.deduplicationId);
        }
        return Map.copyOf(attributes);
    }

    /** Carries out one settlement; the problem in SQS's words, or null when done. */
    String settle(Settlement s, Instant now) {
        var delivery = s.delivery();
        if (!(delivery.receipt() instanceof StoredMessage.Receipt receipt) || !receipt.queue().equals(name)) {
            return "ReceiptHandleIsInvalid: message " + delivery.id() + " was not received from queue '" + name + "'";
        }
        var m = messages.get(receipt.messageId());
        if (m == null) {
            return "ReceiptHandleIsInvalid: message " + delivery.id() + " is no longer in queue '" + name + "'";
        }
        if (!receipt.equals(m.receipt)) {
            return "ReceiptHandleIsInvalid: message " + delivery.id() + " was received again since; this receipt is stale";
        }
        switch (s.disposition()) {
            case Disposition.Ack a -> messages.remove(m.id);
            case Disposition.DeadLetter d -> {
                if (deadLetter == null) {
                    return "queue '" + name + "' has no dead-letter queue; message " + m.id + " stays (reason was: "
                            + d.reason() + ")";
                }
                var refused = moveToDeadLetter(m, d.reason());
                if (refused != null) {
                    return "the dead-letter queue of '" + name + "' refused message " + m.id + ", which stays: " + refused;
                }
                messages.remove(m.id);
            }
            case Disposition.Redeliver r -> {
                if (!m.inFlight(now)) {
                    return "MessageNotInflight: message " + m.id + "'s lease already ran out";
                }
                // as SQS: a message stays invisible at most 12 hours from its receive, whatever the delay asks
                var allowed = allowed(m, now);
                m.visibleAt = now.plus(r.delay().compareTo(allowed) > 0 ? allowed : r.delay());
                if (keyed && m.groupId == null) {
                    unkeyedComingBack.add(m); // holds the queue till then, as Kafka a partition: it held nothing here
                }
            }
            case Disposition.Release r -> {
                if (!m.inFlight(now)) {
                    return "MessageNotInflight: message " + m.id + "'s lease already ran out";
                }
                m.visibleAt = now;
            }
        }
        return null;
    }

    /**
     * Sends a message to the dead-letter queue; what it refused with, or null once it holds the message.
     * Removed only after that, as SQS's redrive and the {@code Acknowledger} contract have it: never in
     * neither queue.
     */
    private String moveToDeadLetter(StoredMessage m, String reason) {
        try {
            deadLetter.accept(m, reason);
            return null;
        } catch (RuntimeException e) {
            return String.valueOf(e.getMessage());
        }
    }

    /**
     * Whether a keyed queue's message without a key waits out a Redeliver's delay: Kafka hands nothing of a partition
     * out until such a record comes back ({@code PartitionBuffer.requeue} holds the partition for a record without a
     * key), and a keyed queue is one partition. Without this a later message went out meanwhile, and was done before
     * the retry on the keyed queue where Kafka runs it after. One acked, dead-lettered, purged or visible again holds
     * nothing and is dropped: none is handed out again (leased anew) while it is still listed.
     */
    private boolean heldByAnUnkeyedRetry(Instant now) {
        for (Iterator<StoredMessage> it = unkeyedComingBack.iterator(); it.hasNext(); ) {
            var m = it.next();
            if (messages.get(m.id) == m && m.visibleAt.isAfter(now)) {
                return true;
            }
            it.remove();
        }
        return false;
    }

    /**
     * Extends a delivery's lease to {@code now + lease}; false when its receipt is stale, its lease ran out, the lease
     * asked is negative, or SQS's 12 hours from the receive allow less than it (then it is extended as far as they
     * allow, as the SQS adapter does, and said so: the listener must not count on a lease the message lacks).
     */
    boolean extend(Delivery d, Instant now, Duration lease) {
        var m = d.receipt() instanceof StoredMessage.Receipt r ? messages.get(r.messageId()) : null;
        if (m == null || !d.receipt().equals(m.receipt) || !m.inFlight(now) || lease.isNegative()) {
            return false;
        }
        var allowed = allowed(m, now);
        m.visibleAt = now.plus(lease.compareTo(allowed) > 0 ? allowed : lease);
        return lease.compareTo(allowed) <= 0;
    }

    /** How much longer SQS lets a received message stay invisible: 12 hours from its receive. */
    private static Duration allowed(StoredMessage m, Instant now) {
        var left = Duration.between(now, m.receivedAt.plus(LONGEST_INVISIBLE));
        return left.isNegative() ? Duration.ZERO : left;
    }
}
