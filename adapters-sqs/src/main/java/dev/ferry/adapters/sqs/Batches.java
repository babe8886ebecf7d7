package dev.ferry.adapters.sqs;

import dev.ferry.adapters.sqs.SqsErrors.EntryError;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
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
 *
 * <p>Chunks go one after another, in order ({@link #run}), or several at once ({@link #runConcurrently}),
 * for operations whose order does not matter (deletes, visibility changes, copies to a standard
 * dead-letter queue): a hundred deletes then take one or two round trips instead of ten. The extra chunks run on the caller's executor: threads that
 * are reused, because the SDK keeps per-thread state (its signing {@code Mac}) that a fresh thread
 * per call would build again each time.
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

    /** Items that finally failed, with their last error; empty when all succeeded. Chunks in order. */
    static <T> Map<T, EntryError> run(List<T> items, ToIntFunction<T> bytes, int maxBytes, int retries, Call<T> call) {
        return run(items, bytes, maxBytes, retries, null, NO_DEADLINE, call);
    }

    /**
     * As {@link #run}, with every chunk of a round sent at once: the first on this thread, the
     * others on {@code executor}; in turn when {@code executor} is null.
     */
    static <T> Map<T, EntryError> runConcurrently(List<T> items, ToIntFunction<T> bytes, int maxBytes, int retries,
                                                  Executor executor, Call<T> call) {
        return run(items, bytes, maxBytes, retries, executor, NO_DEADLINE, call);
    }

    /** No time by which the whole operation, its retries too, must be over. */
    private static final long NO_DEADLINE = Long.MIN_VALUE;

    private static <T> Map<T, EntryError> run(List<T> items, ToIntFunction<T> bytes, int maxBytes, int retries,
                                              Executor executor, long deadline, Call<T> call) {
        var failed = new IdentityHashMap<T, EntryError>();
        var pending = items;
        boolean throttled = false;
        for (int attempt = 0; !pending.isEmpty(); attempt++) {
            if (attempt > 0 && !pause(attempt, throttled)) {
                for (var item : pending) {
                    failed.put(item, new EntryError("Interrupted", "gave up retrying: thread interrupted", false));
                }
                break;
            }
            var again = new ArrayList<T>();
            throttled = false;
            var chunks = chunks(pending, bytes, maxBytes);
            var outcomes = executor != null && chunks.size() > 1 ? sendAll(chunks, executor, call) : sendInTurn(chunks, call);
            boolean late = deadline != NO_DEADLINE && System.nanoTime() - deadline >= 0; // no time left to try again
            for (var outcome : outcomes) {
                for (var e : outcome.entrySet()) {
                    if (e.getValue().retryable() && attempt < retries && !late) {
                        again.add(e.getKey());
                        throttled |= e.getValue().throttled();
                    } else {
                        failed.put(e.getKey(), e.getValue());
                    }
                }
            }
            pending = again;
        }
        return failed;
    }

    /** DeleteMessageBatch for every item, by its receipt handle; the chunks at once on {@code executor} (if any). */
    static <T> Map<T, EntryError> delete(SqsClient client, String queueUrl, List<T> items,
                                         Function<T, String> handle, int retries, Executor executor) {
        return runConcurrently(items, item -> 0, Integer.MAX_VALUE, retries, executor, chunk -> {
            var entries = new ArrayList<DeleteMessageBatchRequestEntry>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                        .receiptHandle(handle.apply(chunk.get(i))).build());
            }
            var answer = client.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(entries)
                    .overrideConfiguration(SqsTimeouts.CALLS));
            return SendAnswers.unnamed(entries.size(), answer.failed(),
                    answer.successful().stream().map(software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResultEntry::id).toList());
        });
    }

    /** ChangeMessageVisibilityBatch for every item to its own timeout; the chunks at once on {@code executor} (if any). */
    static <T> Map<T, EntryError> changeVisibility(SqsClient client, String queueUrl, List<T> items,
                                                   Function<T, String> handle, ToIntFunction<T> seconds, int retries,
                                                   Executor executor) {
        return changeVisibility(client, queueUrl, items, handle, seconds, retries, executor, NO_DEADLINE);
    }

    /**
     * {@link #changeVisibility} of leases in hand: the whole of it, waves and retries too, within one call's bound
     * ({@link SqsTimeouts#EXTENSION_CALL}), and within half the {@code lease} asked for (a lease of 10 s is extended
     * with 5 s left, by default). Over a silent connection each wave and each retry had the whole 15 s again: two
     * minutes of the lease keeper's thread for a window of 100, every lease and claim in hand run out meanwhile.
     */
    static <T> Map<T, EntryError> extendVisibility(SqsClient client, String queueUrl, List<T> items,
                                                   Function<T, String> handle, ToIntFunction<T> seconds, int retries,
                                                   Executor executor, java.time.Duration lease) {
        long half = Math.max(1_000_000_000L, dev.ferry.domain.model.Durations.nanos(lease) / 2);
        long deadline = System.nanoTime() + Math.min(SqsTimeouts.EXTENSION_CALL.toNanos(), half);
        return changeVisibility(client, queueUrl, items, handle, seconds, retries, executor, deadline | 1);
    }

    private static <T> Map<T, EntryError> changeVisibility(SqsClient client, String queueUrl, List<T> items,
                                                           Function<T, String> handle, ToIntFunction<T> seconds,
                                                           int retries, Executor executor, long deadline) {
        return run(items, item -> 0, Integer.MAX_VALUE, retries, executor, deadline, chunk -> {
            var entries = new ArrayList<ChangeMessageVisibilityBatchRequestEntry>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                var item = chunk.get(i);
                entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id(Integer.toString(i))
                        .receiptHandle(handle.apply(item)).visibilityTimeout(seconds.applyAsInt(item)).build());
            }
            var answer = client.changeMessageVisibilityBatch(b -> b.queueUrl(queueUrl).entries(entries)
                    .overrideConfiguration(deadline == NO_DEADLINE ? SqsTimeouts.EXTENSIONS
                            : SqsTimeouts.extensionsUntil(deadline)));
            return SendAnswers.unnamed(entries.size(), answer.failed(), answer.successful().stream()
                    .map(software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResultEntry::id).toList());
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

    private static <T> List<Map<T, EntryError>> sendInTurn(List<List<T>> chunks, Call<T> call) {
        var outcomes = new ArrayList<Map<T, EntryError>>(chunks.size());
        for (var chunk : chunks) {
            outcomes.add(guarded(chunk, call));
        }
        return outcomes;
    }

    /**
     * The chunks in waves of at most {@value #MAX_AT_ONCE}: in each, every chunk but the first on
     * {@code executor}, the first on this thread, so a list of thousands (a lease round of a large
     * window) never takes more than a few of the client's connections. Chunks handed out are always
     * waited for, even by an interrupted thread (each call is bounded by the client's timeouts), so
     * what SQS did is what is reported; the interrupt is kept for the caller. A thread interrupted
     * before a wave sends it in turn instead. A chunk that ended in anything at all (an
     * {@code Error} too) fails as a whole, as the server's fault (so retryable): the transport may
     * or may not have done it. A chunk the executor refuses (it is shutting down) is sent on this
     * thread.
     */
    private static <T> List<Map<T, EntryError>> sendAll(List<List<T>> chunks, Executor executor, Call<T> call) {
        var outcomes = new ArrayList<Map<T, EntryError>>(chunks.size());
        for (int from = 0; from < chunks.size(); from += MAX_AT_ONCE) {
            var wave = chunks.subList(from, Math.min(chunks.size(), from + MAX_AT_ONCE));
            if (Thread.currentThread().isInterrupted()) {
                for (var chunk : wave) {
                    outcomes.add(guarded(chunk, call));
                }
                continue;
            }
            var futures = new ArrayList<CompletableFuture<Map<T, EntryError>>>(wave.size() - 1);
            for (var chunk : wave.subList(1, wave.size())) {
                var future = new CompletableFuture<Map<T, EntryError>>();
                Runnable send = () -> {
                    try {
                        future.complete(guarded(chunk, call));
                    } catch (Throwable e) { // no room even to fail it (an OutOfMemoryError): never left unanswered
                        future.completeExceptionally(e);
                    }
                };
                try {
                    executor.execute(send);
                } catch (Throwable notStarted) { // refused (closing), or no thread to be had (an OutOfMemoryError): sent here.
                    // Thrown on, it lost the answers of the chunks already out, and the whole batch was failed — dead
                    // letters whose copies had landed were copied again when they came back
                    send.run();
                }
                futures.add(future);
            }
            outcomes.add(guarded(wave.get(0), call));
            for (int i = 0; i < futures.size(); i++) {
                outcomes.add(awaitUninterruptibly(futures.get(i), wave.get(i + 1)));
            }
        }
        return outcomes;
    }

    /** At most this many chunks of one call in flight at once (well under the client's 64 connections). */
    static final int MAX_AT_ONCE = 8;

    /** A chunk's outcome whatever it throws: anything but SQS's answer fails the chunk, retryable. */
    private static <T> Map<T, EntryError> guarded(List<T> chunk, Call<T> call) {
        try {
            return sendChunk(chunk, call);
        } catch (Throwable e) {
            return failAll(chunk, unexpected(e));
        }
    }

    /**
     * A chunk's failure by what it threw, described whatever its text does: an exception whose message throws (a
     * plugin's, an interceptor's) threw again from each description, and the chunk's future was never completed — the
     * settler, or the lease keeper, waited on it for good.
     */
    private static EntryError unexpected(Throwable e) {
        return new EntryError("Unexpected", dev.ferry.domain.model.Thrown.describe(e), false);
    }

    private static <T> Map<T, EntryError> awaitUninterruptibly(CompletableFuture<Map<T, EntryError>> future, List<T> chunk) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) { // it could not even be failed: failed here, as any chunk that threw
                    return failAll(chunk, unexpected(e.getCause()));
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static <T> Map<T, EntryError> failAll(List<T> chunk, EntryError error) {
        var errors = new IdentityHashMap<T, EntryError>();
        chunk.forEach(item -> errors.put(item, error));
        return errors;
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
        } catch (Error e) { // an interceptor's or the SDK's: this chunk fails, the others' calls go on
            // named in full: a java.lang.InternalError is not SQS's InternalError (an outage)
            var error = new EntryError(e.getClass().getName(), String.valueOf(e.getMessage()), false);
            chunk.forEach(item -> errors.put(item, error));
            return errors;
        }
        for (var entry : failedEntries) {
            int index = parseIndex(entry.id(), chunk.size());
            if (index >= 0) {
                errors.put(chunk.get(index), SqsErrors.entry(entry.code(), entry.message(),
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

    static boolean pause(int attempt) {
        return pause(attempt, false);
    }

    /**
     * Waits before a batch's next attempt: 50 ms more each time, or, after a throttle, 200 ms doubling, jittered (half to
     * whole). The SDK does not retry KMS.ThrottlingException nor OverLimit (HTTP 400 both): 300 ms of evenly spaced
     * retries gave a dead-letter copy up within the throttle, and three instances retried in step.
     */
    static boolean pause(int attempt, boolean throttled) {
        long millis = 50L * attempt;
        if (throttled) {
            long base = 100L << Math.min(attempt, 6);
            millis = base / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(base / 2 + 1);
        }
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
