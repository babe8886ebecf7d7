package dev.ferry.adapters.sqs;

import java.util.regex.Pattern;

/**
 * A queue's RedrivePolicy read from the JSON text {@code GetQueueAttributes} gives, its count quoted or not. Moved out
 * of {@link SqsQueues}, which had no line left for the dry run's read of a dead-letter queue it now offers.
 */
final class RedrivePolicies {

    private static final Pattern TARGET = Pattern.compile("\"deadLetterTargetArn\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern COUNT = Pattern.compile("\"maxReceiveCount\"\\s*:\\s*\"?(\\d+)\"?");

    private RedrivePolicies() {
    }

    /** The policy {@code json} states; null when there is none, or it names no target or no count. */
    static SqsQueues.RedrivePolicy parse(String json) {
        if (json == null || json.isBlank()) {
            return null;
        }
        var target = TARGET.matcher(json);
        var count = COUNT.matcher(json);
        if (!target.find() || !count.find()) {
            return null;
        }
        return new SqsQueues.RedrivePolicy(target.group(1), Integer.parseInt(count.group(1)));
    }
}
