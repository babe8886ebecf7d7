package dev.ferry.adapters.sqs;

import dev.ferry.adapters.sqs.SqsErrors.EntryError;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/** {@link SqsQueues#redrive}: moves messages from a DLQ back, copy first, delete after, paced and reported. */
final class DeadLetterRedrive {

    private final SqsClient client;
    private final String deadLetterQueueUrl;
    private final String targetUrl;
    private final boolean fifoTarget;
    private final String run = java.util.UUID.randomUUID().toString();
    /**
     * Messages whose copy was stored altered, and how often: the next copy goes under a deduplication id of its
     * own, or SQS drops the good one as the altered one's duplicate and answers with the hash of what was sent.
     */
    private final Map<String, Integer> altered = new HashMap<>();
    /**
     * The copies with no room for the run's mark, by the SQS message id each was stored under (and, FIFO, the
     * deduplication id it was sent with): one dead-lettered again is known by them — a dead letter Ferry wrote
     * names it as its origin, one SQS moved keeps its message id. (Known by its body, a first version took
     * untouched dead letters of the same body for copies come back.)
     */
    private final java.util.Set<String> unmarked = new HashSet<>();
    private final String targetQueue;
    private final String targetArn;
    /**
     * This run's copies that came back (their consumer still fails them): kept out of sight until the run ends,
     * so the rest is moved and they are not moved again.
     */
    private final SetAsideCopies setAside;
    /**
     * The parked groups' dead letters met, left in place, out of sight until the run ends (other queues' letters too:
     * {@link #otherQueues}). Moved (a forced redrive, for another dead letter there), they went back without their
     * reasons and were parked again behind their head, none of them said to be it any more; moved between a release's
     * batches, the group's later messages went ahead of its earlier ones. A release alone puts them back, in order.
     */
    private final SetAsideCopies parkedLetters;
    private final ParkedNow parkedNow; // which letters parkedLetters takes: those of groups parked now, as the caller says
    private final OtherQueuesLetters otherQueues; // those of queues other than the target's, left for them unless asked
    private int moved;
    private int failed;
    private int cameBack;
    private int parked;
    private String problem;

    private DeadLetterRedrive(SqsClient client, String deadLetterQueueUrl, SqsQueues.QueueInfo target, ParkedNow parkedNow,
                              boolean otherQueuesToo) {
        this.client = client;
        this.deadLetterQueueUrl = deadLetterQueueUrl;
        this.targetUrl = target.url();
        this.fifoTarget = target.fifo();
        this.targetQueue = target.name();
        this.targetArn = target.arn();
        this.setAside = new SetAsideCopies(client, deadLetterQueueUrl);
        this.parkedLetters = new SetAsideCopies(client, deadLetterQueueUrl);
        this.parkedNow = parkedNow;
        this.otherQueues = new OtherQueuesLetters(otherQueuesToo ? null : target.name(), parkedLetters);
    }

