package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.adapters.kafka.KafkaBroker;
import dev.ferry.domain.testing.Await;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * #5: every shipped example run as users run it — {@code java -jar ferry.jar run --config
 * examples/NAME.yaml} in its own process — against real servers started here (ElasticMQ, an
 * in-JVM Kafka broker, a JDK HTTP server), fed real-format messages, with what arrives where,
 * the DLQ's contents and reasons, and a clean SIGTERM (exit 0) asserted.
 */
@ExtendWith(KafkaBroker.class)
class ExamplesIT {

    private static final Duration START = Duration.ofSeconds(60);
    private static final String MTURK_DOC = """
            {"EventDocVersion":"2014-08-15","EventDocId":"%s","CustomerId":"A1","Events":[%s]}""";

    private static String mturkEvent(String type, String hit, String assignment) {
        return "{\"EventType\":\"" + type + "\",\"EventTimestamp\":\"2026-11-23T10:00:00Z\",\"HITTypeId\":\"T1\",\"HITId\":\""
                + hit + "\"" + (assignment == null ? "" : ",\"AssignmentId\":\"" + assignment + "\"") + "}";
    }

    private static int freePort() throws Exception {
        try (var probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    private static Map<String, String> env(Path dir, Map<String, String> more) {
        var env = new HashMap<>(more);
        env.put("FERRY_LEDGER", dir.resolve("ledger.db").toString());
        return env;
    }

    /** The sqs-to-http example's environment, pointed at {@code api}, with its queues created. */
    private static Map<String, String> sqsToHttp(Path dir, LocalSqs sqs, HttpServer api, String token) throws Exception {
        var env = env(dir, new HashMap<>(sqs.env()));
        env.put("API_URL", "http://127.0.0.1:" + api.getAddress().getPort() + "/events");
        env.put("API_TOKEN", token);
        assertThat(FerryProcess.run(env, "queues", "create", "--config", "../examples/sqs-to-http.yaml").exitCode()).isZero();
        return env;
    }

    @Test
    void local_embeddedSqs_takesMessagesFromTheAwsCli_routesThem_andStopsCleanlyOnSigterm(@TempDir Path dir) throws Exception {
        int sqsPort = freePort();
        int metricsPort = freePort();
        var config = dir.resolve("local.yaml");
        Files.writeString(config, Files.readString(Path.of("../examples/local.yaml"))
                .replace("port: 9324", "port: " + sqsPort).replace("127.0.0.1:9464", "127.0.0.1:" + metricsPort));
        try (var ferry = FerryProcess.start(env(dir, Map.of()), "run", "--config", config.toString())) {
            ferry.awaitLine("listening on 'mturk'", START);
            String queue = "http://127.0.0.1:" + sqsPort + "/000000000000/mturk-events";
            var cli = new ProcessBuilder("aws", "--endpoint-url", "http://127.0.0.1:" + sqsPort, "sqs", "send-message",
                    "--queue-url", queue, "--message-body", MTURK_DOC.formatted("doc-cli",
                            mturkEvent("AssignmentSubmitted", "H1", "A1") + "," + mturkEvent("HITReviewable", "H1", null)))
                    .redirectErrorStream(true);
            cli.environment().putAll(Map.of("AWS_ACCESS_KEY_ID", "x", "AWS_SECRET_ACCESS_KEY", "x",
                    "AWS_DEFAULT_REGION", "us-east-1", "AWS_EC2_METADATA_DISABLED", "true"));
            var sent = cli.start();
            assertThat(sent.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(sent.exitValue()).as(new String(sent.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
            ferry.awaitLine("ferry.sink.log - AssignmentSubmitted", Duration.ofSeconds(20))
                    .awaitLine("ferry.sink.log - HITReviewable", Duration.ofSeconds(20));

            try (var client = dev.ferry.adapters.sqs.SqsClients.builder().endpoint(URI.create("http://127.0.0.1:" + sqsPort))
                    .staticCredentials("x", "x").build()) {
                client.sendMessage(b -> b.queueUrl(queue).messageBody("{\"EventDocId\": 7"));
                ferry.awaitLine("dead-lettered message", Duration.ofSeconds(20));
                var routed = client.receiveMessage(b -> b.queueUrl(queue.replace("mturk-events", "assignments"))
                        .maxNumberOfMessages(10).waitTimeSeconds(2)).messages();
                assertThat(routed).singleElement().satisfies(m -> assertThat(m.body()).contains("AssignmentSubmitted"));
                var dead = client.receiveMessage(b -> b.queueUrl(queue + "-dlq").waitTimeSeconds(2)
                        .messageAttributeNames("All")).messages();
                assertThat(dead).singleElement().satisfies(m -> {
                    assertThat(m.body()).isEqualTo("{\"EventDocId\": 7");
                    assertThat(LocalSqs.reason(m)).contains("EventDocId");
                });
            }
            var http = HttpClient.newHttpClient();
            var metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body()).contains("ferry_messages_acked_total{source=\"mturk\"} 1.0")
                    .contains("ferry_messages_dead_lettered_total{reason=\"malformed\",source=\"mturk\"} 1.0");
            assertThat(ferry.terminate(Duration.ofSeconds(30))).as(ferry.output()).isZero();
            assertThat(ferry.output()).contains("ferry - stopping (signal received)").contains("stopped 'mturk'")
                    .doesNotContain("was still open")
                    .contains("the embedded SQS server keeps its queues and messages in memory");
        }
    }

    @Test
    void mturkRouter_splitsByType_dropsARepeatedDocument_andDeadLettersForeignSenders(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = new HashMap<>(env(dir, sqs.env()));
            env.put("MTURK_SENDER_ID", "AIDAMTURKONLY"); // the example has no default; the real one is known further down
            var created = FerryProcess.run(env, "queues", "create", "--config", "../examples/mturk-router.yaml");
            assertThat(created.exitCode()).as(created.output()).isZero();
            assertThat(created.output()).contains("/mturk-events (dead letters: ").contains("/assignments").contains("/hit-events");

            // the SenderId this server stamps on our messages: first not allowed, then allowed. The strict
            // run reads its own queue: its long polls, cut off by the stop, may still be open at the server
            // and would take (and hide for a lease) the next messages of a shared queue.
            sqs.send("mturk-events", "probe");
            var probe = sqs.client.receiveMessage(b -> b.queueUrl(sqs.url("mturk-events")).waitTimeSeconds(5)
                    .messageSystemAttributeNames(MessageSystemAttributeName.SENDER_ID)).messages().getFirst();
            sqs.client.deleteMessage(b -> b.queueUrl(sqs.url("mturk-events")).receiptHandle(probe.receiptHandle()));
            String sender = probe.attributes().get(MessageSystemAttributeName.SENDER_ID);

            var strictEnv = new HashMap<>(env);
            strictEnv.put("MTURK_SENDER_ID", "AIDAMTURKONLY");
            strictEnv.put("MTURK_QUEUE", "mturk-strict");
            strictEnv.put("FERRY_LEDGER", dir.resolve("strict.db").toString());
            assertThat(FerryProcess.run(strictEnv, "queues", "create", "--config", "../examples/mturk-router.yaml").exitCode())
                    .isZero();
            try (var strict = FerryProcess.start(strictEnv, "run", "--config", "../examples/mturk-router.yaml")) {
                strict.awaitLine("listening on 'mturk'", START);
                sqs.send("mturk-strict", MTURK_DOC.formatted("doc-0", mturkEvent("AssignmentSubmitted", "H0", "A0")));
                assertThat(sqs.drain("mturk-strict-dlq", 1, 30)).singleElement()
                        .satisfies(m -> assertThat(LocalSqs.reason(m)).isEqualTo("SenderId '" + sender
                                + "' is not in the allowlist [AIDAMTURKONLY] of queue 'mturk'"));
                assertThat(strict.terminate(Duration.ofSeconds(30))).isZero();
            }
            assertThat(sqs.depth("assignments")).isZero();

            env.put("MTURK_SENDER_ID", sender);
            try (var ferry = FerryProcess.start(env, "run", "--config", "../examples/mturk-router.yaml")) {
                ferry.awaitLine("listening on 'mturk'", START);
                String doc1 = MTURK_DOC.formatted("doc-1", mturkEvent("AssignmentSubmitted", "H1", "A1") + ","
                        + mturkEvent("HITReviewable", "H1", null));
                sqs.send("mturk-events", doc1);
                sqs.send("mturk-events", doc1); // the same document under a second MessageId
                sqs.send("mturk-events", MTURK_DOC.formatted("doc-2", mturkEvent("HITExpired", "H2", null)));
                var hits = sqs.drain("hit-events", 2, 30);
                var assignments = sqs.drain("assignments", 1, 10);
                assertThat(assignments).as(ferry.output() + "\nhits: " + hits).extracting(m -> m.body()).singleElement().asString().contains("\"A1\"");
                assertThat(hits).extracting(m -> m.body()).hasSize(2)
                        .anySatisfy(b -> assertThat(b).contains("HITReviewable")).anySatisfy(b -> assertThat(b).contains("HITExpired"));
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
                assertThat(ferry.output()).containsPattern("stopped 'mturk': .*received=3 acked=3");
            }
        }
    }

    @Test
    void s3ToKafka_putsEachObjectKeyOnBothTopicsOnce_andIgnoresTheTestEvent(@TempDir Path dir) throws Exception {
        KafkaBroker.create("qa-archive-new", 1);
        KafkaBroker.create("prod-archive-new", 1);
        try (var sqs = new LocalSqs()) {
            var env = env(dir, new HashMap<>(sqs.env()));
            env.put("QA_KAFKA", KafkaBroker.bootstrap());
            env.put("PROD_KAFKA", KafkaBroker.bootstrap());
            assertThat(FerryProcess.run(env, "queues", "create", "--config", "../examples/s3-to-kafka.yaml").exitCode()).isZero();
            try (var ferry = FerryProcess.start(env, "run", "--config", "../examples/s3-to-kafka.yaml")) {
                ferry.awaitLine("listening on 's3-notifications'", START);
                sqs.send("s3-notifications", Files.readString(Path.of("../codecs/src/test/resources/samples/s3-reference.json")));
                sqs.send("s3-notifications", Files.readString(Path.of("../codecs/src/test/resources/samples/s3-test-event.json")));
                sqs.send("s3-notifications", Files.readString(Path.of("../codecs/src/test/resources/samples/s3-ten.json")));
                String key = "1234567/abcd1234-1234-abcd-5678-1234abcd1234/20200609125740-1234567890abcdef1234567890abcdef";
                for (String topic : List.of("qa-archive-new", "prod-archive-new")) {
                    var values = KafkaBroker.readAll(topic, 11).stream().map(r -> KafkaBroker.text(r.value())).toList();
                    assertThat(values).as(topic).hasSize(11).doesNotHaveDuplicates().contains(key);
                }
                assertThat(Await.until(Duration.ofSeconds(20), () -> sqs.depth("s3-notifications") == 0)).isTrue();
                assertThat(sqs.depth("s3-notifications-dlq")).isZero();
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
            }
        }
    }

    @Test
    void sqsToHttp_posts_honours429_andDeadLettersA4xxWithItsReason(@TempDir Path dir) throws Exception {
        var seen = new ConcurrentLinkedQueue<String>();
        var throttledOnce = ConcurrentHashMap.<String>newKeySet();
        var api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        api.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        api.createContext("/events", exchange -> {
            try (exchange) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                String auth = exchange.getRequestHeaders().getFirst("Authorization");
                int status;
                if (!"Bearer t0ken".equals(auth)) {
                    status = 401;
                } else if (body.contains("invalid")) {
                    status = 400;
                } else if (body.contains("busy") && throttledOnce.add(body)) {
                    exchange.getResponseHeaders().set("Retry-After", "1");
                    status = 429;
                } else {
                    seen.add(body);
                    status = 200;
                }
                byte[] answer = (status == 400 ? "{\"error\":\"field qty must be positive\"}" : "{}").getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, answer.length);
                exchange.getResponseBody().write(answer);
            }
        });
        api.start();
        try (var sqs = new LocalSqs()) {
            var env = sqsToHttp(dir, sqs, api, "t0ken");
            try (var ferry = FerryProcess.start(env, "run", "--config", "../examples/sqs-to-http.yaml")) {
                ferry.awaitLine("listening on 'events'", START);
                for (int i = 0; i < 20; i++) {
                    sqs.send("events", "{\"n\":" + i + "}");
                }
                sqs.send("events", "{\"n\":\"busy\"}");
                sqs.send("events", "{\"n\":\"invalid\"}");
                assertThat(Await.until(Duration.ofSeconds(30), () -> seen.size() == 21)).as(ferry.output()).isTrue();
                var dead = sqs.drain("events-dlq", 1, 20);
                assertThat(dead).singleElement().satisfies(m -> {
                    assertThat(m.body()).isEqualTo("{\"n\":\"invalid\"}");
                    assertThat(LocalSqs.reason(m)).contains("400").contains("field qty must be positive");
                });
                assertThat(seen).doesNotHaveDuplicates().contains("{\"n\":\"busy\"}");
                assertThat(throttledOnce).containsExactly("{\"n\":\"busy\"}");
                assertThat(Await.until(Duration.ofSeconds(20), () -> sqs.depth("events") == 0)).isTrue();
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
            }
        } finally {
            api.stop(0);
        }
    }

    @Test
    void fifoTrades_keepsEachAccountsOrder_andConfirmsEachTradeOnce(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = env(dir, new HashMap<>(sqs.env()));
            assertThat(FerryProcess.run(env, "queues", "create", "--config", "../examples/fifo-trades.yaml").exitCode()).isZero();
            String trades = sqs.url("trades.fifo");
            var accounts = List.of("ACC-1", "ACC-2", "ACC-3");
            try (var ferry = FerryProcess.start(env, "run", "--config", "../examples/fifo-trades.yaml")) {
                ferry.awaitLine("listening on 'trades'", START);
                for (int n = 1; n <= 20; n++) {
                    for (String account : accounts) {
                        String body = "{\"trade\":\"" + account + "-T" + n + "\",\"account\":\"" + account
                                + "\",\"type\":\"Buy\",\"seq\":" + n + "}";
                        sqs.client.sendMessage(b -> b.queueUrl(trades).messageBody(body).messageGroupId(account)
                                .messageDeduplicationId(java.util.UUID.randomUUID().toString()));
                        if (n % 7 == 0) { // trades 7 and 14 sent again under a new deduplication id: SQS cannot tell, the ledger can
                            sqs.client.sendMessage(b -> b.queueUrl(trades).messageBody(body).messageGroupId(account)
                                    .messageDeduplicationId(java.util.UUID.randomUUID().toString()));
                        }
                    }
                }
                var confirmed = sqs.drain("confirmed-trades.fifo", 60, 60);
                assertThat(confirmed).hasSize(60);
                for (String account : accounts) {
                    var order = confirmed.stream().map(m -> m.body()).filter(b -> b.contains("\"" + account + "\""))
                            .map(b -> Integer.parseInt(b.replaceAll(".*\"seq\":(\\d+).*", "$1"))).toList();
                    assertThat(order).as(account).containsExactlyElementsOf(IntStream.rangeClosed(1, 20).boxed().toList());
                }
                assertThat(confirmed).allSatisfy(m -> assertThat(m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID))
                        .isIn(accounts));
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
                assertThat(ferry.output()).containsPattern("stopped 'trades': .*received=66 acked=66 .*duplicates=6");
            }
        }
    }

    @Test
    void sigtermUnderLoad_losesNothing_andARestartFinishesTheRestOnce(@TempDir Path dir) throws Exception {
        int total = 300;
        var posts = new ConcurrentHashMap<String, AtomicInteger>();
        var api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        api.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        api.createContext("/events", exchange -> {
            try (exchange) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                try {
                    Thread.sleep(40); // a slow API keeps messages in hand when the signal comes
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                posts.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
                exchange.sendResponseHeaders(200, -1);
            }
        });
        api.start();
        try (var sqs = new LocalSqs()) {
            var env = sqsToHttp(dir, sqs, api, "t");
            var bodies = new ArrayList<String>();
            for (int i = 0; i < total; i++) {
                bodies.add("{\"n\":" + i + "}");
            }
            for (int i = 0; i < total; i += 10) {
                var batch = bodies.subList(i, i + 10);
                sqs.client.sendMessageBatch(b -> b.queueUrl(sqs.url("events")).entries(IntStream.range(0, batch.size())
                        .mapToObj(j -> software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry.builder()
                                .id("m" + j).messageBody(batch.get(j)).build()).toList()));
            }
            int atSignal;
            try (var ferry = FerryProcess.start(env, "run", "--config", "../examples/sqs-to-http.yaml")) {
                ferry.awaitLine("listening on 'events'", START);
                assertThat(Await.until(Duration.ofSeconds(60), () -> posts.size() >= total / 3)).isTrue();
                atSignal = posts.size();
                assertThat(ferry.terminate(Duration.ofSeconds(40))).as(ferry.output()).isZero();
                assertThat(ferry.output()).contains("stopped 'events'");
            }
            int handled = posts.size();
            assertThat(handled).isLessThan(total).isGreaterThanOrEqualTo(atSignal);
            // nothing lost: what the API has not seen is back in the queue, visible now (released, not leased)
            assertThat(Await.until(Duration.ofSeconds(10), () -> sqs.depth("events") == total - handled))
                    .as("queue depth %d, handled %d", sqs.depth("events"), handled).isTrue();
            try (var again = FerryProcess.start(env, "run", "--config", "../examples/sqs-to-http.yaml")) {
                again.awaitLine("listening on 'events'", START);
                assertThat(Await.until(Duration.ofSeconds(90), () -> posts.size() == total)).isTrue();
                assertThat(again.terminate(Duration.ofSeconds(40))).isZero();
            }
            var doubled = posts.entrySet().stream().filter(e -> e.getValue().get() > 1).map(Map.Entry::getKey)
                    .collect(Collectors.toSet());
            assertThat(doubled).as("POSTed more than once").isEqualTo(Set.of());
            assertThat(posts.keySet()).containsExactlyInAnyOrderElementsOf(bodies);
            assertThat(sqs.depth("events")).isZero();
        } finally {
            api.stop(0);
        }
    }
}
