package dev.ferry.adapters.sqs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Whether a dead-letter queue takes the largest message its source queue does. A queue made before SQS raised its limit
 * keeps 262,144 bytes unless set, and its source raised to 1 MiB dead-lettered messages the dead-letter queue refused:
 * each stayed in the source, came back every lease (its FIFO group held), and was never copied. Said at the start of a
 * source that dead-letters there; never a failed start.
 */
final class DeadLetterSizes {

    private static final Logger LOG = LoggerFactory.getLogger(SqsSource.class);

    private DeadLetterSizes() {
    }

    /** Warns when {@code dlqBytes} (the dead-letter queue's MaximumMessageSize) is below the source queue's. */
    static void check(SqsClient client, String dlqName, String dlqUrl, String dlqBytes, String sourceUrl, String source) {
        if (dlqBytes == null || !dlqBytes.matches("\\d{1,9}")) {
            return; // a server that does not say (ElasticMQ): not checked
        }
        String sourceBytes;
        try {
            sourceBytes = client.getQueueAttributes(b -> b.queueUrl(sourceUrl).overrideConfiguration(SqsTimeouts.CALLS)
                    .attributeNames(QueueAttributeName.MAXIMUM_MESSAGE_SIZE)).attributes()
                    .get(QueueAttributeName.MAXIMUM_MESSAGE_SIZE);
        } catch (RuntimeException e) {
            LOG.debug("SQS queue of source '{}': its MaximumMessageSize could not be read ({})", source, SqsErrors.of(e));
            return;
        }
        warning(dlqName, dlqUrl, Integer.parseInt(dlqBytes), sourceBytes, source).ifPresent(LOG::warn);
    }

    static java.util.Optional<String> warning(String dlqName, String dlqUrl, int dlqBytes, String sourceBytes, String source) {
        if (sourceBytes == null || !sourceBytes.matches("\\d{1,9}") || Integer.parseInt(sourceBytes) <= dlqBytes) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("SQS dead-letter queue '" + dlqName + "' of source '" + source + "' takes messages of "
                + dlqBytes + " bytes at most (MaximumMessageSize), its source queue of " + sourceBytes + ": a larger "
                + "message dead-lettered cannot be copied there, stays in the source and comes back every lease (a FIFO "
                + "group held behind it). Set it as large: aws sqs set-queue-attributes --queue-url " + dlqUrl
                + " --attributes MaximumMessageSize=" + sourceBytes);
    }
}
