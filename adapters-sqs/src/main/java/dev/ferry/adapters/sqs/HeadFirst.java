package dev.ferry.adapters.sqs;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The order a release sends a parked group back in: its head first, then the copies of earlier releases, then what
 * the producer sent — which is not always the dead-letter queue's order. A message the producer sent while a
 * release was closing reaches the listener ahead of the release's copies and is parked behind them; when one of
 * those copies then fails again it becomes the new head, dead-lettered after that message. Sent back in the
 * queue's order, the producer's newer message ran before the older ones. So, until the head is met, the group's
 * messages are put back at the end of the dead-letter queue (copied, then deleted), to come after it; once it is
 * met, a message without a release's mark is put back too while any put back before it is still ahead, so the
 * producer's messages keep their own order behind the copies. Meeting one put back while the head is still to
 * come means the head is not there (deleted by the queue's retention, or by hand): the rest then goes in its
 * order, and the release's count says what it did not find. One per move; not thread-safe.
 */
final class HeadFirst {

    private final ParkedGroup parked;
    private final String token;
    /** Whether the head is still to be met: this release has sent nothing back yet (it sends the head first). */
    private boolean headPending;
    /** Message ids of the copies put back at the end and not met again. */
    private final Set<String> putBack = new HashSet<>();
    /** Messages set to be put back and not met again: counted when the decision is made, before any is copied. */
    private int ahead;
    /** The events ({@link #eventOf}) whose head the release dropped: the mover's, kept across the release's moves. */
    private final Set<String> dropped;

    HeadFirst(ParkedGroup parked, String token, Set<String> dropped) {
        this.parked = parked;
        this.token = token;
        this.headPending = parked.redriven() == 0;
        this.dropped = dropped;
    }

    /** Whether {@code m}, a parked message of the group with reason {@code why}, goes to the end of the queue for now. */
    boolean defers(Message m, String why) {
        boolean head = GroupParker.isHead(why, parked);
        boolean ours = putBack.remove(m.messageId());
        if (ours) {
            ahead--;
        }
        if (headPending && (head || ours)) {
            headPending = false; // the head, or round the whole group without it: what follows goes in its order
            return false;
        }
        if (headPending || !ours && !head && ahead > 0 && !marked(m)) { // the producer's, behind those put back before it
            ahead++;
            return true;
        }
        return false;
    }

    /**
     * Whether {@code m}, a parked message of the group with reason {@code why} that is not {@link #defers deferred}, is
     * only deleted: the head when {@code skipHead}, and every other dead letter of the head's event. Only the one "at"
     * the head was: a head a release sent back, failing again, has an earlier dead letter too when that release could
     * not delete it (parked behind the earlier head) — sent back after the messages parked behind the head, the dropped
     * event ran again, out of its order. Met before the head, such a letter is put back behind it ({@link #defers}), so
     * the head is known when it comes round; a release taken up in another process, after the first dropped the head,
     * does not know it.
     */
    boolean drops(Message m, String why, boolean skipHead) {
        if (skipHead && GroupParker.isHead(why, parked)) {
            String event = eventOf(m);
            if (event != null) {
                dropped.add(event);
            }
            return true;
        }
        return !dropped.isEmpty() && dropped.contains(eventOf(m));
    }

    /**
     * The event a dead letter is of: the identity its message was dead-lettered under
     * ({@link MessageAttributes#DEAD_LETTER_ORIGIN}, which a release's copy keeps), with its body's hash — the identity
     * may be a producer's deduplication id, which it may use again for another message once SQS's five minutes are over.
     * Null when it carries none (written before the identity was kept).
     */
    private static String eventOf(Message m) {
        var origin = MessageAttributes.expand(m.messageAttributes()).get(MessageAttributes.DEAD_LETTER_ORIGIN);
        return origin == null || origin.stringValue() == null || origin.stringValue().isEmpty() ? null
                : origin.stringValue() + "\n" + Md5.ofBody(m.body());
    }

    /**
     * Copies {@code defer} to the end of the dead-letter queue, in order, and only once every one is copied deletes
     * them where they were: a copy that failed (throttled, no answer — perhaps stored all the same) leaves every one
     * where it was, and the batch is not moved on (its head sent, and the next move, which knows nothing of what was
     * put back, sent what was left in front of it first). Copies made before the failure then wait at the end as well:
     * sent back later, they are their originals' duplicates, which the ledger drops. Null when all went; else why not,
     * and {@link #batchStopped} says whether the batch must stop here (nothing of it sent).
     */
    String putBack(SqsClient client, String deadLetterQueueUrl, List<Message> defer) {
        batchStopped = false;
        for (var m : defer) {
            String key = "after-head/" + token + "/" + m.messageId();
            try {
                var answer = client.sendMessage(b -> b.queueUrl(deadLetterQueueUrl).messageBody(m.body())
                        .messageAttributes(m.messageAttributes())
                        .messageGroupId(m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID))
                        .messageDeduplicationId(dedupId(key)).overrideConfiguration(SqsTimeouts.CALLS));
                String altered = SendAnswers.altered(m.body(), m.messageAttributes(), answer.md5OfMessageBody(),
                        answer.md5OfMessageAttributes());
                if (altered != null) {
                    // the next attempt copies it under an id of its own: under this one SQS would drop the good copy as
                    // the damaged one's duplicate, answer with the hash of what was sent, and the original be deleted
                    ParkedGroupMover.ALTERED.altered(key);
                    batchStopped = true;
                    return "putting message " + m.messageId() + " back at the end of " + deadLetterQueueUrl + ": " + altered;
                }
                putBack.add(answer.messageId());
            } catch (RuntimeException e) {
                batchStopped = true;
                return "putting message " + m.messageId() + " back at the end of " + deadLetterQueueUrl
                        + " (behind the group's head) failed: " + SqsErrors.translate("SendMessage", deadLetterQueueUrl, e)
                        .getMessage();
            }
        }
        var notDeleted = Batches.delete(client, deadLetterQueueUrl, defer, Message::receiptHandle, 2, null);
        if (!notDeleted.isEmpty()) {
            // back at the front once their visibility ends: sent then in their place, their copies later as duplicates
            return notDeleted.size() + " message(s) of group " + parked.group() + " were copied to the end of "
                    + deadLetterQueueUrl + " but could not be deleted where they were (" + notDeleted.keySet().stream()
                    .map(Message::messageId).limit(5).toList() + "): " + notDeleted.values().iterator().next()
                    + "; release it again";
        }
        return null;
    }

    /** Whether the last {@link #putBack} stopped before deleting anything: nothing of its batch may be sent. */
    boolean batchStopped() {
        return batchStopped;
    }

    private boolean batchStopped;

    /** Whether a release sent it back before (a copy, older than anything the producer sent since). */
    private static boolean marked(Message m) {
        return MessageAttributes.expand(m.messageAttributes()).get(GroupParker.RELEASE_ATTRIBUTE) != null;
    }

    /** One copy per release and message (and altered copy), within SQS's 128 characters: asked again, not stored twice. */
    private static String dedupId(String key) {
        Integer times = ParkedGroupMover.ALTERED.times(key);
        String id = (times == null ? "" : "a" + times + "-") + key.replace('/', '-');
        return id.length() <= 128 ? id : id.substring(0, 128);
    }
}
