package dev.ferry.adapters.sqs;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * A release's letters of its group that SQS moved into the dead-letter queue from the release's own queue itself (its
 * maxReceiveCount): no reason of Ferry's on them, that queue in their {@code DeadLetterQueueSourceArn}. Such a letter is
 * one of four, told by the message id SQS keeps on it: the group's head itself, whose dead-letter copy was refused (its
 * id the parked group's {@link ParkedGroup#headMessageId}), which goes first, or is dropped under skip-head; a second
 * copy of a letter Ferry wrote (its delete from the queue failed, or the process died before it) — the same SQS message,
 * so its id, or its deduplication id, is the {@link MessageAttributes#DEAD_LETTER_ORIGIN} of a letter of the group the
 * release met — which is deleted; one of this release's copies that SQS moved before Ferry ran it; or a message parked
 * behind the head whose dead-letter copy was refused. Not told by its id, SQS's letter of the head was said "ahead of
 * the group's head" and, redriven, ran after all its later messages; and the advice told a second copy by its body,
 * which two events may share: the operator deleted a message of its own. The release stops at the last two ({@link
 * ParkedGroupMover}) and says what each is. One per move, beside its {@link HeadFirst}; not thread-safe.
 */
final class SqsMovedLetters {

    private final ParkedGroup parked;
    private final String token;
    /** The release's queue by its name, as SQS's ARN ends. */
    private final String queueName;
    /**
     * The letters of the group the release met, each by the message it was dead-lettered from and its body (as {@link
     * HeadFirst} keys an event: a producer may use a deduplication id again, for another message): the mover's, kept
     * across the release's moves.
     */
    private final Set<String> met;
    /** Whether a letter SQS moved met now comes after the head: as {@link HeadFirst} waits for it no longer. */
    private boolean afterHead;
    /**
     * Whether the head itself went: sent back (the release sends it first, so before this move if anything went back) or
     * dropped, before this move or in it. SQS's own letter of it met now is its second copy.
     */
    private boolean headWent;
    /** Whether this release dropped the head (skip-head): a second copy of it deleted is dropped too. */
    private boolean headDropped;
    /** The batch's second copies, each with whether it is one of the head's (dropped with it, when it is). */
    private final Map<Message, Boolean> copies = new LinkedHashMap<>();
    /** Why the last {@link #deleteCopies} left some in the queue; null when it did not. */
    private String copiesLeft;

    SqsMovedLetters(ParkedGroup parked, String token, String queueName, Set<String> dropped, Set<String> met) {
        this.parked = parked;
        this.token = token;
        this.queueName = queueName;
        this.met = met;
        this.afterHead = parked.redriven() > 0; // as HeadFirst begins: with nothing sent back yet, the head is still to come
        this.headDropped = !dropped.isEmpty(); // the head's event, which only a dropped head puts there (HeadFirst#drops)
        this.headWent = afterHead || headDropped;
    }

    /**
     * Whether {@code m}, a letter of the group with no reason of Ferry's, is one SQS moved here from the release's queue:
     * by the ARN SQS keeps on it, which only SQS sets — not by the queue a letter names ({@link
     * OtherQueuesLetters#sourceQueue}), which one that Ferry wrote carries too, its reason lost or not.
     */
    boolean movedFromHere(Message m) {
        String arn = m.attributes().get(MessageSystemAttributeName.DEAD_LETTER_QUEUE_SOURCE_ARN);
        return arn != null && arn.substring(arn.lastIndexOf(':') + 1).equals(queueName); // arn:aws:sqs:region:account:name
    }

    /**
     * The reason {@code m}, whose own is {@code why}, is read by: the head's, as Ferry writes it ({@link GroupParker#at}),
     * for SQS's letter of the head while the head is still to go — it goes first then, or is dropped, as the head's
     * letter does ({@link HeadFirst}); else {@code why}. A release's copy that became the new head is one of these too
     * (the park keeps the copy's id): it was said "moved before Ferry ran it, cannot be sent back in its place".
     */
    String readAs(Message m, String why) {
        return why == null && !headWent && isTheHead(m) ? GroupParker.at(parked) : why;
    }

    /**
     * Whether {@code m}, a letter of the group whose reason is {@code why}, is a second copy SQS moved here of one the
     * release met: the head's once it went, or one whose message id or deduplication id (with its body) is the origin
     * of a letter met ({@link #met}). Taken: deleted with its batch ({@link #deleteCopies}), never sent back — the head a
     * skip-head dropped ran again, any other twice. One met nowhere is left to {@link #stopsAt}.
     */
    boolean takesAsSecondCopy(Message m, String why) {
        if (why != null || !movedFromHere(m)) {
            return false;
        }
        String body = Md5.ofBody(m.body());
        String dedup = m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID);
        boolean ofALetter = met.contains(m.messageId() + "\n" + body) || dedup != null && met.contains(dedup + "\n" + body);
        // the head gone by this release's own count (met, or dropped), never by the group's redriven count: later letters
        // go back round a head that is not here, and SQS's letter of that head, met next, was deleted as a copy — lost
        boolean headGoneHere = met.contains(HEAD_WENT) || headDropped;
        if (ofALetter || headGoneHere && isTheHead(m)) { // the head's copy met before its letter: its letter goes as head
            copies.put(m, isTheHead(m));
            return true;
        }
        return false;
    }

    /** A letter of the group parked with it was met (put back behind the head, or going on): its copies are known now. */
    void met(Message m) {
        var origin = MessageAttributes.expand(m.messageAttributes()).get(MessageAttributes.DEAD_LETTER_ORIGIN);
        if (origin != null && origin.stringValue() != null && !origin.stringValue().isEmpty()) {
            met.add(origin.stringValue() + "\n" + Md5.ofBody(m.body())); // the message it copies, as SQS's copy says it
        }
    }

    /**
     * A letter of the group, its reason {@code why}, went on past {@link HeadFirst} ({@code dropped}: only deleted): it
     * met the head, or went round the group without it. Letters SQS moved met from now on come after the head.
     */
    void wentOn(Message m, String why, boolean dropped) {
        met(m);
        afterHead = true;
        if (dropped) { // the head, or a letter of its event: the head was dropped
            headWent = true;
            headDropped = true;
            met.add(HEAD_WENT);
        } else if (GroupParker.isHead(why, parked)) {
            headWent = true;
            met.add(HEAD_WENT);
        }
    }

    /** In {@link #met}: the head went (sent back or dropped) in this release. */
    private static final String HEAD_WENT = "\u0000the head went";

    /**
     * Deletes the batch's second copies, whatever becomes of the rest of it: each is the same SQS message as a letter the
     * release met, which went back, was dropped, or is still in the queue. Those not deleted go to {@code others}, in
     * sight again at the move's end, and {@link #copiesLeft} says so. Returns how many of the dropped head's it deleted.
     */
    long deleteCopies(SqsClient client, String deadLetterQueueUrl, List<Message> others) {
        copiesLeft = null;
        if (copies.isEmpty()) {
            return 0;
        }
        var notDeleted = Batches.delete(client, deadLetterQueueUrl, new ArrayList<>(copies.keySet()), Message::receiptHandle,
                2, null);
        // the head's copies count dropped once the head was: its letter may come after its copy in the batch
        long ofDroppedHead = copies.entrySet().stream()
                .filter(e -> e.getValue() && headDropped && !notDeleted.containsKey(e.getKey())).count();
        if (!notDeleted.isEmpty()) {
            // left in sight, the release finished and the group flowed: met by a later release knowing nothing of its
            // letter, the copy was said a message of its own, sent back, and ran twice
            others.addAll(notDeleted.keySet());
            copiesLeft = notDeleted.size() + " second cop" + (notDeleted.size() == 1 ? "y" : "ies") + " that SQS moved "
                    + "into " + deadLetterQueueUrl + " of letters of group " + parked.group() + " could not be deleted ("
                    + notDeleted.keySet().stream().map(Message::messageId).limit(5).toList() + "): "
                    + notDeleted.values().iterator().next() + "; delete them by hand (each is a copy of a letter already "
                    + "sent back or dropped), then release the group again";
        }
        copies.clear();
        return ofDroppedHead;
    }

    /** Why the last {@link #deleteCopies} left second copies in the queue (the release stops at them); null when none. */
    String copiesLeft() {
        return copiesLeft;
    }

    /** Why the release stops at {@code m}: what it may be, and how the operator tells. Never "delete it" alone. */
    String stopsAt(Message m) {
        var mark = MessageAttributes.expand(m.messageAttributes()).get(GroupParker.RELEASE_ATTRIBUTE);
        var pass = mark == null ? null : GroupParker.pass(mark.stringValue());
        String what = "the dead-letter queue holds message " + m.messageId() + " of group " + parked.group() + ", which SQS "
                + "moved there from this queue itself after its maxReceiveCount receives (no reason of Ferry's)";
        if (pass != null) {
            // taken for one dead-lettered again, it said "parked again behind a new head": there was none. Not "redrive
            // it": a redrive drops the release's mark, and the copy came back behind the group's later messages
            return what + ": copy " + pass.number() + " of " + (pass.token().equals(token) ? "this release" : "an earlier "
                    + "release (" + pass.token() + ")") + ", moved before Ferry ran it — the group was not parked again, "
                    + "and Ferry cannot send it back in its place: it stays here and the group stays parked. Look its event "
                    + "up ('ferry events show'): handled, delete this letter and release the group again; never handled, "
                    + "'ferry queues redrive --force' sends it back behind the group's later messages (out of order), or "
                    + "keep the group parked. Raise the queue's maxReceiveCount above Ferry's max-receives";
        }
        // not told by its body: two events may share one (a raw format, a producer's deduplication ids), and a message
        // of its own taken for a copy of one was lost. A second copy is known by its ids, and taken out before this
        return what + (afterHead ? ", after the group's head" : ", ahead of the group's head") + ". No letter of the "
                + "group this release met names its message id as its " + MessageAttributes.DEAD_LETTER_ORIGIN + " (such a "
                + "second copy the release takes out itself). It is a message of its own, whose dead-letter copy was "
                + "refused — or, where its producer set deduplication ids, perhaps the second copy of a letter whose origin "
                + "is that id (SQS replaces it as it moves a message, so Ferry cannot tell; a body like another letter's "
                + "does not make it one). Look its event up ('ferry events show'): handled, delete this letter; never "
                + "handled, send it back — 'ferry queues redrive --force' (not --native) has it parked behind the group's "
                + "head, to go back last; then release the group again";
    }

    /** Whether {@code m} is SQS's letter of the group's head: the message itself, whose id SQS keeps as it moves it. */
    private boolean isTheHead(Message m) {
        return m.messageId().equals(parked.headMessageId()) && movedFromHere(m);
    }
}
