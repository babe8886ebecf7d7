package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Releases a parked group of a FIFO source ({@code ferry groups release}, through {@link SqsQueues#parkedGroupMover}): reads the FIFO
 * dead-letter queue, and sends the group's parked messages back to the source queue in their
 * order, each with the release's token, then deletes them from the dead-letter queue (copy first,
 * delete after). The head, with every other dead letter of its event, is only deleted when it is to be skipped.
 * Messages of other groups, dead letters of the group that were not parked, and those another queue sharing the
 * dead-letter queue dead-lettered (or SQS moved there from it), are left where they are (made visible again at the end);
 * one SQS moved there from this queue itself is the head's, a second copy (deleted), or stops the release, said for what
 * it is ({@link SqsMovedLetters}).
 */
final class ParkedGroupMover implements GroupParker.Mover {

    /** A bound on the messages one move reads, so a dead-letter queue that keeps filling cannot hold it forever. */
    private static final int MAX_READ = 100_000;
    /** How long what a move reads stays hidden from other readers, in seconds, unless made visible sooner. */
    private static final int READ_VISIBILITY = 120;
    /**
     * Why a move ended on {@link GroupParker.Progress#stopping}: the batches before went back and are recorded, the rest
     * waits in order for the next release (said as itself: "parked again behind a new head" sent the operator looking
     * for a head there was none of).
     */
    private static final String STOPPING = "Ferry is stopping; release it again to go on";

    private final SqsClient client;
    private final String deadLetterQueueUrl;
    private final String queueUrl;
    /** The source queue's name, as its dead letters carry it ({@link DeadLetterAttributes#SOURCE}). */
    private final String queueName;
    /** {@link #MAX_READ}, or a test's own. */
    private final int maxRead;
    /** {@link #READ_VISIBILITY}, or a test's own. */
    private final int readVisibility;
    private FerryException failure;
    private String queueArn;
    /**
     * The events whose head the release of {@link #droppedBy} dropped ({@link HeadFirst#drops}), kept across its
     * moves: once a move dropped the head, the next ones are not asked to skip it, and a dead letter of its event they
     * met went back.
     */
    private final Set<String> dropped = new HashSet<>();
    private String droppedBy;
    /** The letters of the group the release of {@link #droppedBy} met ({@link SqsMovedLetters#met}), kept as above. */
    private final Set<String> met = new HashSet<>();

    /**
     * The queue's ARN, asked once (the copies' identity is bound to it); what describing the queue threw when it
     * cannot be had — the release then fails and is made again, rather than send copies without their identity.
     */
    private String queueArn() {
        if (queueArn == null) {
            queueArn = SqsQueues.of(client).describe(queueUrl).arn();
        }
        return queueArn;
    }

    ParkedGroupMover(SqsClient client, String deadLetterQueueUrl, String queueUrl) {
        this(client, deadLetterQueueUrl, queueUrl, MAX_READ);
    }

    /** One that reads at most {@code maxRead} messages a move. */
    ParkedGroupMover(SqsClient client, String deadLetterQueueUrl, String queueUrl, int maxRead) {
        this(client, deadLetterQueueUrl, queueUrl, maxRead, READ_VISIBILITY);
    }

    /** One that reads at most {@code maxRead} messages a move, each hidden {@code readVisibility} seconds. */
    ParkedGroupMover(SqsClient client, String deadLetterQueueUrl, String queueUrl, int maxRead, int readVisibility) {
        if (!deadLetterQueueUrl.endsWith(".fifo") || !queueUrl.endsWith(".fifo")) {
            throw new FerryException("groups are parked on FIFO queues only; " + queueUrl + " and its dead-letter queue "
                    + deadLetterQueueUrl + " must both be FIFO", false);
        }
        this.client = client;
        this.deadLetterQueueUrl = deadLetterQueueUrl;
        this.queueUrl = queueUrl;
        this.queueName = queueUrl.substring(queueUrl.lastIndexOf('/') + 1);
        this.maxRead = maxRead;
        this.readVisibility = readVisibility;
    }

    @Override
    public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
        return move(parked, token, skipHead, (counted, redriven) -> { });
    }

    /**
     * Tells {@code progress} each batch whose copies are made and originals deleted, before the read goes on; ends after
     * the last batch told when it says {@link GroupParker.Progress#stopping stopping}.
     */
    @Override
    public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
        failure = null;
        long counted = 0;
        long redriven = 0;
        var others = new ArrayList<Message>();
        // others read are kept hidden while the read goes on: visible again after 120 s, a few thousand other groups'
        // heads were read again and again, the empty answers that end a read never came, and it read to its bound
        // (half an hour), every release the same: the group parked for good
        long hiddenAt = System.nanoTime();
        int read = 0;
        int emptyAnswers = 0;
        if (!token.equals(droppedBy)) { // another release: what an earlier one dropped is not this one's to drop
            dropped.clear();
            met.clear();
            droppedBy = token;
        }
        var order = new HeadFirst(parked, token, dropped);
        var sqsMoved = new SqsMovedLetters(parked, token, queueName, dropped, met);
        long droppedLetters = 0; // of the head's event, deleted: said, as counted less redriven does not tell it
        try {
            while (read < maxRead) {
                if (!others.isEmpty() && System.nanoTime() - hiddenAt >= readVisibility * 500_000_000L) {
                    Batches.changeVisibility(client, deadLetterQueueUrl, others, Message::receiptHandle,
                            m -> readVisibility, 2, null); // half of it gone: hidden for the whole of it again
                    hiddenAt = System.nanoTime();
                }
                List<Message> batch;
                try {
                    // with the queue SQS moved a letter from, as the redrive reads it: one SQS moved into a shared DLQ
                    // itself was taken for this queue's, and the advice to delete it deleted another queue's message
                    batch = OtherQueuesLetters.receive(client, deadLetterQueueUrl, 10, readVisibility);
                } catch (RuntimeException e) {
                    var failed = e instanceof FerryException f ? f : SqsErrors.translate("ReceiveMessage", deadLetterQueueUrl, e);
                    if (counted == 0 && redriven == 0) {
                        throw failed;
                    }
                    // what went back before this still counts (thrown, it would not: numbered again from 1 next time)
                    return new GroupParker.Moved(counted, redriven, droppedLetters, "reading " + deadLetterQueueUrl
                            + " failed after " + redriven + " message(s) went back: " + failed.getMessage()
                            + "; release it again");
                }
                if (batch.isEmpty()) {
                    if (++emptyAnswers < EMPTY_ANSWERS_BELIEVED) {
                        continue; // a receive may answer empty while messages wait (SQS samples its servers)
                    }
                    break;
                }
                emptyAnswers = 0;
                read += batch.size();
                var send = new ArrayList<Message>();
                var delete = new ArrayList<Message>();
                var defer = new ArrayList<Message>();
                String blocker = null;
                // the batch's letters of the group known before any is read: SQS may put its own letter of a message ahead
                // of the one Ferry wrote of it (ElasticMQ keeps the message's place), and met first it was a stranger
                batch.stream().filter(m -> parked.group().equals(m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID)))
                        .forEach(sqsMoved::met);
                for (var m : batch) {
                    String group = m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID);
                    var reason = m.messageAttributes().get(DeadLetterAttributes.REASON);
                    String own = reason == null ? null : reason.stringValue();
                    // SQS's letter of the head, by its id, read as the head's: taken for one "ahead of the group's head",
                    // the release stopped, and the redrive it advised sent the head back after all its later messages
                    String why = sqsMoved.readAs(m, own);
                    String fromQueue = OtherQueuesLetters.sourceQueue(m);
                    if (!parked.group().equals(group)) {
                        others.add(m);
                    } else if (blocker == null && sqsMoved.takesAsSecondCopy(m, own)) {
                        continue; // deleted after the loop; not counted, as the letter it copies is
                    } else if (blocker == null && sentBackByThis(m, token)) {
                        // this release sent it back, and it came here again: the group was parked again behind a new head
                        // while the release ran, and its copies follow the old ones still here. Sent on, the group would
                        // end in the queue turned round (the rest of the old ones, then these)
                        others.add(m);
                        blocker = why == null && sqsMoved.movedFromHere(m) ? sqsMoved.stopsAt(m) // SQS's, not a new head
                                : "the group was parked again while this release ran (message " + m.messageId() + " was "
                                + "sent back by it and dead-lettered again): release it again, from its new head";
                    } else if (blocker == null && fromQueue != null && !fromQueue.equals(queueName)) {
                        // a queue sharing this DLQ parked a group of the same id: its messages are its own, never sent
                        // here (another pipeline's events, lost to it); a FIFO queue gives nothing of the group past it
                        others.add(m);
                        blocker = "the dead-letter queue holds message " + m.messageId() + " of group " + group
                                + " dead-lettered from queue " + fromQueue + " (which shares this dead-letter queue), ahead "
                                + "of this source's parked messages: " + (GroupParker.parkedWith(why, group)
                                ? "release that queue's group first" : "redrive it to that queue or delete it first")
                                + " (a dead-letter queue of its own for each queue that parks groups avoids this)";
                    } else if (blocker == null && why == null && sqsMoved.movedFromHere(m)) {
                        // SQS moved it from this queue itself: taken for one from before the park, the release said
                        // "delete it" (a message that never ran, lost). Sent back on its own, a second copy of a letter
                        // Ferry wrote (its delete from the queue failed) ran twice, a skip-head's head too: the operator's
                        others.add(m);
                        blocker = sqsMoved.stopsAt(m);
                    } else if (blocker != null || !GroupParker.parkedWith(why, parked.group())) {
                        // a dead letter of the group from before it was parked: the FIFO queue gives nothing of the
                        // group past it, and sending it back is not this command's call
                        others.add(m);
                        if (blocker == null) {
                            blocker = "the dead-letter queue holds message " + m.messageId() + " of group " + group
                                    + ", which was not parked with it (" + (why == null ? "no reason" : why)
                                    + "), ahead of its parked messages: delete it, or move it with 'ferry queues "
                                    + "redrive --force' (not --native) — sent while its group is parked, it is parked "
                                    + "behind the group's head and goes back last, after the messages parked now";
                        }
                    } else if (order.defers(m, why)) {
                        defer.add(m); // to the end of the dead-letter queue, to come after the head
                        sqsMoved.met(m); // a copy SQS moved of it, met before it comes round, is no message of its own
                    } else {
                        boolean drops = order.drops(m, why, skipHead); // the head, and any other dead letter of its event
                        sqsMoved.wentOn(m, why, drops); // a letter SQS moved met from now on comes after the head
                        (drops ? delete : send).add(m);
                        counted++;
                    }
                }
                // whatever becomes of the batch: the letter each copies went back, was dropped, or is still here
                droppedLetters += sqsMoved.deleteCopies(client, deadLetterQueueUrl, others);
                blocker = blocker != null ? blocker : sqsMoved.copiesLeft();
                // asked of every batch, before the store is read: whoever runs the release is going away (Ferry's close,
                // the CLI's Ctrl-C). Not told, the move read on until the close took the store under a batch sent back:
                // its count lost, the next release numbered its copies below those, and the group flowed ahead of them
                boolean stopping = progress.stopping();
                boolean releasing;
                try {
                    releasing = stopping || send.isEmpty() && delete.isEmpty() && defer.isEmpty() || progress.stillReleasing();
                } catch (RuntimeException storeDown) { // the store down past its retries: the batch visible again at once
                    others.addAll(defer);
                    others.addAll(send);
                    others.addAll(delete);
                    throw storeDown;
                }
                if (stopping || !releasing) {
                    // stopping: ended after the batch recorded, nothing of this one goes. Else a message let through the
                    // drained group failed and is its new head; its dead letter, in this batch perhaps, is not this
                    // release's to send back under its token: nothing of the batch goes either
                    others.addAll(defer);
                    others.addAll(send);
                    others.addAll(delete);
                    return new GroupParker.Moved(counted - send.size() - delete.size(), redriven, droppedLetters,
                            stopping ? STOPPING : "the group was parked again behind a new head while this release ran: "
                            + "release it again, from its new head");
                }
                String deferring = order.putBack(client, deadLetterQueueUrl, defer);
                if (order.batchStopped()) {
                    // nothing of this batch goes: sent on, its head went ahead of what stays in front of the next move
                    others.addAll(defer);
                    others.addAll(send);
                    others.addAll(delete);
                    counted -= send.size() + delete.size();
                    return new GroupParker.Moved(counted, redriven, droppedLetters, deferring + "; release it again");
                }
                if (deferring != null) {
                    failure = new FerryException(deferring, true);
                }
                int drops = delete.size(); // so far the letters of the head's event only: those sent back go in after them
                if (!send.isEmpty()) {
                    var sent = sendBack(send, parked.group(), token, parked.redriven() + redriven);
                    redriven += sent.size();
                    counted -= send.size() - sent.size();
                    delete.addAll(sent);
                    others.addAll(send.subList(sent.size(), send.size())); // visible again at once, for the next run
                }
                var notDeleted = Batches.delete(client, deadLetterQueueUrl, delete, Message::receiptHandle, 2, null);
                droppedLetters += delete.subList(0, drops).stream().filter(m -> !notDeleted.containsKey(m)).count();
                if (!notDeleted.isEmpty()) {
                    // sent back but still in the DLQ: they would be sent again by the next release, so stop and say so
                    return new GroupParker.Moved(counted - notDeleted.size(), redriven, droppedLetters,
                            notDeleted.size() + " message(s) of group " + parked.group() + " were sent back but could not "
                            + "be deleted from " + deadLetterQueueUrl + ": " + notDeleted.values().iterator().next()
                            + "; delete them by hand before releasing again");
                }
                if (!delete.isEmpty()) {
                    progress.movedSoFar(counted, redriven);
                }
                if (blocker != null) {
                    return new GroupParker.Moved(counted, redriven, droppedLetters, blocker);
                }
                if (failure != null) {
                    return new GroupParker.Moved(counted, redriven, droppedLetters, "sending group " + parked.group()
                            + " back stopped after " + redriven + " message(s), nothing after the failure was moved; release "
                            + "it again: " + failure.getMessage());
                }
            }
        } finally {
            Batches.changeVisibility(client, deadLetterQueueUrl, others, Message::receiptHandle, m -> 0, 2, null);
        }
        if (read >= maxRead) {
            // the group's rest may lie past what was read (a DLQ of many): ended without a word, the release was finished and the group flowed ahead of its messages still here
            return new GroupParker.Moved(counted, redriven, droppedLetters, "reading " + deadLetterQueueUrl + " stopped after "
                    + read + " message(s), " + redriven + " of group " + parked.group() + " sent back; the rest may be past "
                    + "them: release it again to go on" + (redriven == 0 ? " (none of the group's was among them: the "
                    + "queue holds that many of other groups ahead of it — release or move those first)" : ""));
        }
        if (parked.moved() + counted < parked.parked()) {
            String held = heldElsewhere();
            if (held != null) {
                return new GroupParker.Moved(counted, redriven, droppedLetters, held);
            }
        }
        return new GroupParker.Moved(counted, redriven, droppedLetters, null);
    }

    /**
     * Empty answers in a row that end the read: one was believed, and a short poll of SQS may answer
     * empty while messages wait (it asks some of its servers) — the release ended early, and a group
     * parked long enough ago was unparked with messages still in its dead-letter queue. Each is a
     * long poll of a second.
     */
    static final int EMPTY_ANSWERS_BELIEVED = 3;

    /** Whether {@code m} carries the mark of the release of {@code token}: it was sent back by it, and came back here. */
    private static boolean sentBackByThis(Message m, String token) {
        // unfolded: on a dead-letter copy, a message's own attributes past the room left beside Ferry's are folded into
        // one, by name — and read raw, a mark folded away let the release send its own returns on, the group turned round
        var mark = MessageAttributes.expand(m.messageAttributes()).get(GroupParker.RELEASE_ATTRIBUTE);
        var pass = mark == null ? null : GroupParker.pass(mark.stringValue());
        return pass != null && pass.token().equals(token);
    }

    /**
     * Why the group's remaining parked messages may not have been seen: the dead-letter queue holds
     * messages someone else is reading (another release, a redrive) — a FIFO queue shows nothing of a
     * group past one in flight, and a pass that missed them would let the group flow ahead of them.
     * Null when none are in flight. The count is approximate and lags: a moment after the messages this
     * move made visible again, it is asked a few times.
     */
    private String heldElsewhere() {
        long held;
        try {
            held = InFlight.beyond(client, deadLetterQueueUrl, 0);
        } catch (RuntimeException e) {
            return "could not ask " + deadLetterQueueUrl + " whether its messages are all visible: "
                    + dev.ferry.domain.model.Thrown.message(e);
        }
        return held == 0 ? null : held + " message(s) of " + deadLetterQueueUrl + " are being read by someone else "
                + "(another release, a redrive), and fewer of the group's parked messages than were counted came back; the "
                + "group stays parked: release it again when that is done";
    }

    /**
     * Sends each message back in turn, so a failure leaves nothing after it sent before it (a batch
     * could fail in its middle); returns those sent, which are deleted from the DLQ before any error
     * is reported.
     */
    private List<Message> sendBack(List<Message> messages, String group, String token, long numberedSoFar) {
        var sent = new ArrayList<Message>(messages.size());
        String arn;
        try {
            arn = queueArn();
        } catch (RuntimeException e) {
            failure = e instanceof FerryException f ? f : SqsErrors.translate("GetQueueAttributes", queueUrl, e);
            return sent;
        }
        for (var m : messages) {
            Map<String, MessageAttributeValue> attributes = DeadLetterRedrive.withMarks(m, GroupParker.RELEASE_ATTRIBUTE,
                    GroupParker.releaseValue(token, numberedSoFar + sent.size() + 1), queueName, arn);
            try {
                var answer = client.sendMessage(b -> b.queueUrl(queueUrl).messageBody(m.body()).messageAttributes(attributes)
                        .messageGroupId(group).messageDeduplicationId(dedupId(token, m.messageId()))
                        .overrideConfiguration(SqsTimeouts.CALLS));
                String altered = SendAnswers.altered(m.body(), attributes, answer.md5OfMessageBody(), answer.md5OfMessageAttributes());
                if (altered != null) {
                    // stored altered on the way (its body, or the release mark and origin it carries): its dead letter is
                    // kept, and the release taken up again sends it under an id of its own (the same id: the good copy
                    // dropped as the damaged one's duplicate, answered with the hash of what was sent, the letter deleted)
                    ALTERED.altered(token + "/" + m.messageId());
                    failure = new FerryException("SendMessage to " + queueUrl + ": " + altered + "; release the group again", true);
                    break;
                }
            } catch (RuntimeException e) {
                failure = SqsErrors.translate("SendMessage", queueUrl, e);
                break;
            }
            sent.add(m);
        }
        return sent;
    }

    /** Dead letters whose copy was stored altered, per release: the same process's next attempt sends them afresh. */
    static final AlteredCopies ALTERED = new AlteredCopies();

    /** A deduplication id per release and dead letter (and altered copy), within SQS's 128 characters. */
    private static String dedupId(String token, String messageId) {
        Integer times = ALTERED.times(token + "/" + messageId);
        String id = "release-" + (times == null ? "" : "a" + times + "-") + token + "-" + messageId;
        return id.length() <= 128 ? id : id.substring(0, 128);
    }
}
