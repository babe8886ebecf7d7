package dev.ferry.adapters.sqs;

import dev.ferry.domain.transport.DeadLetterAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The dead letters a redrive leaves for the other queues that share its dead-letter queue: those Ferry dead-lettered from
 * a queue ({@link DeadLetterAttributes#SOURCE}) other than the redrive's target. A review: {@code orders} and
 * {@code payments} both dead-lettering to {@code shared-dlq}, a redrive of it to {@code orders} copied payments' letters
 * there too — run through orders' routes, never reaching payments' sinks, deleted from the DLQ, exit 0. A letter that
 * names no source queue (not one Ferry wrote: SQS moved it there itself, or a producer sent it) moves as before, where it
 * came from not known; a forced redrive moves them all.
 */
public final class OtherQueuesLetters {

    /** Queues named at most, in a report and in a dry run's count. */
    static final int MAX_NAMED = 10;

    /** The redrive's target by its name, as its dead letters name it; null when nothing is left for other queues. */
    private final String targetQueue;
    /** Where the letters left are kept out of sight until the run ends, so each is received, and counted, once. */
    private final SetAsideCopies setAside;
    /** The first queues whose letters were left, in the order met. */
    private final Set<String> named = new LinkedHashSet<>();
    private int left;

    /** {@code targetQueue} null: a forced redrive, which leaves none. */
    OtherQueuesLetters(String targetQueue, SetAsideCopies setAside) {
        this.targetQueue = targetQueue;
        this.setAside = setAside;
    }

    /** The batch without the letters of other queues, which are set aside and counted. */
    List<Message> without(List<Message> batch) {
        if (targetQueue == null) {
            return batch;
        }
        var theirs = new ArrayList<Message>();
        for (var m : batch) {
            String from = sourceQueue(m);
            if (from != null && !from.equals(targetQueue)) {
                theirs.add(m);
                if (named.size() < MAX_NAMED) {
                    named.add(from);
                }
            }
        }
        if (theirs.isEmpty()) {
            return batch;
        }
        left += setAside.add(theirs);
        return batch.stream().filter(m -> !theirs.contains(m)).toList();
    }

    /** How many letters were left for other queues. */
    int left() {
        return left;
    }

    /** The queues they were dead-lettered from, the first ten. */
    List<String> queues() {
        return List.copyOf(named);
    }

    /**
     * What a dry run finds: of the {@code read} letters, {@code left} were dead-lettered from the other {@code queues}
     * (the first ten named) and would stay; {@code whole}: the read reached the DLQ's end, not its bound.
     */
    public record Count(int read, int left, List<String> queues, boolean whole) {
    }

    /**
     * For a dry run of a redrive to {@code targetUrl}: reads up to {@code atMost} of the DLQ's letters ({@link
     * SetAsideCopies#MAX} at most: each is hidden until the read ends, then put back in sight) and counts those the
     * redrive would leave for other queues. Unread, a dry run said only "would move all 2", and the real run moved the
     * other queue's letter with the rest. Throws a {@code FerryException} when SQS cannot be read.
     */
    public static Count count(SqsClient client, String deadLetterQueueUrl, String targetUrl, int atMost) {
        var read = new SetAsideCopies(client, deadLetterQueueUrl); // every letter read, hidden until the end: read once
        var others = new OtherQueuesLetters(targetUrl.substring(targetUrl.lastIndexOf('/') + 1), read);
        var ids = new HashSet<String>();
        int limit = Math.min(atMost, SetAsideCopies.MAX);
        int emptyAnswers = 0;
        try {
            while (ids.size() < limit && emptyAnswers < ParkedGroupMover.EMPTY_ANSWERS_BELIEVED) {
                int want = Math.min(Batches.MAX_ENTRIES, limit - ids.size());
                List<Message> batch;
                try {
                    batch = client.receiveMessage(b -> b.queueUrl(deadLetterQueueUrl).maxNumberOfMessages(want)
                            .waitTimeSeconds(1).visibilityTimeout(60).messageAttributeNames("All")
                            .overrideConfiguration(SqsTimeouts.receive(1))).messages();
                } catch (RuntimeException e) {
                    throw SqsErrors.translate("ReceiveMessage", deadLetterQueueUrl, e);
                }
                int before = ids.size();
                batch.forEach(m -> ids.add(m.messageId())); // one seen again (its hiding failed) is counted once
                emptyAnswers = ids.size() == before ? emptyAnswers + 1 : 0;
                read.add(others.without(batch)); // theirs set aside (in read) by without, the rest here: newest handles kept
            }
        } finally {
            read.putBack(); // in sight again at once: the real run that follows a dry run must find them all
        }
        return new Count(ids.size(), others.left(), others.queues(), ids.size() < limit);
    }

    /** The queue a dead letter Ferry wrote names as the one it was dead-lettered from; null when it names none. */
    static String sourceQueue(Message m) {
        var from = MessageAttributes.expand(m.messageAttributes()).get(DeadLetterAttributes.SOURCE);
        String name = from == null ? null : AttributeText.text(from);
        return name == null || name.isEmpty() ? null : name;
    }
}
