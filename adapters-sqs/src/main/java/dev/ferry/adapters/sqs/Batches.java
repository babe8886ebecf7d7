package dev.ferry.adapters.sqs;

import dev.ferry.adapters.sqs.SqsErrors.EntryError;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;

/**
 * Runs an SQS batch operation over any number of items: chunks of at most 10 entries and at most
 * {@code maxBytes}, entries that failed for a reason that may pass sent again (a few times, with a
 * short pause), the rest reported per item. Never throws for a failed call: its items fail instead.
 */
final class Batches {

    /** SQS's limit of entries per batch call. */
    static final int MAX_ENTRIES = 10;

    /** Sends one chunk; entry ids are the items' positions in the chunk ("0".."9"). */
    @FunctionalInterface
    interface Call<T> {
        List<BatchResultErrorEntry> send(List<T> chunk);
    }

    private Batches() {
    }

    /** Items that finally failed, with their last error; empty when all succeeded. */
    static <T> Map<T, EntryError> run(List<T> items, ToIntFunction<T> bytes, int maxBytes, int retries, Call<T> call) {
        var failed = new IdentityHashMap<T, EntryError>();
        var pending = items;
        for (int attempt = 0; !pending.isEmpty(); attempt++) {
            if (attempt > 0 && !pause(attempt)) {
                for (var item : pending) {
                    failed.put(item, new EntryError("Interrupted", "gave up retrying: thread interrupted", false));
                }
                break;
            }
            var again = new ArrayList<T>();
            for (var chunk : chunks(pending, bytes, maxBytes)) {
                for (var e : sendChunk(chunk, call).entrySet()) {
                    if (e.getValue().retryable() && attempt < retries) {
                        again.add(e.getKey());
                    } else {
                        failed.put(e.getKey(), e.getValue());
                    }
                }
            }
            pending = again;
        }
        return failed;
    }

    /** DeleteMessageBatch for every item, by its receipt handle. */
    static <T> Map<T, EntryError> delete(SqsClient client, String queueUrl, List<T> items,
                                         Function<T, String> handle, int retries) {
        return run(items, item -> 0, Integer.MAX_VALUE, retries, chunk -> {
            var entries = new ArrayList<DeleteMessageBatchRequestEntry>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                        .receiptHandle(handle.apply(chunk.get(i))).build());
            }
            return client.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(entries)).failed();
        });
    }

    /** ChangeMessageVisibilityBatch for every item, by its receipt handle, to its own timeout. */
    static <T> Map<T, EntryError> changeVisibility(SqsClient client, String queueUrl, List<T> items,
                                                   Function<T, String> handle, ToIntFunction<T> seconds, int retries) {
        return run(items, item -> 0, Integer.MAX_VALUE, retries, chunk -> {
            var entries = new ArrayList<ChangeMessageVisibilityBatchRequestEntry>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                var item = chunk.get(i);
                entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id(Integer.toString(i))
                        .receiptHandle(handle.apply(item)).visibilityTimeout(seconds.applyAsInt(item)).build());
            }
            return client.changeMessageVisibilityBatch(b -> b.queueUrl(queueUrl).entries(entries)).failed();
        });
    }

    static <T> List<List<T>> chunks(List<T> items, ToIntFunction<T> bytes, int maxBytes) {
        var chunks = new ArrayList<List<T>>();
        var current = new ArrayList<T>(Math.min(MAX_ENTRIES, items.size()));
        long size = 0;
        for (var item : items) {
            int itemBytes = bytes.applyAsInt(item);
            if (current.size() == MAX_ENTRIES || (!current.isEmpty() && size + itemBytes > maxBytes)) {
                chunks.add(current);
                current = new ArrayList<>(MAX_ENTRIES);
                size = 0;
            }
            current.add(item);
            size += itemBytes;
        }
        if (!current.isEmpty()) {
            chunks.add(current);
        }
        return chunks;
    }

    private static <T> Map<T, EntryError> sendChunk(List<T> chunk, Call<T> call) {
        var errors = new IdentityHashMap<T, EntryError>();
        List<BatchResultErrorEntry> failedEntries;
        try {
            failedEntries = call.send(chunk);
        } catch (RuntimeException e) {
            var error = SqsErrors.of(e);
            chunk.forEach(item -> errors.put(item, error));
            return errors;
        }
        for (var entry : failedEntries) {
            int index = parseIndex(entry.id(), chunk.size());
            if (index >= 0) {
                errors.put(chunk.get(index), new EntryError(entry.code(), entry.message(),
                        Boolean.TRUE.equals(entry.senderFault())));
            }
        }
        return errors;
    }

    private static int parseIndex(String id, int size) {
        try {
            int i = Integer.parseInt(id);
            return i >= 0 && i < size ? i : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean pause(int attempt) {
        try {
            TimeUnit.MILLISECONDS.sleep(50L * attempt);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
