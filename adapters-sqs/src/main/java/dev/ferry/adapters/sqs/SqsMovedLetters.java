package dev.ferry.adapters.sqs;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * A release's letters of its group that SQS moved into the dead-letter queue from the release's own queue itself (its
 * maxReceiveCount): no reason of Ferry's on them, that queue in their {@code DeadLetterQueueSourceArn}. A message parked
 * behind the head whose dead-letter copy was refused stays in the queue, is received again and again, and SQS moves it
 * — in its place among the group's parked messages. Taken for a letter from before the group was parked, it stopped
 * the release "ahead of its parked messages" (the head had gone back already), with "delete it" (a message that never
 * ran, lost) or "--force" (parked again behind the head, after those that came later). Met once the head has gone, it
 * is sent back in its place as a parked-behind letter is ({@link ParkedGroupMover}); met before, the release stops at
 * it and says what it is. One per move, beside its {@link HeadFirst}; not thread-safe.
 */
final class SqsMovedLetters {

    private final ParkedGroup parked;
    /** The release's queue by its name, as SQS's ARN ends. */
    private final String queueName;
    /** Whether the head went back before this move, or the move met it: as {@link HeadFirst} waits for it no longer. */
    private boolean headGone;
    /** Those sent back without being counted as moved: counted, more would have been moved than were parked. */
    private final Set<Message> uncounted = new HashSet<>();

    SqsMovedLetters(ParkedGroup parked, String queueName) {
        this.parked = parked;
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

    /** {@link HeadFirst#defers} let a letter of the group go on: it met the head, or went round the group without it. */
    void headMet() {
        headGone = true;
    }

    /** Whether the head went back (or was dropped): a letter SQS moved here met now is in its place behind it. */
    boolean headGone() {
        return headGone;
    }

    /**
     * Whether {@code m}, sent back, counts as moved ({@code countedSoFar} counted by the move before it): while fewer are
     * counted moved than were parked. Its park was counted as its dead-letter copy was tried (counted first, then
     * dead-lettered), but not if it never reached Ferry; and more moved than parked leaves the group never drained, and
     * hides from the release's watch a message parked among its copies (moved then no longer falls short of parked).
     */
    boolean counts(Message m, long countedSoFar) {
        if (parked.moved() + countedSoFar < parked.parked()) {
            return true;
        }
        uncounted.add(m);
        return false;
    }

    /** How many of {@code messages} were counted as moved: what the mover takes back of those not sent or not deleted. */
    long counted(Collection<Message> messages) {
        return messages.stream().filter(m -> !uncounted.contains(m)).count();
    }

    /**
     * {@code m} as {@link HeadFirst} is to put it back at the end of the dead-letter queue, behind those it put back before
     * it: a parked-behind dead letter of the release's queue, with the identity a release's copy of it carries. Copied as
     * it was, it lost the ARN (only SQS sets it), and met again was a letter of no reason, which stops the release.
     */
    Message asParkedBehind(Message m) {
        var own = MessageAttributes.expand(m.messageAttributes());
        var carried = own.get(MessageAttributes.ORIGIN);
        // DeadLetterRedrive's choice: the identity a redrive's copy carried into this queue, else its message id (SQS keeps it)
        String origin = carried != null && carried.stringValue() != null && own.containsKey(DeadLetterRedrive.RUN)
                ? MessageAttributes.originIn(carried.stringValue(),
                        m.attributes().get(MessageSystemAttributeName.DEAD_LETTER_QUEUE_SOURCE_ARN))
                : m.messageId();
        // a receive count of 0: how often this queue gave it before SQS moved it is not known here
        return m.toBuilder().messageAttributes(MessageAttributes.forDeadLetter(m.messageAttributes(),
                GroupParker.behind(parked), queueName, parked.source(), 0, origin)).build();
    }

    /**
     * Why the release stops at {@code m}, met before the head went back: whether it came before the head or after the
     * group's parked messages cannot be told. Not "delete it": a message that never ran would be lost.
     */
    String beforeTheHead(Message m) {
        return "the dead-letter queue holds message " + m.messageId() + " of group " + parked.group() + ", which SQS moved "
                + "there from this queue itself after its maxReceiveCount receives (no reason of Ferry's: never handled, or "
                + "its dead-letter copy refused), ahead of the group's head, so where it belongs among the group's messages "
                + "cannot be told: to have it go back last, after the messages parked now, move it with 'ferry queues "
                + "redrive --force' (not --native), which has it parked behind the group's head, then release the group";
    }
}