    static SqsQueues.RedriveReport run(SqsClient client, SqsQueues queues, String deadLetterQueueUrl, String targetUrl,
                                       int maxMessages, double perSecond, SqsQueues.RedriveProgress progress,
                                       java.util.function.BiPredicate<String, String> parkedNow, boolean otherQueuesToo) {
        if (perSecond < 0 || Double.isNaN(perSecond)) {
            throw new IllegalArgumentException("perSecond must be >= 0, was " + perSecond);
        }
        var redrive = new DeadLetterRedrive(client, deadLetterQueueUrl, queues.describe(targetUrl), new ParkedNow(parkedNow),
                otherQueuesToo);
        int hidden;
        try {
            redrive.moveUpTo(maxMessages, perSecond, progress);
            // asked while the letters it set aside are hidden still, and counted as its own: asked once they were put back
            // in sight, a count that lags (SQS's) took them for another reader's
            boolean endedShort = redrive.moved + redrive.failed < maxMessages;
            hidden = OtherQueuesLetters.hiddenByAnotherReader(client, deadLetterQueueUrl, endedShort,
                    redrive.parked + redrive.cameBack + redrive.otherQueues.left() + redrive.moved); // a lagging count
                    // still holds the letters this run deleted (SQS: up to a minute): the note under-reports, never invents
        } finally {
            // in sight again at once: left to their visibility, they would be hidden from whoever looks next (a
            // release of a parked group among them would find it held by someone else)
            try {
                redrive.setAside.putBack();
            } finally {
                redrive.parkedLetters.putBack();
            }
        }
        // a FIFO DLQ's letters behind the other queues' in their groups never came: unsaid, the run ended "done", exit 0
        String problem = redrive.problem != null ? redrive.problem
                : redrive.otherQueues.heldBehind(deadLetterQueueUrl, redrive.moved + redrive.failed < maxMessages);
        return new SqsQueues.RedriveReport(redrive.moved, redrive.failed, redrive.cameBack, problem, redrive.parked,
                redrive.parkedNow.groups(), redrive.otherQueues.left(), redrive.otherQueues.queues(), hidden);
    }

    private void moveUpTo(int maxMessages, double perSecond, SqsQueues.RedriveProgress progress) {
        int nothingToMove = 0;
        int emptyAnswers = 0;
        long started = System.nanoTime();
        while (moved + failed < maxMessages) {
            if (progress.stopping()) { // asked before every receive: a run of set-aside ones only moves nothing
                progress.update(moved, failed);
                return;
            }
            int want = Math.min(Batches.MAX_ENTRIES, maxMessages - moved - failed);
            if (perSecond > 0) {
                want = Math.min(want, (int) Math.max(1, perSecond));
                if (!pace(started, moved + failed, perSecond, progress)) {
                    progress.update(moved, failed);
                    return;
                }
            }
            var batch = OtherQueuesLetters.receive(client, deadLetterQueueUrl, want, 60); // with what says whose each is
            if (batch.isEmpty()) { // a receive may answer empty while messages wait (SQS samples its servers): one ended
                if (++emptyAnswers < ParkedGroupMover.EMPTY_ANSWERS_BELIEVED) { // the redrive, said as a success
                    continue;
                }
                // nothing more received, yet another reader may hold messages out of sight (a release hides the other
                // groups' letters while it reads): not said, a redrive beside one ended "moved 0", exit 0, the DLQ full.
                // This run's own are all it set aside, those past what it remembers too (hidden for the receive's minute):
                // counted by what it remembers, those of a DLQ of more than 10,000 parked letters were another reader's
                // FIFO only: a standard queue's count may lag a minute (SQS says so), and every redrive failed falsely (a
                // note there: OtherQueuesLetters.hiddenByAnotherReader)
                problem = deadLetterQueueUrl.endsWith(".fifo")
                        ? InFlight.heldFromRedrive(client, deadLetterQueueUrl, parked + cameBack + otherQueues.left()) : null;
                return;
            }
            emptyAnswers = 0;
            int asideBefore = parked + cameBack + otherQueues.left();
            batch = otherQueues.without(withoutCopiesThatCameBack(withoutParked(batch)));
            if (batch.isEmpty()) {
                // counted only when nothing new was set aside: three parked groups ahead of another's dead letter,
                // each read whole, ended the run "done", that one never moved, every run the same
                if (parked + cameBack + otherQueues.left() == asideBefore && ++nothingToMove >= Math.max(3, 30 / want)) {
                    return; // receives in a row of set-aside ones only, 30 of them at least: nothing else is left
                }
                continue;
            }
            nothingToMove = 0;
            if (!move(batch, progress)) {
                return;
            }
        }
    }

