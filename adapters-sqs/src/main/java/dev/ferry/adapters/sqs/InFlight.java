package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Thrown;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * What a queue's count of messages in flight says of those a reader did not receive: another reader holds them. A
 * release keeps the other groups' letters it read hidden until its read ends, a redrive the letters it set aside, a
 * consumer what it works on; a FIFO queue gives nothing of a group past one in flight. Whoever reads beside them sees
 * nothing of those, and must not take that for an empty queue.
 */
final class InFlight {

    private InFlight() {
    }

    /**
     * How many of the queue's messages are in flight past {@code own} (those the asker keeps hidden itself); 0 when
     * none are. The count is approximate and lags (a moment after messages were made visible again or deleted, they
     * are still in it): it is asked up to five times, 200 ms apart. Throws what asking threw.
     */
    static long beyond(SqsClient client, String queueUrl, long own) {
        long held = 0;
        for (int attempt = 0; attempt < 5; attempt++) {
            held = Long.parseLong(client.getQueueAttributes(b -> b.queueUrl(queueUrl)
                    .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes()
                    .getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE, "0")) - own;
            if (held <= 0) {
                return 0;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return held;
    }

    /**
     * What a redrive that received nothing more says of the DLQ's messages another reader holds ({@code own}: those it
     * hides itself, its set-aside copies and parked groups' letters); null when none are held. Unsaid, a redrive run
     * beside a release received nothing and ended "moved 0", exit 0, with the DLQ still full.
     */
    static String heldFromRedrive(SqsClient client, String deadLetterQueueUrl, long own) {
        long held;
        try {
            held = beyond(client, deadLetterQueueUrl, own);
        } catch (RuntimeException e) {
            return "could not ask " + deadLetterQueueUrl + " whether another reader holds messages this redrive did not "
                    + "see: " + Thrown.message(e);
        }
        return held == 0 ? null : "about " + held + " message(s) of " + deadLetterQueueUrl + " are held by another reader "
                + "(a release of a parked group, or a consumer) and were not moved: redrive again once it is done";
    }
}
