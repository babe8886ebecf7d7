package dev.ferry.benchmarks;

import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSource;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * One ElasticMQ server on 127.0.0.1 ({@link SqsServer}) with one queue, and the two ways of draining
 * it that {@link SqsBenchmark} and {@link SqsAlternating} compare: Ferry (SqsSource + Listener + no-op
 * handler + batched deletes) and a bare AWS SDK loop (receive 10 + DeleteMessageBatch per poller).
 * Both clocks stop at the same point: when SQS answered the delete of the last message.
 */
final class SqsDrain implements AutoCloseable {

    private static final int FILLERS = 8;

    private final SqsServer server;
    private final SqsClient client;
    private final String queueUrl;
    private final String body;

    SqsDrain() {
        Logger.getLogger("").setLevel(Level.WARNING);
        server = SqsServer.start();
        client = SqsClients.builder().endpoint(server.endpoint()).staticCredentials("x", "x")
                .maxConnections(64).build();
        queueUrl = SqsQueues.of(client).create(SqsQueues.QueueSpec.withDeadLetterQueue("bench", 1000)).url();
        body = new String(Payloads.load("mturk-one"), StandardCharsets.UTF_8);
    }

    /** Puts {@code messages} messages on the queue (8 threads, batches of 10). */
    void fill(int messages) {
        var sent = new AtomicInteger();
        try (var pool = Executors.newFixedThreadPool(FILLERS)) {
            for (int t = 0; t < FILLERS; t++) {
                pool.execute(() -> {
                    while (sent.getAndAdd(10) < messages) {
                        var entries = new ArrayList<SendMessageBatchRequestEntry>(10);
                        for (int i = 0; i < 10; i++) {
                            entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(i)).messageBody(body).build());
                        }
                        client.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
                    }
                });
            }
        }
    }

    /** A drain in progress; {@link #await} returns when {@code messages} were deleted, {@link #close} stops it. */
    interface Drain extends AutoCloseable {
        void await() throws InterruptedException;

        @Override
        void close() throws InterruptedException;
    }

    Drain ferry(int pollers, int messages) {
        var acked = new CountDownLatch(messages);
        var source = SqsSource.builder(client, queueUrl).build();
        // the clock stops where the bare loop's does: when SQS answered the DeleteMessageBatch
        var confirmed = new ConfirmedAcks(source, acked);
        var listener = Listener.builder(source, confirmed, d -> Decoded.of(List.of(Event.of(d.id(), "bench", d.body()))),
                        (event, delivery) -> Outcome.done())
                .config(ListenerConfig.builder().pollers(pollers).batchSize(10).pollWait(Duration.ofSeconds(1))
                        .lease(Duration.ofSeconds(60)).build())
                .build().start();
        return new Drain() {
            @Override
            public void await() throws InterruptedException {
                awaitLatch(acked, "Ferry", messages);
            }

            @Override
            public void close() {
                listener.stop();
                source.close();
            }
        };
    }

    Drain bare(int pollers, int messages) {
        var deleted = new CountDownLatch(messages);
        var stop = new AtomicBoolean();
        var threads = new ArrayList<Thread>();
        for (int p = 0; p < pollers; p++) {
            threads.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    var received = client.receiveMessage(b -> {
                        b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(1).visibilityTimeout(60);
                        if (Boolean.getBoolean("ferry.bench.attrs")) { // the attributes Ferry asks for (no measurable cost)
                            b.messageSystemAttributeNamesWithStrings("All").messageAttributeNames("All");
                        }
                    }).messages();
                    if (received.isEmpty()) {
                        continue;
                    }
                    var entries = new ArrayList<DeleteMessageBatchRequestEntry>(received.size());
                    for (int i = 0; i < received.size(); i++) {
                        entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                                .receiptHandle(received.get(i).receiptHandle()).build());
                    }
                    client.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
                    received.forEach(m -> deleted.countDown());
                }
            }));
        }
        return new Drain() {
            @Override
            public void await() throws InterruptedException {
                awaitLatch(deleted, "the bare loop", messages);
            }

            @Override
            public void close() throws InterruptedException {
                stop.set(true);
                for (var t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(30));
                }
            }
        };
    }

    /** Fills, drains with the bare loop and returns messages per second; for warming the server up. */
    double bareRate(int pollers, int messages) throws InterruptedException {
        fill(messages);
        long start = System.nanoTime();
        try (var drain = bare(pollers, messages)) {
            drain.await();
            return messages / ((System.nanoTime() - start) / 1e9);
        }
    }

    private static void awaitLatch(CountDownLatch latch, String who, int messages) throws InterruptedException {
        if (!latch.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException(who + " drained only " + (messages - latch.getCount()) + " of " + messages
                    + " in 300 s");
        }
    }

    @Override
    public void close() {
        client.close();
        server.close();
    }
}