    /**
     * The batch without this run's copies dead-lettered again (their consumer still fails): moving them again
     * would go round for ever. They are set aside, out of sight until the run ends.
     */
    private List<Message> withoutCopiesThatCameBack(List<Message> batch) {
        var back = batch.stream().filter(m -> run.equals(runOf(m)) || !unmarked.isEmpty() && runOf(m) == null
                && (unmarked.contains(m.messageId()) || unmarked.contains(deadLetterOrigin(m)))).toList();
        if (back.isEmpty()) {
            return batch;
        }
        cameBack += setAside.add(back);
        return batch.stream().filter(m -> !back.contains(m)).toList();
    }

    /**
     * The batch without the dead letters of groups parked now, set aside: a copy of this run parked again behind its
     * group's head is one too (it was moved, and waits behind the head now, as the rest of its group does).
     */
    private List<Message> withoutParked(List<Message> batch) {
        var kept = parkedNow.in(batch);
        if (kept.isEmpty()) {
            return batch;
        }
        parked += parkedLetters.add(kept);
        return batch.stream().filter(m -> !kept.contains(m)).toList();
    }

    /** Copies the batch, confirms, deletes what was copied; false when the run ends here (a copy failed). */
    private boolean move(List<Message> batch, SqsQueues.RedriveProgress progress) {
        ToIntFunction<Message> size = m -> m.body().getBytes(StandardCharsets.UTF_8).length  // the copy's, marks and all
                + MessageAttributes.bytes(marked(m, run, targetQueue, targetArn));
        var notSent = fifoTarget ? inGroupOrder(batch, size, this::copy)
                : Batches.run(batch, size, SqsSink.MAX_BATCH_BYTES, 2, this::copy);
        var sent = batch.stream().filter(m -> !notSent.containsKey(m)).toList();
        var notDeleted = Batches.delete(client, deadLetterQueueUrl, sent, Message::receiptHandle, 2, null);
        Batches.changeVisibility(client, deadLetterQueueUrl, new ArrayList<>(notSent.keySet()), Message::receiptHandle,
                m -> 0, 2, null);
        moved += sent.size();
        failed += notSent.size();
        if (problem == null && !notSent.isEmpty()) {
            // the refusal itself, not one held back behind it (the map has no order: "HeldBack" nine times in ten)
            var first = notSent.values().stream().filter(e -> !"HeldBack".equals(e.code())).findFirst()
                    .orElse(notSent.values().iterator().next());
            problem = first.code() + ": " + first.message();
        }
        RuntimeException stopped = null;
        try {
            progress.update(moved, failed);
        } catch (RuntimeException e) { // Ferry closing: said after what the operator must know first
            stopped = e;
        }
        if (!notDeleted.isEmpty()) {
            // copied but still in the DLQ: stop, so the next run's copies dedup (FIFO) or are few (standard); said over a
            // stop under way, which said only "stopped" while the copies were in both queues
            throw new FerryException(notDeleted.size() + " message(s) were copied to '"
                    + targetUrl + "' but could not be deleted from '" + deadLetterQueueUrl + "': "
                    + notDeleted.values().iterator().next(), true);
        }
        if (stopped != null) {
            throw stopped;
        }
        return notSent.isEmpty();
    }

