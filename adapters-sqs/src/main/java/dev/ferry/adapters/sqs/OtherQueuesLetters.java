package dev.ferry.adapters.sqs;

import dev.ferry.domain.transport.DeadLetterAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The dead letters a redrive leaves for the other queues that share its dead-letter queue: those Ferry dead-lettered from
 * a queue ({@link DeadLetterAttributes#SOURCE}) other than the redrive's target. A review: {@code orders} and
 * {@code payments} both dead-lettering to {@code shared-dlq}, a redrive of it to {@code orders} copied payments' letters
 * there too — run through orders' routes, never reaching payments' sinks, deleted from the DLQ, exit 0. One SQS moved
 * there itself (its queue's maxReceiveCount) is known by the queue it keeps on it ({@link #sourceQueue}); one that names
 * no queue (a producer sent it) moves as before; a redrive asked to move other queues' letters too moves them all.
 */
final class OtherQueuesLetters {

    /** Queues named at most, in a report and in a dry run's count. */
    static final int MAX_NAMED = 10;
    /**
     * How long a dry run's read hides each letter it reads (by its receive), so it reads each once. It hid them for 15
     * minutes (as a run sets letters aside) and put them back at its end: a put-back that failed (throttled), or a
     * Ctrl-C, left up to 10,000 letters out of sight that long, and the real redrive that followed, of a standard DLQ,
     * found none of them — "moved 0", exit 0. Hidden so briefly, they come back by themselves whatever happens.
     */
    static final int DRY_RUN_HIDING_SECONDS = 30;
    /** How long a dry run reads at most: well within its hiding, so none it read is in sight, and read, again meanwhile. */
    static final Duration DRY_RUN_READING = Duration.ofSeconds(20);

    /** The redrive's target by its name, as its dead letters name it; null when nothing is left for other queues. */
    private final String targetQueue;
    /** Where the letters left are kept out of sight until the run ends, so each is received, and counted, once. */
    private final SetAsideCopies setAside;
    /** The first queues whose letters were left, in the order met. */
    private final Set<String> named = new LinkedHashSet<>();
    private int left;

    /** {@code targetQueue} null: a redrive that moves other queues' letters too, which leaves none. */
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
     * The problem of a run that left other queues' letters in a FIFO DLQ and ended short of its bound ({@code endedShort}):
     * a dead letter keeps its message's group, and SQS gives nothing of a group past a letter out of sight, so the
     * target's letters behind one of theirs in its group did not come. A review: a payments letter ahead of twelve of
     * orders in one group, a redrive to orders moved those read with it and ended "done", exit 0, the rest still in the
     * DLQ. Null when none was left, the DLQ is standard, or the run reached its bound.
     */
    String heldBehind(String deadLetterQueueUrl, boolean endedShort) {
        if (left == 0 || !endedShort || !deadLetterQueueUrl.endsWith(".fifo")) {
            return null;
        }
        return "letters behind the other queues' dead letters in their message groups may not have moved: "
                + deadLetterQueueUrl + " is a FIFO queue, which gives nothing of a group past a letter out of sight "
                + "(redrive again once those have gone to their own queues)";
    }

    /**
     * For a dry run of a redrive to {@code targetUrl}, and before SQS's move task takes every letter there: reads up to
     * {@code atMost} of the DLQ's letters ({@link SetAsideCopies#MAX} at most, for {@link #DRY_RUN_READING} at most) and
     * counts those the redrive would leave for other queues — by what each letter says, not by the queues' redrive
     * policies: a queue re-pointed, renamed or deleted leaves its letters behind, unnamed by ListDeadLetterSourceQueues,
     * and SQS's move task took them into the target. Each letter read is hidden {@link #DRY_RUN_HIDING_SECONDS} by its
     * receive and put back in sight at the end; those a failed put-back leaves hidden are counted, and come back by
     * themselves soon after. Unread, a dry run said only "would move all 2", and the real run moved the other queue's
     * letter with the rest. Throws a {@code FerryException} when SQS cannot be read.
     */
    static SqsQueues.LettersRead count(SqsClient client, String deadLetterQueueUrl, String targetUrl, int atMost) {
        String target = targetUrl.substring(targetUrl.lastIndexOf('/') + 1);
        var handles = new LinkedHashMap<String, String>(); // message id -> its newest receipt handle: each counted once
        var theirQueues = new LinkedHashSet<String>();
        int left = 0;
        int limit = Math.min(atMost, SetAsideCopies.MAX);
        long end = System.nanoTime() + DRY_RUN_READING.toNanos();
        int emptyAnswers = 0;
        try {
            while (handles.size() < limit && emptyAnswers < ParkedGroupMover.EMPTY_ANSWERS_BELIEVED
                    && System.nanoTime() - end < 0) {
                int before = handles.size();
                int want = Math.min(Batches.MAX_ENTRIES, limit - before);
                for (var m : receive(client, deadLetterQueueUrl, want, DRY_RUN_HIDING_SECONDS)) {
                    String from = handles.put(m.messageId(), m.receiptHandle()) == null ? sourceQueue(m) : null;
                    if (from != null && !from.equals(target)) {
                        left++;
                        if (theirQueues.size() < MAX_NAMED) {
                            theirQueues.add(from);
                        }
                    }
                }
                emptyAnswers = handles.size() == before ? emptyAnswers + 1 : 0;
            }
        } catch (RuntimeException | Error e) {
            putBack(client, deadLetterQueueUrl, handles); // what it fails to put back comes back by itself soon after
            throw e;
        }
        var notPutBack = putBack(client, deadLetterQueueUrl, handles);
        return new SqsQueues.LettersRead(handles.size(), left, List.copyOf(theirQueues),
                emptyAnswers >= ParkedGroupMover.EMPTY_ANSWERS_BELIEVED, notPutBack.size(),
                notPutBack.isEmpty() ? null : notPutBack.values().iterator().next().toString());
    }

    /**
     * Up to {@code want} of the DLQ's letters, each hidden {@code hidingSeconds} by the receive, with what says whose each
     * is: its message attributes (Ferry's {@link DeadLetterAttributes#SOURCE}) and the queue SQS moved it from, beside its
     * group. The one receive of a redrive and of its dry run: neither asked for the queue SQS keeps, and a payments letter
     * SQS moved was read as one naming none — a redrive to orders moved it there, {@code --native --to orders} unrefused.
     * With its deduplication id, which a release tells a second copy SQS moved by ({@link SqsMovedLetters}).
     */
    static List<Message> receive(SqsClient client, String deadLetterQueueUrl, int want, int hidingSeconds) {
        try {
            return client.receiveMessage(b -> b.queueUrl(deadLetterQueueUrl).maxNumberOfMessages(want).waitTimeSeconds(1)
                    .visibilityTimeout(hidingSeconds).messageAttributeNames("All")
                    .messageSystemAttributeNames(MessageSystemAttributeName.MESSAGE_GROUP_ID,
                            MessageSystemAttributeName.DEAD_LETTER_QUEUE_SOURCE_ARN,
                            MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID)
                    .overrideConfiguration(SqsTimeouts.receive(1))).messages();
        } catch (RuntimeException e) {
            throw SqsErrors.translate("ReceiveMessage", deadLetterQueueUrl, e);
        }
    }

    /** Puts the letters read back in sight at once: the real run that follows a dry run must find them all. */
    private static Map<String, SqsErrors.EntryError> putBack(SqsClient client, String deadLetterQueueUrl,
                                                              Map<String, String> handles) {
        return Batches.changeVisibility(client, deadLetterQueueUrl, new ArrayList<>(handles.values()), h -> h, h -> 0, 2,
                null);
    }

    /**
     * The queue a dead letter was dead-lettered from, by its name: as Ferry wrote it ({@link DeadLetterAttributes#SOURCE}),
     * else as SQS keeps it on a letter it moved there itself — the last part of its {@code DeadLetterQueueSourceArn}
     * (asked for by {@link #receive}). Null when it names none (a producer sent it there).
     */
    static String sourceQueue(Message m) {
        var from = MessageAttributes.expand(m.messageAttributes()).get(DeadLetterAttributes.SOURCE);
        String name = from == null ? null : AttributeText.text(from);
        if (name == null || name.isEmpty()) {
            String arn = m.attributes().get(MessageSystemAttributeName.DEAD_LETTER_QUEUE_SOURCE_ARN);
            name = arn == null ? null : arn.substring(arn.lastIndexOf(':') + 1); // arn:aws:sqs:region:account:name
        }
        return name == null || name.isEmpty() ? null : name;
    }

    /**
     * About how many of a standard DLQ's letters another reader held out of sight as a run ended short of its bound
     * ({@code endedShort}), past the {@code own} the run hides itself (set aside, those past what it remembers too); 0 when
     * none, when it reached its bound, on a FIFO DLQ (a run there that receives nothing more says it as its problem, the
     * count exact) or when SQS cannot be asked. A review: a redrive for payments hides orders' letters in the DLQ they
     * share for 15 minutes, a dry run each letter it reads for 30 s; a redrive for orders meanwhile received none, ended
     * "moved 0", exit 0, and they came back after it, left to the DLQ's retention. A note, not a failure: a standard
     * queue's count may lag a minute (SQS says so).
     */
    static int hiddenByAnotherReader(SqsClient client, String deadLetterQueueUrl, boolean endedShort, long own) {
        if (!endedShort || deadLetterQueueUrl.endsWith(".fifo")) {
            return 0;
        }
        try {
            return (int) Math.min(Integer.MAX_VALUE, InFlight.beyond(client, deadLetterQueueUrl, own));
        } catch (RuntimeException e) {
            return 0; // a note left unsaid, not the run's report (what it moved) lost to it
        }
    }
}
