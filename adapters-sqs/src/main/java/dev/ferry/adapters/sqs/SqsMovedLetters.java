package dev.ferry.adapters.sqs;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * A release's letters of its group that SQS moved into the dead-letter queue from the release's own queue itself (its
 * maxReceiveCount): no reason of Ferry's on them, that queue in their {@code DeadLetterQueueSourceArn}. Such a letter is
 * one of three, and nothing on it tells which: a message parked behind the head whose dead-letter copy was refused (it
 * stayed in the queue, was received again and again, and SQS moved it); a second copy of a letter Ferry wrote (its
 * delete from the queue failed, or the process died before it) — the head's most of all, its receives spent; or one of
 * this release's copies that SQS moved before Ferry ran it. Taken for a letter from before the park, it stopped the
 * release with "delete it" (the first, lost); a review found sending it back ran the second twice, the skip-head's head
 * included. The release stops at it ({@link ParkedGroupMover}) and says what it may be and how to tell. One per move,
 * beside its {@link HeadFirst}; not thread-safe.
 */
final class SqsMovedLetters {

    private final ParkedGroup parked;
    private final String token;
    /** The release's queue by its name, as SQS's ARN ends. */
    private final String queueName;
    /** Whether the head went back before this move, or the move met it: as {@link HeadFirst} waits for it no longer. */
    private boolean headGone;

    SqsMovedLetters(ParkedGroup parked, String token, String queueName) {
        this.parked = parked;
        this.token = token;
        this.queueName = queueName;
        this.headGone = parked.redriven() > 0; // as HeadFirst begins: with nothing sent back yet, the head is still to come
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

    /** A letter of the group went on past {@link HeadFirst}: it met the head, or went round the group without it. */
    void headMet() {
        headGone = true;
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
        return what + (headGone ? ", after the group's head" : ", ahead of the group's head") + ". It is either a second "
                + "copy of a letter Ferry dead-lettered (its delete from the queue failed), or a message whose own "
                + "dead-letter copy was refused: if its body is that of a letter of the group already sent back or still "
                + "here (the head's most of all), delete it; else move it with 'ferry queues redrive --force' (not --native), "
                + "which has it parked behind the group's head, to go back last; then release the group again";
    }
}