    /** Sends a chunk's copies to the target; what its answer did not confirm. */
    private List<software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry> copy(List<Message> chunk) {
        var entries = new ArrayList<SendMessageBatchRequestEntry>(chunk.size());
        for (int i = 0; i < chunk.size(); i++) {
            var m = chunk.get(i);
            var attributes = marked(m, run, targetQueue, targetArn);
            var entry = SendMessageBatchRequestEntry.builder().id(Integer.toString(i)).messageBody(m.body())
                    .messageAttributes(attributes);
            if (fifoTarget) {
                Integer alteredTimes = altered.get(m.messageId());
                entry.messageGroupId(group(m)).messageDeduplicationId("redrive-" + m.messageId()
                        + (alteredTimes == null ? "" : "-" + alteredTimes));
            }
            entries.add(entry.build());
        }
        var answer = client.sendMessageBatch(b -> b.queueUrl(targetUrl).entries(entries)
                .overrideConfiguration(SqsTimeouts.CALLS));
        var unconfirmed = SendAnswers.unconfirmed(entries, answer);
        for (var ok : answer.successful()) { // the unmarked ones, to know them when they come back
            var entry = entries.get(Integer.parseInt(ok.id()));
            if (!entry.messageAttributes().containsKey(RUN) && unmarked.size() < MAX_UNMARKED) {
                unmarked.add(ok.messageId());
                if (entry.messageDeduplicationId() != null) {
                    unmarked.add(entry.messageDeduplicationId());
                }
            }
        }
        for (var e : unconfirmed) {
            if (fifoTarget && SendAnswers.ALTERED.equals(e.code())) {
                altered.merge(chunk.get(Integer.parseInt(e.id())).messageId(), 1, Integer::sum);
            }
        }
        return unconfirmed;
    }

    /** The attribute each copy carries: the run that moved it (a message attribute survives a dead-lettering). */
    static final String RUN = dev.ferry.domain.transport.DeadLetterAttributes.REDRIVE;

    /** Unmarked copies remembered at most (two ids each). */
    private static final int MAX_UNMARKED = 1_000_000;

    /** The origin Ferry wrote on a dead letter (the identity of the message it copies); null when none. */
    private static String deadLetterOrigin(Message m) {
        var origin = MessageAttributes.expand(m.messageAttributes()).get(MessageAttributes.DEAD_LETTER_ORIGIN);
        return origin == null ? null : origin.stringValue();
    }

    /**
     * The copy's attributes: the message's own without Ferry's dead-letter ones, the run's mark and its identity, its own
     * folded ({@code ferry.overflow}, which Ferry's source unfolds) where they and the marks are more than SQS takes. Left
     * unmarked for room, a message of nine or ten attributes came back without its identity, a new event: a fan-out's
     * sinks written again.
     */
    private static Map<String, MessageAttributeValue> marked(Message m, String run, String targetQueue, String targetArn) {
        var marked = withMarks(m, RUN, run, targetQueue, targetArn);
        if (m.body().getBytes(StandardCharsets.UTF_8).length + MessageAttributes.bytes(marked) <= SqsSink.MAX_BATCH_BYTES) {
            return marked;
        }
        // the marks (and the fold) would make a copy larger than SQS takes, refused at every run: it goes unmarked
        return MessageAttributes.withoutDeadLetter(m.messageAttributes(), Map.of(), MessageAttributes.MOVED_BACK_MARKS);
    }

    /**
     * A dead letter's attributes as it goes back to its queue: its own without Ferry's dead-letter ones, the
     * mark {@code name} (a redrive's run, a release's number) and the identity its message had
     * ({@link MessageAttributes#ORIGIN}), neither folded away (its own are, where all do not fit).
     */
    static Map<String, MessageAttributeValue> withMarks(Message m, String name, String value, String targetQueue,
                                                       String targetArn) {
        var marks = new java.util.LinkedHashMap<String, String>();
        marks.put(name, value);
        String origin = targetArn == null || targetArn.isEmpty() ? null : originOf(m, targetQueue, targetArn);
        if (origin != null) {
            marks.put(MessageAttributes.ORIGIN, MessageAttributes.origin(targetArn, origin));
        }
        // an earlier redrive's marks go: not the message's own, and an origin is trusted only beside this one's mark
        return MessageAttributes.withoutDeadLetter(m.messageAttributes(), marks, MessageAttributes.MOVED_BACK_MARKS);
    }

