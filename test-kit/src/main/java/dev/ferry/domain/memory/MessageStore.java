package dev.ferry.domain.memory;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The messages of an {@link InMemoryQueue} and SQS's rules for them: visibility, leases and
 * receipts that go stale on re-receive, FIFO groups waiting for their head, redrive after
 * {@code maxReceiveCount}. Guarded by the queue's lock.
 */
final class MessageStore {

    final LinkedHashMap<String, StoredMessage> messages = new LinkedHashMap<>();
    private final String name;
    private final boolean fifo;
    /** Moves a message to the dead-letter queue with a reason; null when the queue has none. */
    private final BiConsumer<StoredMessage, String> deadLetter;
    private final int maxReceiveCount;
    private long receipts;

    MessageStore(String name, boolean fifo, BiConsumer<StoredMessage, String> deadLetter, int maxReceiveCount) {
        this.name = name;
        this.fifo = fifo;
        this.deadLetter = deadLetter;
        this.maxReceiveCount = maxReceiveCount;
    }

    /** Hands out up to {@code max} visible messages, leased for {@code lease}; FIFO groups wait for their head. */
    List<Delivery> receive(Instant now, int max, Duration lease) {
        var visibleAgain = now.plus(lease);
        var batch = new ArrayList<Delivery>(Math.min(max, 1000));
        var blockedGroups = fifo ? new HashSet<String>() : null;
        if (fifo) {
            // as SQS: while any message of a group is in flight, none of the group is handed out — not even an earlier
            // one that was released meanwhile (a consumer holding a later one would otherwise run it before its elder)
            for (var m : messages.values()) {
                if (m.inFlight(now)) {
                    blockedGroups.add(m.groupId);
                }
            }
        }
        Iterator<StoredMessage> it = messages.values().iterator();
        List<StoredMessage> toDeadLetter = null;
        while (it.hasNext() && batch.size() < max) {
            var m = it.next();
            boolean visible = !m.visibleAt.isAfter(now);
            if (fifo) {
                if (blockedGroups.contains(m.groupId)) {
                    continue;
                }
                if (!visible) {
                    // An earlier message of the group is in flight or delayed: the group waits for it.
                    blockedGroups.add(m.groupId);
                    continue;
                }
            } else if (!visible) {
                continue;
            }
            if (deadLetter != null && m.receiveCount >= maxReceiveCount) {
                if (toDeadLetter == null) {
                    toDeadLetter = new ArrayList<>();
                }
                toDeadLetter.add(m); // removed once the dead-letter queue took it, below
                continue;
            }
            m.receiveCount++;
            m.receipt = new StoredMessage.Receipt(name, m.id, ++receipts);
            m.leased = true;
            m.visibleAt = visibleAgain;
            batch.add(new Delivery(m.id, m.body, m.attributes, m.receiveCount, m.sentAt, m.groupId, m.deduplicationId,
                    name, m.receipt));
        }
        if (toDeadLetter != null) {
            for (var m : toDeadLetter) {
                // a dead-letter queue that refuses (closed) leaves the message here, not handed out, for the next receive
                if (moveToDeadLetter(m, "exceeded maxReceiveCount " + maxReceiveCount + " of queue '" + name + "'") == null) {
                    messages.remove(m.id);
                }
            }
        }
        return batch;
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
                m.visibleAt = now.plus(r.delay().compareTo(Duration.ofHours(12)) > 0 ? Duration.ofHours(12) : r.delay());
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

    /** Extends a delivery's lease to {@code now + lease}; false when its receipt is stale or its lease ran out. */
    boolean extend(Delivery d, Instant now, Duration lease) {
        var m = d.receipt() instanceof StoredMessage.Receipt r ? messages.get(r.messageId()) : null;
        if (m == null || !d.receipt().equals(m.receipt) || !m.inFlight(now)) {
            return false;
        }
        m.visibleAt = now.plus(lease);
        return true;
    }
}
