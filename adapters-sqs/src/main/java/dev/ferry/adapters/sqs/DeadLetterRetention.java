package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueNameExistsException;

/**
 * How long a dead-letter queue keeps what Ferry puts there. SQS deletes a message once the queue's
 * MessageRetentionPeriod has passed — 4 days unless set — and with it a dead letter's reason, or a parked group's
 * head and what was parked behind it: lost without a word. The dead-letter queues Ferry creates keep them
 * {@link #LONGEST}, the most SQS allows; one that keeps them less is said at the start of a source that
 * dead-letters there, once.
 */
final class DeadLetterRetention {

    /** SQS's longest retention: the dead-letter queues Ferry creates get it. */
    static final Duration LONGEST = Duration.ofDays(14);
    private static final Logger LOG = LoggerFactory.getLogger(SqsSource.class);
    /** What SQS answers a CreateQueue of a queue that exists with other attributes: the JSON code, and the query one. */
    private static final Set<String> QUEUE_EXISTS = Set.of("QueueNameExists", "QueueAlreadyExists");

    private DeadLetterRetention() {
    }

    /**
     * Creates the dead-letter queue {@code name} with {@code attributes} and {@link #LONGEST}; returns its URL, or the
     * URL of the one of that name that exists. SQS refuses to create a queue again with attributes other than it has,
     * and a DLQ an earlier Ferry made keeps SQS's default: {@code ferry queues create} run again would fail on it. It
     * is kept as it is (what it holds, and for how long, is its owner's to decide), its retention checked.
     */
    static String createQueue(SqsClient client, SqsQueues queues, String name, Map<QueueAttributeName, String> attributes) {
        var withRetention = new EnumMap<QueueAttributeName, String>(QueueAttributeName.class);
        withRetention.putAll(attributes);
        withRetention.put(QueueAttributeName.MESSAGE_RETENTION_PERIOD, Long.toString(LONGEST.toSeconds()));
        try {
            return client.createQueue(b -> b.queueName(name).attributes(withRetention)).queueUrl();
        } catch (RuntimeException e) {
            if (!(e instanceof QueueNameExistsException) && !QUEUE_EXISTS.contains(SqsErrors.of(e).code())) {
                throw SqsErrors.translate("CreateQueue", name, e);
            }
        }
        String url = queues.url(name);
        check(client, url, null, name.endsWith(".fifo"));
        return url;
    }

    /**
     * Reads the retention of the dead-letter queue {@code dlqUrl} (one GetQueueAttributes) and warns when it is
     * shorter than {@link #LONGEST}. Never throws: a queue whose retention cannot be read is a line in the log, not
     * a failed start.
     *
     * @param source the source that dead-letters there, for the line; null for none (a queue being created)
     * @param fifo   whether the queue is FIFO: only FIFO queues' groups are parked ({@code on-poison: park})
     */
    static void check(SqsClient client, String dlqUrl, String source, boolean fifo) {
        check(client, dlqUrl, source, fifo, null);
    }

    /**
     * {@link #check(SqsClient, String, String, boolean)}, and its largest message against its source queue's (unless
     * null); the dead-letter queue's largest message (MaximumMessageSize), or 0 when it does not say.
     */
    static int check(SqsClient client, String dlqUrl, String source, boolean fifo, String sourceUrl) {
        String name = dlqUrl.substring(dlqUrl.lastIndexOf('/') + 1);
        Map<QueueAttributeName, String> attributes;
        try {
            attributes = client.getQueueAttributes(b -> b.queueUrl(dlqUrl).overrideConfiguration(SqsTimeouts.CALLS)
                    .attributeNames(QueueAttributeName.MESSAGE_RETENTION_PERIOD, QueueAttributeName.MAXIMUM_MESSAGE_SIZE))
                    .attributes();
        } catch (RuntimeException e) {
            LOG.warn("SQS dead-letter queue '{}': its MessageRetentionPeriod could not be read ({}); SQS deletes dead "
                    + "letters once it has passed, so make sure it is 14 days", name, SqsErrors.of(e));
            return 0;
        }
        String largest = attributes.get(QueueAttributeName.MAXIMUM_MESSAGE_SIZE);
        if (sourceUrl != null) {
            DeadLetterSizes.check(client, name, dlqUrl, largest, sourceUrl, source);
        }
        String seconds = attributes.get(QueueAttributeName.MESSAGE_RETENTION_PERIOD);
        if (seconds == null || !seconds.matches("\\d{1,9}")) {
            // ElasticMQ (the embedded server too) keeps messages until they are deleted and says no retention
            LOG.debug("SQS dead-letter queue '{}' does not say its MessageRetentionPeriod ({}): not checked", name, seconds);
        } else {
            warning(name, dlqUrl, Duration.ofSeconds(Long.parseLong(seconds)), source, fifo).ifPresent(w -> LOG.warn(w));
        }
        return largest != null && largest.matches("\\d{1,9}") ? Integer.parseInt(largest) : 0;
    }

    /** The line for a dead-letter queue that keeps messages {@code retention}; empty when that is the longest. */
    private static Optional<String> warning(String name, String dlqUrl, Duration retention, String source, boolean fifo) {
        if (retention.compareTo(LONGEST) >= 0) {
            return Optional.empty();
        }
        String kept = Durations.text(retention);
        return Optional.of("SQS dead-letter queue '" + name + "'" + (source == null ? "" : " of source '" + source + "'")
                + " keeps messages " + kept + " (MessageRetentionPeriod " + retention.toSeconds() + "): SQS deletes "
                + (fifo ? "dead letters and parked messages" : "dead letters") + " older than that, their reasons with "
                + "them, without a word" + (fifo ? "; a group parked (on-poison: park) longer than " + kept + " loses its "
                + "head, the event it was parked at" : "; a message SQS's own redrive moved there keeps the time it was "
                + "first sent, so it has less") + ". Set it to 14 days, the longest SQS allows: aws sqs "
                + "set-queue-attributes --queue-url " + dlqUrl + " --attributes MessageRetentionPeriod=" + LONGEST.toSeconds()
                + " (and keep the ledger's ttl as long, or redrive within it: a dead letter redriven after the ledger "
                + "forgot what of it was done does that again)");
    }
}
