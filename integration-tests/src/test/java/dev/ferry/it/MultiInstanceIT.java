package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.dynamodb.DynamoDbLedger;
import dev.ferry.adapters.dynamodb.DynamoDbLocal;
import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSource;
import dev.ferry.codecs.Codecs;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * #8: three Ferry instances — separate engines, separate SQS and DynamoDB clients — on one SQS
 * queue (ElasticMQ), sharing one DynamoDB ledger (DynamoDB Local). 10,000 messages: 9,000 MTurk
 * event documents and 1,000 of them sent again under new MessageIds (MTurk's duplicates), handlers
 * that crash at random before their effect. Every event's effect must be recorded exactly once.
 */
class MultiInstanceIT {

    private static final int DOCUMENTS = 9_000;
    private static final int DUPLICATES = 1_000;
    private static final int INSTANCES = 3;

    private static String document(int i) {
        return "{\"EventDocVersion\":\"2014-08-15\",\"EventDocId\":\"doc-" + i + "\",\"CustomerId\":\"A1\","
                + "\"Events\":[{\"EventType\":\"AssignmentSubmitted\",\"EventTimestamp\":\"2026-11-23T10:00:00Z\","
                + "\"HITTypeId\":\"T1\",\"HITId\":\"HIT-" + (i % 100) + "\",\"AssignmentId\":\"A-" + i + "\"}]}";
    }

    @Test
    void threeInstances_oneQueue_oneLedger_everyEffectExactlyOnce() throws Exception {
        var sqsServer = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        var endpoint = URI.create("http://127.0.0.1:" + sqsServer.waitUntilStarted().localAddress().getPort());
        var clients = new ArrayList<AutoCloseable>();
        var listeners = new ArrayList<Listener>();
        try (var dynamo = DynamoDbLocal.start()) {
            var admin = sqs(endpoint, clients);
            var created = SqsQueues.of(admin).create(SqsQueues.QueueSpec.withDeadLetterQueue("assignments", 1000));
            var ddbAdmin = dynamo.newClient();
            clients.add(ddbAdmin);
            DynamoDbLedger.createTable(ddbAdmin, "ferry-ledger", DynamoDbLedger.Names.defaults());

            send(admin, created.url());

            var effects = new ConcurrentHashMap<String, AtomicInteger>();
            var crashes = new LongAdder();
            for (int n = 0; n < INSTANCES; n++) {
                var random = new SplittableRandom(100 + n);
                var source = SqsSource.builder(sqs(endpoint, clients), created.url()).name("instance-" + n).build();
                var ddb = dynamo.newClient();
                clients.add(ddb);
                var listener = Listener.builder(source, source, Codecs.named("mturk", dev.ferry.codecs.JsonLimits.defaults()), (event, delivery) -> {
                            boolean crash;
                            synchronized (random) {
                                crash = random.nextInt(20) == 0;
                            }
                            if (crash) {
                                crashes.increment();
                                throw new IllegalStateException("worker crashed before its effect");
                            }
                            effects.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
                            return Outcome.done();
                        })
                        .ledger(DynamoDbLedger.of(ddb, "ferry-ledger"))
                        .config(ListenerConfig.builder().pollers(2).concurrency(8).pollWait(Duration.ofSeconds(1))
                                .lease(Duration.ofSeconds(30))
                                .retry(RetryPolicy.of(50, Backoff.fixed(Duration.ZERO)))
                                .deadLetter(DeadLetterPolicy.maxReceives(60)).build())
                        .seed(n)
                        .build().start();
                listeners.add(listener);
                clients.add(source);
            }

            boolean done = Await.until(Duration.ofMinutes(4), () -> effects.size() == DOCUMENTS
                    && listeners.stream().mapToLong(l -> l.stats().inFlight()).sum() == 0
                    && visibleAndInFlight(admin, created.url()) == 0);
            var stats = listeners.stream().map(l -> l.stats().line()).toList();
            assertThat(done).as("all handled; " + stats).isTrue();

            assertThat(effects).hasSize(DOCUMENTS);
            var doubled = effects.entrySet().stream().filter(e -> e.getValue().get() != 1).map(Map.Entry::getKey).toList();
            assertThat(doubled).as("effects recorded more than once").isEmpty();
            assertThat(crashes.sum()).as("crashes happened").isGreaterThan(100);
            long duplicatesDropped = listeners.stream().mapToLong(l -> l.stats().duplicatesDropped()).sum();
            assertThat(duplicatesDropped).as("MTurk's duplicates dropped by the shared ledger").isGreaterThanOrEqualTo(DUPLICATES);
            long perInstanceMin = listeners.stream().mapToLong(l -> l.stats().acked()).min().orElseThrow();
            assertThat(perInstanceMin).as("every instance took part").isGreaterThan(0);
            assertThat(visibleAndInFlight(admin, created.deadLetterQueueUrl())).as("nothing dead-lettered").isZero();
        } finally {
            listeners.forEach(Listener::stop);
            for (var c : clients.reversed()) {
                c.close();
            }
            sqsServer.stopAndWait();
        }
    }

    private static SqsClient sqs(URI endpoint, List<AutoCloseable> clients) {
        var client = SqsClients.builder().endpoint(endpoint).staticCredentials("x", "x").build();
        clients.add(client);
        return client;
    }

    /** 9,000 documents and 1,000 of them again, shuffled, in batches of 10 from 8 threads. */
    private static void send(SqsClient client, String url) throws InterruptedException {
        var bodies = new ArrayList<String>(DOCUMENTS + DUPLICATES);
        for (int i = 0; i < DOCUMENTS; i++) {
            bodies.add(document(i));
        }
        var random = new SplittableRandom(7);
        for (int i = 0; i < DUPLICATES; i++) {
            bodies.add(document(random.nextInt(DOCUMENTS)));
        }
        Collections.shuffle(bodies, new java.util.Random(7));
        var next = new AtomicInteger();
        try (var pool = Executors.newFixedThreadPool(8)) {
            for (int t = 0; t < 8; t++) {
                pool.execute(() -> {
                    int from;
                    while ((from = next.getAndAdd(10)) < bodies.size()) {
                        var entries = new ArrayList<SendMessageBatchRequestEntry>(10);
                        for (int i = from; i < Math.min(from + 10, bodies.size()); i++) {
                            entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(i - from))
                                    .messageBody(bodies.get(i)).build());
                        }
                        client.sendMessageBatch(b -> b.queueUrl(url).entries(entries));
                    }
                });
            }
        }
    }

    private static int visibleAndInFlight(SqsClient client, String url) {
        var a = client.getQueueAttributes(b -> b.queueUrl(url).attributeNamesWithStrings(
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")).attributesAsStrings();
        return Integer.parseInt(a.get("ApproximateNumberOfMessages")) + Integer.parseInt(a.get("ApproximateNumberOfMessagesNotVisible"));
    }
}
