package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code on-poison: park} in the app on a real SQS FIFO queue (ElasticMQ): a poison message parks
 * its group, the rest of the group waits in the DLQ in order while another group flows, and
 * {@code ferry groups list} / {@code ferry groups release} — through the running app's admin
 * endpoints, with its token — put the group back in order.
 */
class ParkedGroupsIT {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final String TOKEN = "a-test-admin-token-0123456789";

    /** Per group, the ids the sink accepted, in order. */
    private final Map<String, List<String>> delivered = new ConcurrentHashMap<>();
    private final Set<String> poison = ConcurrentHashMap.newKeySet();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void aPoisonMessage_parksItsGroup_andGroupsRelease_deliversItInOrder(@TempDir Path dir) throws Exception {
        var api = api();
        try (var sqs = new LocalSqs()) {
            var file = config(sqs, dir, api.getAddress().getPort(), freePort());
            var env = queuesCreated(file);
            var queues = SqsQueues.of(sqs.client);
            poison.add("a2");
            try (var runtime = runtime(file).start()) {
                send(sqs, "A", "a1", "a2", "a3", "a4");
                send(sqs, "B", "b1", "b2");
                assertThat(Await.until(LIMIT, () -> delivered("B").size() == 2
                        && queues.approximateMessages(sqs.url("orders-dlq.fifo")) == 3)).as(() -> "delivered " + delivered).isTrue();
                assertThat(delivered("A")).containsExactly("a1");

                out.reset();
                assertThat(Ferry.run(new String[] {"groups", "list"}, out, err, env::get)).as(err.toString()).isZero();
                assertThat(out.toString()).containsPattern("orders +A +3  ").contains("HTTP 400");
                assertThat(err.toString()).as("all of them shown: nothing said of more").doesNotContain("showing");
                err.reset();
                assertThat(Ferry.run(new String[] {"groups", "list", "--limit", "0"}, out, err, env::get)).isEqualTo(2);
                assertThat(err.toString()).contains("--limit must be from 1 to 100000");

                // a review: a plain redrive (a part of it above all) put the group back out of order, its head unnamed
                err.reset();
                assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq.fifo", "--to", "orders.fifo",
                        "--max", "2"}, out, err, env::get)).isNotZero();
                assertThat(err.toString()).contains("parked groups of source 'orders'").contains("ferry groups release");
                var console = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + runtime.adminPort() + "/queues/redrive?from=orders-dlq.fifo&to=orders.fifo&max=2"))
                        .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(console.statusCode()).as(console.body()).isEqualTo(409);
                assertThat(console.body()).contains("groups release");
                assertThat(queues.approximateMessages(sqs.url("orders-dlq.fifo"))).as("nothing moved").isEqualTo(3);
                assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq.fifo", "--to", "orders.fifo",
                        "--force", "--dry-run"}, out, err, env::get)).as("--force lets it through").isZero();
                err.reset(); // a last look: SQS's move task moves every message, parked groups' too, forced or not
                assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq.fifo", "--to", "orders.fifo",
                        "--native", "--force", "--dry-run"}, out, err, env::get)).as("--native refused, forced too")
                        .isEqualTo(2);
                assertThat(err.toString()).contains("not with --native");

                var noToken = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + runtime.adminPort() + "/groups/release?group=A")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(noToken.statusCode()).as("no token, no release").isEqualTo(401);
                assertThat(queues.approximateMessages(sqs.url("orders-dlq.fifo"))).isEqualTo(3);

                send(sqs, "A", "a5"); // sent while parked: it waits behind the others
                assertThat(Await.until(LIMIT, () -> queues.approximateMessages(sqs.url("orders-dlq.fifo")) == 4)).isTrue();

                poison.clear();
                out.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A"}, out, err, env::get)).as(err.toString()).isZero();
                assertThat(out.toString()).as("the source it chose said").contains("group A of 'orders' released: 4 message(s) sent back in order");

                assertThat(Await.until(LIMIT, () -> delivered("A").size() == 5)).as(() -> "delivered " + delivered).isTrue();
                assertThat(delivered("A")).containsExactly("a1", "a2", "a3", "a4", "a5");
                assertThat(Await.until(LIMIT, () -> {
                    out.reset();
                    return Ferry.run(new String[] {"groups", "list"}, out, err, env::get) == 0
                            && out.toString().contains("no parked groups");
                })).as("unparked once all of them were handled").isTrue();

                send(sqs, "A", "a6");
                assertThat(Await.until(LIMIT, () -> delivered("A").size() == 6)).isTrue();
                assertThat(queues.approximateMessages(sqs.url("orders-dlq.fifo"))).isZero();
            }
        } finally {
            api.stop(0);
        }
    }

    @Test
    void threeInstancesSharingADynamoDbLedger_parkTheGroupForAll_andAReleaseThroughAnyOfThem_deliversItInOrder(
            @TempDir Path dir) throws Exception {
        var api = api();
        try (var sqs = new LocalSqs(); var dynamo = dev.ferry.adapters.dynamodb.DynamoDbLocal.start()) {
            var files = new java.util.ArrayList<Path>();
            for (int i = 0; i < 3; i++) {
                var instance = Files.createDirectories(dir.resolve("instance-" + i));
                var file = config(sqs, instance, api.getAddress().getPort(), freePort());
                Files.writeString(file, Files.readString(file).replaceFirst("ledger: \\{kind: mvstore, path: [^}]*}",
                        "ledger: {kind: dynamodb, table: parked-three, endpoint: \"" + dynamo.endpoint() + "\", create-table: true}"));
                files.add(file);
            }
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("FERRY_CONFIG", files.get(1).toString());
            env.put("AWS_ACCESS_KEY_ID", "x");
            env.put("AWS_SECRET_ACCESS_KEY", "x");
            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, env::get)).as(err.toString()).isZero();
            var queues = SqsQueues.of(sqs.client);
            poison.add("a2");
            var runtimes = new java.util.ArrayList<FerryRuntime>();
            try {
                for (var file : files) {
                    runtimes.add(runtime(file).start());
                }
                for (int i = 1; i <= 6; i++) {
                    send(sqs, "A", "a" + i);
                    send(sqs, "B", "b" + i);
                }
                assertThat(Await.until(LIMIT, () -> delivered("B").size() == 6
                        && queues.approximateMessages(sqs.url("orders-dlq.fifo")) == 5)).as(() -> "delivered " + delivered).isTrue();
                assertThat(delivered("A")).containsExactly("a1");
                assertThat(delivered("B")).containsExactly("b1", "b2", "b3", "b4", "b5", "b6");
                // the shared ledger's clock against each instance's, measured at its first claim (NaN before): the same machine's
                var measured = new java.util.ArrayList<Double>();
                for (var runtime : runtimes) {
                    var metrics = java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + runtime.adminPort() + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                    var skew = metrics.lines().filter(l -> l.startsWith("ferry_ledger_clock_skew_seconds")).findFirst().orElseThrow();
                    double value = Double.parseDouble(skew.substring(skew.lastIndexOf(' ') + 1));
                    if (!Double.isNaN(value)) {
                        measured.add(value);
                    }
                }
                assertThat(measured).as("an instance that claimed measured it").isNotEmpty().allMatch(v -> v >= -1.0 && v <= 1.0);

                poison.clear();
                out.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A"}, out, err, env::get)).as(err.toString()).isZero();
                assertThat(out.toString()).contains("5 message(s) sent back in order");
                assertThat(Await.until(LIMIT, () -> delivered("A").size() == 6)).as(() -> "delivered " + delivered).isTrue();
                assertThat(delivered("A")).containsExactly("a1", "a2", "a3", "a4", "a5", "a6");
                assertThat(Await.until(LIMIT, () -> {
                    out.reset();
                    return Ferry.run(new String[] {"groups", "list"}, out, err, env::get) == 0
                            && out.toString().contains("no parked groups");
                })).as("unparked, for every instance").isTrue();
                assertThat(queues.approximateMessages(sqs.url("orders-dlq.fifo"))).isZero();
            } finally {
                runtimes.forEach(FerryRuntime::close);
            }
        } finally {
            api.stop(0);
        }
    }

    /**
     * A dead letter of a group from before it was parked, ahead of its parked messages in the DLQ, stops a release
     * there. The advice said to move it with a forced redrive, as if that ran it first: sent to the queue while its
     * group is parked, it is dead-lettered behind the group's head and goes back last. The advice says so now, and
     * following it loses nothing.
     */
    @Test
    void aDeadLetterOfTheGroupFromBeforeItWasParked_blocksARelease_andFollowingTheAdviceSendsItBackLast(@TempDir Path dir)
            throws Exception {
        var api = api();
        try (var sqs = new LocalSqs()) {
            var file = config(sqs, dir, api.getAddress().getPort(), freePort());
            var env = queuesCreated(file);
            var queues = SqsQueues.of(sqs.client);
            // dead-lettered before the group was parked (by another tool, or before on-poison: park): no reason of Ferry's
            sqs.client.sendMessage(b -> b.queueUrl(sqs.url("orders-dlq.fifo")).messageGroupId("A")
                    .messageDeduplicationId("x0").messageBody("{\"id\":\"x0\",\"group\":\"A\"}"));
            poison.add("a2");
            try (var runtime = runtime(file).start()) {
                send(sqs, "A", "a1", "a2", "a3");
                assertThat(Await.until(LIMIT, () -> queues.approximateMessages(sqs.url("orders-dlq.fifo")) == 3))
                        .as(() -> "delivered " + delivered).isTrue();
                poison.clear();

                err.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A"}, out, err, env::get)).isNotZero();
                assertThat(err.toString()).contains("message", "not parked with it").contains("goes back last")
                        .doesNotContain("redrive or delete it first");
                assertThat(delivered("A")).containsExactly("a1");

                out.reset();
                assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq.fifo", "--to", "orders.fifo",
                        "--force"}, out, err, env::get)).as(err.toString()).isZero();
                assertThat(Await.until(LIMIT, () -> queues.approximateMessages(sqs.url("orders-dlq.fifo")) == 3))
                        .as("moved, and parked again behind its group's head").isTrue();
                out.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A"}, out, err, env::get)).as(err.toString()).isZero();
                assertThat(Await.until(LIMIT, () -> delivered("A").size() == 4)).as(() -> "delivered " + delivered).isTrue();
                assertThat(delivered("A")).as("as the advice said: last").containsExactly("a1", "a2", "a3", "x0");
            }
        } finally {
            api.stop(0);
        }
    }

    /**
     * A review: a letter parked with its group, whose group the ledger no longer held parked (it reached the DLQ after a
     * release had stopped waiting for it, a release gave it up as missing, the park was lost), stayed through every
     * redrive — refused, or forced and set aside — while a release refused it ("not parked"): nothing Ferry has moved it,
     * and the DLQ's retention deleted it. A forced redrive asks the ledger now: the letters of groups no longer parked
     * move, those of groups parked now stay. Where it cannot read the ledger (the running Ferry holds its file), all stay
     * as before, and it says why.
     */
    @Test
    void aForcedRedrive_movesTheParkedLettersOfAGroupNoLongerParked_andLeavesThoseOfAGroupParkedNow(@TempDir Path dir)
            throws Exception {
        try (var sqs = new LocalSqs()) {
            var file = config(sqs, dir, freePort(), freePort());
            var env = queuesCreated(file);
            var config = ((ConfigReader.Result.Ok) ConfigReader.read(file, System::getenv, ConfigReaderTest.ADAPTERS)).config();
            var parked = new HashMap<String, dev.ferry.domain.parking.ParkedGroup>();
            for (var group : List.of("G", "H")) { // each parked behind its head once: G released since, H still parked
                parked.put(group, new dev.ferry.domain.parking.ParkedGroup("orders", group, group + "1", "m-1", "HTTP 400",
                        java.time.Instant.now(), java.time.Instant.now(), 2, 0, null, 0, 0, false, 0));
                var reason = dev.ferry.domain.parking.GroupParker.behind(parked.get(group));
                sqs.client.sendMessage(b -> b.queueUrl(sqs.url("orders-dlq.fifo")).messageGroupId(group)
                        .messageDeduplicationId(group + "2").messageBody("{\"id\":\"" + group + "2\",\"group\":\"" + group + "\"}")
                        .messageAttributes(Map.of(dev.ferry.domain.transport.DeadLetterAttributes.REASON, text(reason),
                                dev.ferry.domain.transport.DeadLetterAttributes.SOURCE, text("orders.fifo"))));
            }
            try (var context = new RunContext(config, true)) {
                var ledger = config.ledger().plan().open(context);
                try {
                    assertThat(((dev.ferry.domain.parking.GroupParking) ledger).replaceParkedGroup(null, parked.get("H")))
                            .isTrue();

                    out.reset(); // held open here, as a running Ferry holds it: not read, every parked letter stays
                    assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq.fifo", "--to", "orders.fifo",
                            "--force"}, out, err, env::get)).as(err.toString()).isZero();
                    assertThat(out.toString()).contains("moved 0 message(s)").contains("2 dead letter(s) of parked groups")
                            .contains("could not be read here");
                    assertThat(sqs.depth("orders-dlq.fifo")).isEqualTo(2);
                } finally {
                    ((AutoCloseable) ledger).close();
                }
            }

            // a review: with no Ferry holding it, the file was read, and any file at the path given (a relative one: where
            // the command runs) was trusted — another's said every group flows; and its lock was held for the whole run
            out.reset();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq.fifo", "--to", "orders.fifo",
                    "--force"}, out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("moved 0 message(s)").contains("could not be read here")
                    .contains("read by the Ferry that runs on it alone");
            assertThat(sqs.depth("orders-dlq.fifo")).as("both left, for the console's redrive or a release").isEqualTo(2);
        }
    }

    private static software.amazon.awssdk.services.sqs.model.MessageAttributeValue text(String value) {
        return software.amazon.awssdk.services.sqs.model.MessageAttributeValue.builder().dataType("String").stringValue(value)
                .build();
    }

    @Test
    void withSkipHead_thePoisonMessageIsDropped_andTheRestDelivered(@TempDir Path dir) throws Exception {
        var api = api();
        try (var sqs = new LocalSqs()) {
            var file = config(sqs, dir, api.getAddress().getPort(), freePort());
            var env = queuesCreated(file);
            var queues = SqsQueues.of(sqs.client);
            poison.add("a2");
            try (var runtime = runtime(file).start()) {
                send(sqs, "A", "a1", "a2", "a3");
                assertThat(Await.until(LIMIT, () -> queues.approximateMessages(sqs.url("orders-dlq.fifo")) == 2)).isTrue();

                // the head is named: one parked since the operator looked (another's release) is not dropped unseen
                err.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A", "--skip-head", "--source", "orders"}, out, err,
                        env::get)).as("a usage error, not 1: run it again").isEqualTo(2);
                assertThat(err.toString()).contains("--head KEY");
                err.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A", "--skip-head", "--head", "a1", "--source",
                        "orders"}, out, err, env::get)).isNotZero();
                assertThat(err.toString()).contains("is a2 now, not a1");
                out.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A", "--skip-head", "--head", "a2", "--source",
                        "orders"}, out, err, env::get)).as(err.toString()).isZero();
                assertThat(out.toString()).contains("1 message(s) sent back in order, 1 skipped");
                err.reset();
                assertThat(Ferry.run(new String[] {"groups", "release", "A", "--head", "a2"}, out, err, env::get)).isNotZero();
                assertThat(err.toString()).contains("give both, or neither");
                assertThat(Await.until(LIMIT, () -> delivered("A").size() == 2)).isTrue();
                assertThat(delivered("A")).containsExactly("a1", "a3");
            }
        } finally {
            api.stop(0);
        }
    }

    @Test // a review: a queue whose RedrivePolicy was taken away was a 409 / exit 1 ("run it again"), for good
    void releasingOnAQueueWithoutADeadLetterQueue_isAUsageError_namingTheRedrivePolicy(@TempDir Path dir) throws Exception {
        var api = api();
        try (var sqs = new LocalSqs()) {
            var file = config(sqs, dir, api.getAddress().getPort(), freePort());
            var env = queuesCreated(file);
            var queues = SqsQueues.of(sqs.client);
            poison.add("a1");
            try (var runtime = runtime(file).start()) {
                send(sqs, "A", "a1");
                assertThat(Await.until(LIMIT, () -> queues.approximateMessages(sqs.url("orders-dlq.fifo")) == 1)).isTrue();
            }
            sqs.client.createQueue(b -> b.queueName("plain.fifo").attributes(Map.of(
                    software.amazon.awssdk.services.sqs.model.QueueAttributeName.FIFO_QUEUE, "true")));
            Files.writeString(file, Files.readString(file).replace("queue: orders.fifo", "queue: plain.fifo"));
            err.reset();
            assertThat(Ferry.run(new String[] {"groups", "release", "A", "--source", "orders"}, out, err, env::get))
                    .as("a usage error, not 1: " + err).isEqualTo(2);
            assertThat(err.toString()).contains("no dead-letter queue").contains("RedrivePolicy");

            // the RedrivePolicy back, its dead-letter queue deleted: a usage error too, not "run it again"
            Files.writeString(file, Files.readString(file).replace("queue: plain.fifo", "queue: orders.fifo"));
            sqs.client.deleteQueue(b -> b.queueUrl(sqs.url("orders-dlq.fifo")));
            err.reset();
            assertThat(Ferry.run(new String[] {"groups", "release", "A", "--source", "orders"}, out, err, env::get))
                    .as("a usage error, not 1: " + err).isEqualTo(2);
            assertThat(err.toString()).contains("cannot be used").contains("RedrivePolicy");
        } finally {
            api.stop(0);
        }
    }

    @Test // a review: a 409 and exit 1 said "run it again", and a script's retry loop spun for ever on a group released
          // meanwhile (or a name mistyped): asked again, the same answer — exit 2, as a bad command line
    void releasingAGroupThatIsNotParked_failsAndSaysSo_asNothingToRunAgain(@TempDir Path dir) throws Exception {
        var api = api();
        try (var sqs = new LocalSqs()) {
            var file = config(sqs, dir, api.getAddress().getPort(), freePort());
            var env = queuesCreated(file);
            try (var runtime = runtime(file).start()) {
                assertThat(Ferry.run(new String[] {"groups", "release", "Z"}, out, err, env::get)).isEqualTo(2);
                assertThat(err.toString()).contains("400").contains("group Z is not parked");
                assertThat(Ferry.run(new String[] {"groups", "release", "Z", "--source", "orders"}, out, err, env::get))
                        .as("with its source named").isEqualTo(2);
            }
        } finally {
            api.stop(0);
        }
    }

    /**
     * A review: the close only refused new releases and waited for those under way, 10 s; one waiting out its patience (or
     * reading a large dead-letter queue) read on, the wait gave up, and the ledger closed under its batch in hand — its
     * count lost, the next release numbering its copies below those that passed. Now the close tells it, and it ends after
     * the batch it recorded, saying so.
     */
    @Test
    void aReleaseUnderWayWhenFerryCloses_endsAfterItsBatch_sayingSo_andTheCloseWaitsForNoneLonger(@TempDir Path dir)
            throws Exception {
        var api = api();
        try (var sqs = new LocalSqs(); var http = HttpClient.newHttpClient()) {
            var file = config(sqs, dir, api.getAddress().getPort(), freePort());
            var env = queuesCreated(file);
            var queues = SqsQueues.of(sqs.client);
            String dlq = sqs.url("orders-dlq.fifo");
            poison.add("a2");
            var runtime = runtime(file).start();
            try {
                send(sqs, "A", "a1", "a2", "a3", "a4");
                assertThat(Await.until(LIMIT, () -> queues.approximateMessages(dlq) == 3)).as(() -> "delivered " + delivered)
                        .isTrue();
                // a4's dead letter deleted by hand: counted parked, never found, the release waits out its patience for it
                var held = new java.util.ArrayList<software.amazon.awssdk.services.sqs.model.Message>();
                assertThat(Await.until(LIMIT, () -> {
                    held.addAll(sqs.client.receiveMessage(b -> b.queueUrl(dlq).maxNumberOfMessages(10).visibilityTimeout(60))
                            .messages());
                    return held.size() >= 3;
                })).isTrue();
                for (var m : held) {
                    if (m.body().contains("\"a4\"")) {
                        sqs.client.deleteMessage(b -> b.queueUrl(dlq).receiptHandle(m.receiptHandle()));
                    } else {
                        sqs.client.changeMessageVisibility(b -> b.queueUrl(dlq).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
                    }
                }
                poison.clear();
                var release = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort()
                        + "/groups/release?group=A")).header("Authorization", "Bearer " + TOKEN).timeout(LIMIT)
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(Await.until(LIMIT, () -> delivered("A").size() == 3)).as(() -> "delivered " + delivered).isTrue();
                assertThat(release).as("the release waits for the one not found").isNotDone();

                runtime.close();

                var answer = release.get(LIMIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
                assertThat(answer.body()).as("ended by the close after its batch: %s", answer.body()).contains("Ferry is stopping");
                assertThat(answer.statusCode()).isEqualTo(503);
                assertThat(runtime.closedWhole()).as("the close's wait for releases did not run out").isTrue();
            } finally {
                runtime.close();
            }
            assertThat(delivered("A")).containsExactly("a1", "a2", "a3");
            out.reset();
            assertThat(Ferry.run(new String[] {"groups", "list"}, out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).as("parked still, its count whole: only a4 waits").containsPattern("orders +A +1  ");
        } finally {
            api.stop(0);
        }
    }

    /** The environment naming {@code file}, its queues made by {@code ferry queues create}. */
    private Map<String, String> queuesCreated(Path file) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("FERRY_CONFIG", file.toString());
        assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, env::get)).as(err.toString()).isZero();
        return env;
    }

    private List<String> delivered(String group) {
        return delivered.getOrDefault(group, List.of());
    }

    static void send(LocalSqs sqs, String group, String... ids) {
        for (var id : ids) {
            sqs.client.sendMessage(b -> b.queueUrl(sqs.url("orders.fifo")).messageGroupId(group)
                    .messageDeduplicationId(id).messageBody("{\"id\":\"" + id + "\",\"group\":\"" + group + "\"}"));
        }
    }

    /** The sink's endpoint: 400 (a permanent refusal) for a poison id, else 204, recording what it accepted. */
    private HttpServer api() throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String id = body.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
            String group = body.replaceAll(".*\"group\":\"([^\"]+)\".*", "$1");
            if (poison.contains(id)) {
                exchange.sendResponseHeaders(400, -1);
            } else {
                delivered.computeIfAbsent(group, g -> new CopyOnWriteArrayList<>()).add(id);
                exchange.sendResponseHeaders(204, -1);
            }
            exchange.close();
        });
        server.start();
        return server;
    }

    static int freePort() throws Exception {
        try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    static Path config(LocalSqs sqs, Path dir, int apiPort, int adminPort) throws Exception {
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, """
                aws: {region: us-east-1, endpoint: "%s"}
                ledger: {kind: mvstore, path: "%s"}
                admin: {listen: "127.0.0.1:%d", token: "%s"}
                listener: {max-attempts: 1}
                sources:
                  orders:
                    sqs: {queue: orders.fifo, max-wait: 1s}
                    format: json
                    json: {id: /id, group: /group}
                    on-poison: park
                sinks:
                  api: {type: http, url: "http://127.0.0.1:%d/events"}
                routes:
                  - to: [api]
                """.formatted(sqs.endpoint(), dir.resolve("ledger.db").toString().replace('\\', '/'), adminPort, TOKEN, apiPort));
        return file;
    }

    static FerryRuntime runtime(Path file) {
        var config = ((ConfigReader.Result.Ok) ConfigReader.read(file, System::getenv, ConfigReaderTest.ADAPTERS)).config();
        return FerryAppIT.runtime(config);
    }
}
