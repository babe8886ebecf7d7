package dev.ferry.adapters.sqs;

import dev.ferry.adapters.sqs.SqsErrors.EntryError;
import dev.ferry.domain.model.FerryException;
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

    private DeadLetterRedrive() {
    }

    static SqsQueues.RedriveReport run(SqsClient client, SqsQueues queues, String deadLetterQueueUrl, String targetUrl,
                                       int maxMessages, double perSecond, SqsQueues.RedriveProgress progress) {
        if (perSecond < 0 || Double.isNaN(perSecond)) {
            throw new IllegalArgumentException("perSecond must be >= 0, was " + perSecond);
        }
        boolean fifoTarget = queues.describe(targetUrl).fifo();
        String run = java.util.UUID.randomUUID().toString();
        // messages whose copy was stored altered, and how often: the next copy goes under a deduplication id of its
        // own, or SQS drops the good one as the altered one's duplicate and answers with the hash of what was sent
        var altered = new HashMap<String, Integer>();
        // the bodies (their MD5) of copies with no room for the run's mark: one of them dead-lettered again is known
        // by its body (a message of the same body still waiting in the DLQ is then left for the next run, said so)
        var unmarked = new HashSet<String>();
        long startedAt = System.currentTimeMillis();
        int moved = 0;
        int failed = 0;
        String problem = null;
        // this run's copies that came back (their consumer still fails them): kept out of sight until the run ends,
        // so the rest is moved and they are not moved again
        var setAside = new ArrayList<Message>();
        var seen = new HashSet<String>(); // the message ids of those counted, to count each once
        int cameBackCount = 0;
        int nothingToMove = 0;
        long started = System.nanoTime();
        try {
            while (moved + failed < maxMessages) {
                int want = Math.min(Batches.MAX_ENTRIES, maxMessages - moved - failed);
                if (perSecond > 0) {
                    want = Math.min(want, (int) Math.max(1, perSecond));
                    pace(started, moved + failed, perSecond);
                }
                int wanted = want;
                List<Message> batch;
                try {
                    batch = client.receiveMessage(b -> b.queueUrl(deadLetterQueueUrl).maxNumberOfMessages(wanted)
                            .waitTimeSeconds(1).visibilityTimeout(60).messageAttributeNames("All")
                            .messageSystemAttributeNames(MessageSystemAttributeName.MESSAGE_GROUP_ID,
                                    MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID,
                                    MessageSystemAttributeName.SENT_TIMESTAMP)).messages();
                } catch (RuntimeException e) {
                    throw SqsErrors.translate("ReceiveMessage", deadLetterQueueUrl, e);
                }
                if (batch.isEmpty()) {
                    break;
                }
                // a copy this run made, dead-lettered again (its consumer still fails): moving it again would go round
                // for ever. It is set aside, out of sight until the run ends; the run ends when only such copies are left.
                var cameBack = batch.stream().filter(m -> run.equals(runOf(m)) || runOf(m) == null
                        && unmarked.contains(Md5.ofBody(m.body())) && sentAt(m) >= startedAt).toList();
                if (!cameBack.isEmpty()) {
                    cameBackCount += setAside(client, deadLetterQueueUrl, cameBack, setAside, seen);
                    batch = batch.stream().filter(m -> !cameBack.contains(m)).toList();
                    if (batch.isEmpty()) {
                        if (++nothingToMove >= Math.max(3, 30 / wanted)) {
                            break; // receives in a row of set-aside copies only, 30 of them at least: nothing else left
                        }
                        continue;
                    }
                }
                nothingToMove = 0;
                Batches.Call<Message> copy = chunk -> {
                    var entries = new ArrayList<SendMessageBatchRequestEntry>(chunk.size());
                    for (int i = 0; i < chunk.size(); i++) {
                        var m = chunk.get(i);
                        var attributes = marked(m, run);
                        if (!attributes.containsKey(RUN)) {
                            unmarked.add(Md5.ofBody(m.body()));
                        }
                        var entry = SendMessageBatchRequestEntry.builder().id(Integer.toString(i)).messageBody(m.body())
                                .messageAttributes(attributes);
                        if (fifoTarget) {
                            Integer alteredTimes = altered.get(m.messageId());
                            entry.messageGroupId(group(m)).messageDeduplicationId("redrive-" + m.messageId()
                                    + (alteredTimes == null ? "" : "-" + alteredTimes));
                        }
                        entries.add(entry.build());
                    }
                    var unconfirmed = SendAnswers.unconfirmed(entries, client.sendMessageBatch(b -> b.queueUrl(targetUrl)
                            .entries(entries)));
                    for (var e : unconfirmed) {
                        if (fifoTarget && SendAnswers.ALTERED.equals(e.code())) {
                            altered.merge(chunk.get(Integer.parseInt(e.id())).messageId(), 1, Integer::sum);
                        }
                    }
                    return unconfirmed;
                };
                ToIntFunction<Message> size = m -> m.body().getBytes(StandardCharsets.UTF_8).length
                        + MessageAttributes.bytes(m.messageAttributes());
                var notSent = fifoTarget ? inGroupOrder(batch, size, copy)
                        : Batches.run(batch, size, SqsSink.MAX_BATCH_BYTES, 2, copy);
                var sent = batch.stream().filter(m -> !notSent.containsKey(m)).toList();
                var notDeleted = Batches.delete(client, deadLetterQueueUrl, sent, Message::receiptHandle, 2, null);
                Batches.changeVisibility(client, deadLetterQueueUrl, new ArrayList<>(notSent.keySet()), Message::receiptHandle,
                        m -> 0, 2, null);
                moved += sent.size();
                failed += notSent.size();
                if (problem == null && !notSent.isEmpty()) {
                    var first = notSent.values().iterator().next();
                    problem = first.code() + ": " + first.message();
                }
                progress.update(moved, failed);
                if (!notDeleted.isEmpty()) {
                    // copied but still in the DLQ: stop, so the next run's copies dedup (FIFO) or are few (standard)
                    throw new FerryException(notDeleted.size() + " message(s) were copied to '"
                            + targetUrl + "' but could not be deleted from '" + deadLetterQueueUrl + "': "
                            + notDeleted.values().iterator().next(), true);
                }
                if (!notSent.isEmpty()) {
                    break;
                }
            }
        } finally {
            // in sight again at once: left to their visibility, they would be hidden from whoever looks next
            Batches.changeVisibility(client, deadLetterQueueUrl, setAside, Message::receiptHandle, m -> 0, 2, null);
        }
        return new SqsQueues.RedriveReport(moved, failed, cameBackCount, problem);
    }

    /** How long a copy that came back is kept out of sight while the run goes on (renewed if seen again). */
    private static final int SET_ASIDE_SECONDS = 15 * 60;
    /** Copies set aside remembered at most (their receipt handles), to be put back in sight at the end. */
    private static final int MAX_SET_ASIDE = 10_000;

    /**
     * Hides copies that came back until the run ends (those past {@link #MAX_SET_ASIDE} only for the
     * receive's minute: they would not be put back in sight); how many of them are new to this run's count.
     */
    private static int setAside(SqsClient client, String queueUrl, List<Message> cameBack, List<Message> setAside,
                                java.util.Set<String> seen) {
        int added = 0;
        var hidden = new ArrayList<Message>();
        for (var m : cameBack) {
            if (seen.size() < MAX_SEEN ? seen.add(m.messageId()) : !seen.contains(m.messageId())) {
                added++;
            }
            int at = indexOf(setAside, m.messageId());
            if (at >= 0) {
                setAside.set(at, m); // its newest receipt handle
                hidden.add(m);
            } else if (setAside.size() < MAX_SET_ASIDE) {
                setAside.add(m);
                hidden.add(m);
            }
        }
        Batches.changeVisibility(client, queueUrl, hidden, Message::receiptHandle, m -> SET_ASIDE_SECONDS, 2, null);
        return added;
    }

    /** Message ids of copies that came back remembered at most, to count each once. */
    private static final int MAX_SEEN = 1_000_000;

    private static int indexOf(List<Message> messages, String messageId) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).messageId().equals(messageId)) {
                return i;
            }
        }
        return -1;
    }

    /** When SQS took the message into the DLQ (its clock, ms); 0 when it does not say. */
    private static long sentAt(Message m) {
        try {
            return Long.parseLong(m.attributes().getOrDefault(MessageSystemAttributeName.SENT_TIMESTAMP, "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The attribute each copy carries: the run that moved it (a message attribute survives a dead-lettering). */
    static final String RUN = "ferry.redrive";

    /**
     * The copy's attributes: the message's own without Ferry's dead-letter ones, and the run's mark when
     * there is room for it — a message that already carries all ten SQS takes goes unmarked rather than
     * have two of its own folded away (such a one, failing again, is known by its body).
     */
    private static Map<String, MessageAttributeValue> marked(Message m, String run) {
        // an earlier run's marks are not the message's own, and no reason to go unmarked this time — nor to go
        // out carrying another run's mark (folded into the overflow, it was not seen here, and such a copy coming
        // back was never known for this run's own)
        return ownCount(m, RUN) < MessageAttributes.MAX ? withMarks(m, RUN, run)
                : MessageAttributes.withoutDeadLetter(m.messageAttributes(), Map.of(), java.util.Set.of(RUN,
                        MessageAttributes.ORIGIN));
    }

    /** The message's own attributes, unfolded: without Ferry's dead-letter ones, a run's mark, an origin, {@code mark}. */
    private static int ownCount(Message m, String mark) {
        var own = MessageAttributes.expand(m.messageAttributes());
        own.keySet().removeIf(n -> n.startsWith(dev.ferry.domain.transport.DeadLetterAttributes.PREFIX) || n.equals(RUN)
                || n.equals(MessageAttributes.ORIGIN) || n.equals(mark));
        return own.size();
    }

    /**
     * A dead letter's attributes as it goes back to its queue: its own without Ferry's dead-letter ones, the
     * mark {@code name} (a redrive's run, a release's number) never folded away, and the identity its message
     * had ({@link MessageAttributes#ORIGIN}) when there is room for it beside its own.
     */
    static Map<String, MessageAttributeValue> withMarks(Message m, String name, String value) {
        var marks = new java.util.LinkedHashMap<String, String>();
        marks.put(name, value);
        String origin = originOf(m);
        if (origin != null && ownCount(m, name) + 2 <= MessageAttributes.MAX) {
            marks.put(MessageAttributes.ORIGIN, origin);
        }
        // an earlier redrive's marks go: not the message's own, and an origin is trusted only beside this one's mark
        return MessageAttributes.withoutDeadLetter(m.messageAttributes(), marks, java.util.Set.of(RUN, MessageAttributes.ORIGIN));
    }

    /**
     * The identity the dead letter's message had ({@link MessageAttributes#ORIGIN}): as Ferry wrote it on
     * the dead letter; for one SQS moved there itself (no reason of Ferry's), its own — SQS keeps the
     * message id and the deduplication id of what it moves.
     */
    private static String originOf(Message m) {
        var attributes = MessageAttributes.expand(m.messageAttributes());
        var written = attributes.get(MessageAttributes.DEAD_LETTER_ORIGIN);
        if (written != null) {
            return written.stringValue();
        }
        if (attributes.containsKey(dev.ferry.domain.transport.DeadLetterAttributes.REASON)) {
            return null; // a dead letter of a Ferry from before the identity was kept: not known
        }
        String dedup = m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID);
        return dedup != null && !dedup.isEmpty() && !Md5.isSha256Of(dedup, m.body().getBytes(StandardCharsets.UTF_8))
                ? dedup : m.messageId();
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

    /** Sleeps until {@code done} messages at {@code perSecond} have had their time since {@code started}. */
    private static void pace(long started, int done, double perSecond) {
        long due = started + (long) (done / perSecond * 1e9);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            try {
                java.util.concurrent.TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FerryException("redrive interrupted", e, false);
            }
        }
    }
}
