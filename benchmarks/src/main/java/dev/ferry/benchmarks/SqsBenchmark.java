package dev.ferry.benchmarks;

import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSource;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * End to end on a real SQS server (ElasticMQ, in this JVM, on 127.0.0.1): drain
 * {@value #MESSAGES} messages through Ferry's SQS source + the engine + a no-op handler + batched
 * deletes, against a bare AWS SDK loop (ReceiveMessage 10 + DeleteMessageBatch) with the same
 * number of pollers, on the same server. One operation = one message. Each invocation fills the
 * queue first (not timed). Each contender runs in its own fork with its own server, warmed by the
 * warm-up iterations (ElasticMQ needs a long warm-up: BUILD-NOTES.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 8)
@Measurement(iterations = 6)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@OperationsPerInvocation(SqsBenchmark.MESSAGES)
public class SqsBenchmark {

    static final int MESSAGES = 20_000;
    private static final int FILLERS = 8;

    @Param({"4"})
    public int pollers;

    private SQSRestServer server;
    private SqsClient client;
    private String queueUrl;
    private String body;

    @Setup(org.openjdk.jmh.annotations.Level.Trial)
    public void startServer() {
        Logger.getLogger("").setLevel(Level.WARNING);
        server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        int port = server.waitUntilStarted().localAddress().getPort();
        client = SqsClients.builder().endpoint(URI.create("http://127.0.0.1:" + port)).staticCredentials("x", "x")
                .maxConnections(64).build();
        queueUrl = SqsQueues.of(client).create(SqsQueues.QueueSpec.withDeadLetterQueue("bench", 1000)).url();
        body = new String(Payloads.load("mturk-one"), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Setup(org.openjdk.jmh.annotations.Level.Invocation)
    public void fill() throws Exception {
        var sent = new AtomicInteger();
        try (var pool = Executors.newFixedThreadPool(FILLERS)) {
            for (int t = 0; t < FILLERS; t++) {
                pool.execute(() -> {
                    int from;
                    while ((from = sent.getAndAdd(10)) < MESSAGES) {
                        var entries = new ArrayList<SendMessageBatchRequestEntry>(10);
                        for (int i = 0; i < 10; i++) {
                            entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(i))
                                    .messageBody(body).build());
                        }
                        client.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
                    }
                });
            }
        }
    }

    @TearDown(org.openjdk.jmh.annotations.Level.Trial)
    public void stopServer() {
        client.close();
        server.stopAndWait();
    }

    private Listener listener;
    private SqsSource source;
    private final List<Thread> bareThreads = new ArrayList<>();
    private volatile boolean stopBare;

    /** Stops what an invocation started, outside the timed part: both contenders stop when the count is reached. */
    @TearDown(org.openjdk.jmh.annotations.Level.Invocation)
    public void stopContender() throws InterruptedException {
        if (listener != null) {
            listener.stop();
            source.close();
            listener = null;
        }
        stopBare = true;
        for (var t : bareThreads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        bareThreads.clear();
        stopBare = false;
    }

    /** Ferry: SqsSource polling, the listener engine, a no-op handler, deletes through the batched settler. */
    @Benchmark
    public long ferry() throws Exception {
        var acked = new CountDownLatch(MESSAGES);
        source = SqsSource.builder(client, queueUrl).build();
        listener = Listener.builder(source, source, d -> Decoded.of(List.of(Event.of(d.id(), "bench", d.body()))),
                        (event, delivery) -> Outcome.done())
                .config(ListenerConfig.builder().pollers(pollers).batchSize(10).pollWait(Duration.ofSeconds(1))
                        .lease(Duration.ofSeconds(60)).build())
                .observer(new ListenerObserver() {
                    @Override
                    public void settled(Delivery delivery, Disposition disposition) {
                        acked.countDown();
                    }
                })
                .build().start();
        if (!acked.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("Ferry drained only " + (MESSAGES - acked.getCount()) + " in 120 s");
        }
        return listener.stats().acked();
    }

    /** The limit: the same pollers, each a bare receive 10 + DeleteMessageBatch loop on the AWS SDK. */
    @Benchmark
    public long bareSdkLoop() throws Exception {
        var deleted = new CountDownLatch(MESSAGES);
        for (int p = 0; p < pollers; p++) {
            bareThreads.add(Thread.ofPlatform().start(() -> {
                while (!stopBare) {
                    var messages = client.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                            .waitTimeSeconds(1).visibilityTimeout(60)).messages();
                    if (messages.isEmpty()) {
                        continue;
                    }
                    var entries = new ArrayList<DeleteMessageBatchRequestEntry>(messages.size());
                    for (int i = 0; i < messages.size(); i++) {
                        entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                                .receiptHandle(messages.get(i).receiptHandle()).build());
                    }
                    client.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
                    messages.forEach(m -> deleted.countDown());
                }
            }));
        }
        if (!deleted.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the bare loop drained only " + (MESSAGES - deleted.getCount()) + " in 120 s");
        }
        return MESSAGES;
    }
}