    /**
     * The identity the dead letter's message had ({@link MessageAttributes#ORIGIN}), when it goes back to the
     * queue it came from: as Ferry wrote it on the dead letter (from {@code targetQueue}: a DLQ shared by two
     * queues holds the other's, whose ids may mean other events here); for one SQS moved there itself, the
     * identity it carried when a redrive or release had moved it back to {@code targetQueue} before, else its
     * message id (SQS keeps it; unique, so it names no other event). Null when not known.
     */
    private static String originOf(Message m, String targetQueue, String targetArn) {
        var attributes = MessageAttributes.expand(m.messageAttributes());
        var written = attributes.get(MessageAttributes.DEAD_LETTER_ORIGIN);
        if (written != null) {
            var from = attributes.get(dev.ferry.domain.transport.DeadLetterAttributes.SOURCE);
            return from != null && targetQueue.equals(from.stringValue()) ? written.stringValue() : null;
        }
        if (attributes.containsKey(dev.ferry.domain.transport.DeadLetterAttributes.REASON)) {
            return null; // a dead letter of a Ferry from before the identity was kept: not known
        }
        var carried = attributes.get(MessageAttributes.ORIGIN);
        if (carried != null && carried.stringValue() != null
                && (attributes.containsKey(RUN) || attributes.containsKey(GroupParker.RELEASE_ATTRIBUTE))) {
            return MessageAttributes.originIn(carried.stringValue(), targetArn);
        }
        // SQS moved it itself (its redrive policy): its message id, which SQS keeps — not the deduplication id, which
        // ElasticMQ replaces on such a move, and which from another queue sharing the DLQ may mean another event here
        return m.messageId();
    }

    private static String runOf(Message m) {
        var value = MessageAttributes.expand(m.messageAttributes()).get(RUN);
        return value == null ? null : value.stringValue();
    }

    private static String group(Message m) {
        String group = m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID);
        return group == null ? "ferry-redrive" : group;
    }

    /**
     * Copies to a FIFO queue so that no message overtakes an earlier one of its group: a round sends
     * at most one message of each group (a retry resends it alone), and a group whose copy failed for
     * good sends no more this run — they go back to the dead-letter queue, still in order.
     */
    private static Map<Message, EntryError> inGroupOrder(List<Message> batch, ToIntFunction<Message> size,
                                                         Batches.Call<Message> copy) {
        var failed = new IdentityHashMap<Message, EntryError>();
        var pending = new ArrayList<>(batch);
        var stopped = new HashMap<String, String>(); // group -> the message whose copy failed
        while (!pending.isEmpty()) {
            var round = new ArrayList<Message>();
            var groups = new HashSet<String>();
            for (var it = pending.iterator(); it.hasNext(); ) {
                var m = it.next();
                var blocker = stopped.get(group(m));
                if (blocker != null) {
                    failed.put(m, new EntryError("HeldBack", "held back behind message " + blocker
                            + " of its group, whose copy failed", false));
                    it.remove();
                } else if (groups.add(group(m))) {
                    round.add(m);
                }
            }
            var errors = Batches.run(round, size, SqsSink.MAX_BATCH_BYTES, 2, copy);
            for (var m : round) {
                pending.remove(m);
                var error = errors.get(m);
                if (error != null) {
                    failed.put(m, error);
                    stopped.put(group(m), m.messageId());
                }
            }
        }
        return failed;
    }

    /**
     * Sleeps until {@code done} messages at {@code perSecond} have had their time since {@code started}, asking
     * {@code progress} every {@link #PACE_SLICE_NANOS} whether to stop; false when it said so.
     */
    private static boolean pace(long started, int done, double perSecond, SqsQueues.RedriveProgress progress) {
        long due = started + (long) (done / perSecond * 1e9);
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
            if (progress.stopping()) {
                return false;
            }
            try {
                java.util.concurrent.TimeUnit.NANOSECONDS.sleep(Math.min(wait, PACE_SLICE_NANOS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FerryException("redrive interrupted", e, false);
            }
        }
        return !progress.stopping();
    }

    /** How often a paced wait asks whether to stop. */
    private static final long PACE_SLICE_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(200);
}
