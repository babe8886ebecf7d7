package dev.ferry.adapters.sqs;

import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The copies an {@link SqsSource} sends to its dead-letter queue before it deletes the originals:
 * the body as received, its attributes and Ferry's reason (sanitized to what SQS accepts), on a FIFO
 * dead-letter queue in the order they were dead-lettered, one deduplication id per source message.
 */
final class DeadLetterCopies {

    private static final int MAX_REASON_CHARS = 4_000;

    private final SqsClient client;
    private final String deadLetterQueueUrl;
    private final boolean fifo;
    private final String queueName;
    private final String name;
    private final int settleRetries;
    private final ExecutorService calls;
    private final LongAdder copied = new LongAdder();

    DeadLetterCopies(SqsClient client, String deadLetterQueueUrl, String queueName, String name, int settleRetries,
                     ExecutorService calls) {
        this.client = client;
        this.deadLetterQueueUrl = deadLetterQueueUrl;
        this.fifo = deadLetterQueueUrl != null && deadLetterQueueUrl.endsWith(".fifo");
        this.queueName = queueName;
        this.name = name;
        this.settleRetries = settleRetries;
        this.calls = calls;
    }

    /** Copies sent since the source was built. */
    long copied() {
        return copied.sum();
    }

    /** Sends the copies; returns the settlements whose copy arrived, adds a failure for each other one. */
    List<Settlement> send(List<Settlement> deadLetters, List<Settlement.Failure> failures) {
        if (deadLetterQueueUrl == null) {
            for (var s : deadLetters) {
                failures.add(new Settlement.Failure(s, "queue '" + name + "' has no dead-letter queue: give it a "
                        + "RedrivePolicy or configure one; the message stays in the queue", false));
            }
            return List.of();
        }
        Batches.Call<Settlement> copy = chunk -> {
            var entries = new ArrayList<SendMessageBatchRequestEntry>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                entries.add(entry(i, chunk.get(i)));
            }
            return client.sendMessageBatch(b -> b.queueUrl(deadLetterQueueUrl).entries(entries)).failed();
        };
        // copies to a FIFO dead-letter queue go chunk by chunk, in the order they were dead-lettered (an
        // entry sent again after a failure arrives after the later chunks: SQS dedups, it does not reorder)
        var errors = fifo
                ? Batches.run(deadLetters, s -> s.delivery().body().length, SqsSink.MAX_BATCH_BYTES, settleRetries, copy)
                : Batches.runConcurrently(deadLetters, s -> s.delivery().body().length, SqsSink.MAX_BATCH_BYTES,
                        settleRetries, calls, copy);
        var sent = new ArrayList<Settlement>(deadLetters.size());
        for (var s : deadLetters) {
            var error = errors.get(s);
            if (error == null) {
                sent.add(s);
            } else {
                failures.add(new Settlement.Failure(s, "dead-letter copy to '" + deadLetterQueueUrl + "' failed: " + error
                        + "; the message stays in the queue", error.retryable()));
            }
        }
        copied.add(sent.size());
        return sent;
    }

    private SendMessageBatchRequestEntry entry(int index, Settlement s) {
        var d = s.delivery();
        String reason = sanitize(((Disposition.DeadLetter) s.disposition()).reason());
        var entry = SendMessageBatchRequestEntry.builder()
                .id(Integer.toString(index))
                .messageBody(new String(d.body(), StandardCharsets.UTF_8))
                .messageAttributes(MessageAttributes.forDeadLetter(((SqsReceipt) d.receipt()).messageAttributes(), reason, queueName,
                        name, d.receiveCount()));
        if (fifo) {
            // one dedup id per source message: a copy sent again after a failed delete is dropped by SQS
            entry.messageGroupId(d.groupKey() != null ? d.groupKey() : "ferry-dead-letters")
                    .messageDeduplicationId("dlq-" + d.id());
        }
        return entry.build();
    }

    /** The reason as SQS accepts it in an attribute: XML characters only, at most 4,000 of them. */
    static String sanitize(String reason) {
        var sb = new StringBuilder(Math.min(reason.length(), MAX_REASON_CHARS));
        for (int i = 0; i < reason.length() && sb.length() < MAX_REASON_CHARS; i++) {
            char c = reason.charAt(i);
            boolean ok = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);
            if (Character.isHighSurrogate(c) && i + 1 < reason.length() && Character.isLowSurrogate(reason.charAt(i + 1))) {
                sb.append(c).append(reason.charAt(++i));
            } else {
                sb.append(ok ? c : '?');
            }
        }
        return sb.toString();
    }
}
