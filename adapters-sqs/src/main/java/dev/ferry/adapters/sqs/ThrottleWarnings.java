package dev.ferry.adapters.sqs;

import java.util.Optional;

/**
 * The warning for a queue whose own redrive policy would dead-letter a message after fewer receives than throttling
 * can cause: SQS counts every receive, throttled or not, while Ferry dead-letters from its own count of real failures.
 */
final class ThrottleWarnings {

    private ThrottleWarnings() {
    }

    /** The warning for {@code info}, empty when the queue is safe. */
    static Optional<String> of(SqsQueues.QueueInfo info, int ferryMaxReceives) {
        String queueUrl = info.url();
        var policy = info.redrivePolicy();
        int safetyNet = safetyNet(ferryMaxReceives);
        if (policy == null || policy.maxReceiveCount() >= safetyNet) {
            return Optional.empty();
        }
        return Optional.of("queue '" + info.name() + "' has a RedrivePolicy with maxReceiveCount "
                + policy.maxReceiveCount() + ": SQS counts every receive, so a message a downstream throttles (429) "
                + policy.maxReceiveCount() + " times goes to '" + policy.deadLetterTargetArn()
                + "' without ever failing. Let Ferry decide dead letters from its own count of real failures "
                + "(deadLetter maxReceives " + ferryMaxReceives + ") and keep the queue's count high as a safety net: "
                + "aws sqs set-queue-attributes --queue-url " + queueUrl
                + " --attributes '{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"" + policy.deadLetterTargetArn()
                + "\\\",\\\"maxReceiveCount\\\":\\\"1000\\\"}\"}'");
    }

    /** The smallest queue maxReceiveCount Ferry considers safe next to its own limit. */
    static int safetyNet(int ferryMaxReceives) {
        return Math.max(100, ferryMaxReceives * 10);
    }
}
