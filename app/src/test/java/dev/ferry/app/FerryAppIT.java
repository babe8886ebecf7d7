package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** #5: the app from a YAML file: embedded SQS, an MTurk source, routes to an SQS queue and the log. */
class FerryAppIT {

    private static int freePort() throws java.io.IOException {
        try (var probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    /** examples/local.yaml with its embedded server on {@code port}, its ledger in {@code dir}, metrics on any port. */
    private static FerryConfig localExample(Path dir, int port, String statsEvery) throws java.io.IOException {
        String yaml = Files.readString(Path.of("../examples/local.yaml")).replace("port: 9324", "port: " + port)
                .replace("stats-every: 1m", statsEvery).replace("127.0.0.1:9464", "127.0.0.1:0");
        return ((ConfigReader.Result.Ok) ConfigReader.parse("local.yaml", yaml,
                Map.of("FERRY_LEDGER", dir.resolve("ledger.db").toString())::get, ConfigReaderTest.ADAPTERS)).config();
    }

    @Test
    void aStopAskedForWhileStarting_startsNoSource_soNoMessageIsReceivedJustToBeReleased(@TempDir Path dir) throws Exception {
        // the sources started all the same and the stop released what their first polls took: a receive spent on each
        int port = freePort();
        var config = localExample(dir, port, "stats-every: 1m");
        try (var runtime = runtime(config).start(() -> true);
             var client = SqsClients.builder().endpoint(URI.create("http://127.0.0.1:" + port)).staticCredentials("x", "x").build()) {
            assertThat(runtime.listeners()).isEmpty();
            String queue = "http://127.0.0.1:" + port + "/000000000000/mturk-events";
            client.sendMessage(b -> b.queueUrl(queue).messageBody("waiting"));
            Thread.sleep(1_500); // longer than a poll would take to find it
            var got = client.receiveMessage(b -> b.queueUrl(queue).waitTimeSeconds(2)
                    .messageSystemAttributeNamesWithStrings("ApproximateReceiveCount")).messages();
            assertThat(got).singleElement().satisfies(m -> assertThat(m.attributesAsStrings())
                    .containsEntry("ApproximateReceiveCount", "1"));
        }
    }

    @Test
    void localExample_routesAnMturkEvent_toItsQueue(@TempDir Path dir) throws Exception {
        int port = freePort();
        var config = localExample(dir, port, "stats-every: 1s");

        try (var runtime = runtime(config).start();
             var client = SqsClients.builder().endpoint(URI.create("http://127.0.0.1:" + port)).staticCredentials("x", "x").build()) {
            String base = "http://127.0.0.1:" + port + "/000000000000/";
            client.sendMessage(b -> b.queueUrl(base + "mturk-events").messageBody(
                    "{\"EventDocVersion\":\"2014-08-15\",\"EventDocId\":\"doc-7\",\"CustomerId\":\"A1\",\"Events\":["
                            + "{\"EventType\":\"AssignmentSubmitted\",\"EventTimestamp\":\"2026-11-23T10:00:00Z\","
                            + "\"HITTypeId\":\"T1\",\"HITId\":\"H7\",\"AssignmentId\":\"A7\"},"
                            + "{\"EventType\":\"HITReviewable\",\"EventTimestamp\":\"2026-11-23T10:00:01Z\","
                            + "\"HITTypeId\":\"T1\",\"HITId\":\"H7\"}]}"));
            client.sendMessage(b -> b.queueUrl(base + "mturk-events").messageBody("not an event document"));

            var listener = runtime.listeners().getFirst();
            assertThat(listener.config().handlerTimeout()).as("the app's default reaches the listener")
                    .isEqualTo(Duration.ofMinutes(15));
            assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().acked() == 1
                    && listener.stats().deadLettered() == 1)).as(listener.stats().line()).isTrue();
            var routed = client.receiveMessage(b -> b.queueUrl(base + "assignments").waitTimeSeconds(2)).messages();
            assertThat(routed).hasSize(1);
            assertThat(routed.getFirst().body()).contains("AssignmentSubmitted").doesNotContain("HITReviewable");
            var dead = client.receiveMessage(b -> b.queueUrl(base + "mturk-events-dlq").waitTimeSeconds(2)
                    .messageAttributeNames("All")).messages();
            assertThat(dead).singleElement().satisfies(m -> assertThat(m.body()).isEqualTo("not an event document"));

            var http = java.net.http.HttpClient.newHttpClient();
            var metrics = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.metricsPort()
                    + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("ferry_messages_acked_total{source=\"mturk\"} 1.0")
                    .contains("ferry_messages_dead_lettered_total{reason=\"malformed\",source=\"mturk\"} 1.0")
                    .contains("ferry_sink_publish_seconds_count{outcome=\"done\",sink=\"assignments\"} 1")
                    .contains("ferry_handler_seconds_bucket{outcome=\"done\",source=\"mturk\"")
                    .contains("ferry_event_age_seconds_count{source=\"mturk\"} 2")
                    .contains("ferry_message_time_in_ferry_seconds_count{source=\"mturk\"} 2")
                    .contains("ferry_messages_in_flight{source=\"mturk\"} 0.0")
                    .contains("ferry_sink_breaker_open{sink=\"assignments\"} 0.0")
                    .contains("jvm_memory_used_bytes{").contains("process_cpu_usage").contains("process_uptime_seconds")
                    .contains("jvm_threads_live_threads");
            var ready = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.metricsPort()
                    + "/health/ready")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            listener.stop();
            var notReady = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.metricsPort()
                    + "/health/ready")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("mturk");
        }
    }

    static FerryRuntime runtime(dev.ferry.app.config.FerryConfig config) {
        return FerryComponent.builtIn().run().create(config).runtime();
    }

    @Test
    void commandLine_sendTestEvent_listDlqSources_andRedrive(@TempDir Path dir) throws Exception {
        int port;
        try (var probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        var file = dir.resolve("local.yaml");
        Files.writeString(file, Files.readString(Path.of("../examples/local.yaml")).replace("port: 9324", "port: " + port)
                .replace("${FERRY_LEDGER:-ferry-ledger.db}", dir.resolve("ledger.db").toString())
                .replace("127.0.0.1:9464", "127.0.0.1:0"));
        var config = ((ConfigReader.Result.Ok) ConfigReader.read(file, System::getenv, ConfigReaderTest.ADAPTERS)).config();
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        try (var runtime = runtime(config).start()) {
            var listener = runtime.listeners().getFirst();
            assertThat(Ferry.run(new String[] {"send-test-event", "--config", file.toString(), "--source", "mturk"},
                    new PrintStream(out), new PrintStream(err))).as(err.toString()).isZero();
            assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().acked() == 1)).as(listener.stats().line()).isTrue();

            try (var client = SqsClients.builder().endpoint(URI.create("http://127.0.0.1:" + port)).staticCredentials("x", "x").build()) {
                client.sendMessage(b -> b.queueUrl("http://127.0.0.1:" + port + "/000000000000/mturk-events").messageBody("{}"));
            }
            assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().deadLettered() == 1)).isTrue();
            listener.stop();

            assertThat(Ferry.run(new String[] {"queues", "list-dlq-sources", "--config", file.toString(), "--queue",
                    "mturk-events-dlq"}, new PrintStream(out), new PrintStream(err))).as(err.toString()).isZero();
            assertThat(out.toString()).contains("http://127.0.0.1:" + port + "/000000000000/mturk-events" + System.lineSeparator());
            // a typo of --max is an error that moves nothing, never a redrive of the whole DLQ
            var typo = new ByteArrayOutputStream();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--config", file.toString(), "--from", "mturk-events-dlq",
                    "--to", "mturk-events", "--mx", "10"}, new PrintStream(out), new PrintStream(typo))).isEqualTo(2);
            assertThat(typo.toString()).contains("Unknown options: '--mx', '10'").contains("Did you mean --max?");
            var dryRun = new ByteArrayOutputStream();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "-c", file.toString(), "--from", "mturk-events-dlq",
                    "--to", "mturk-events", "--dry-run"}, new PrintStream(dryRun), new PrintStream(err))).as(err.toString()).isZero();
            assertThat(dryRun.toString()).contains("dry run: would move all about 1 message(s) in mturk-events-dlq to mturk-events")
                    .contains("nothing moved");
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "mturk-events-dlq", "--to", "mturk-events",
                    "--rate", "50"}, out, err, name -> name.equals("FERRY_CONFIG") ? file.toString() : System.getenv(name)))
                    .as(err.toString()).isZero();
            assertThat(out.toString()).contains("sent a test event (mturk) to mturk-events")
                    .contains("moved 1 message(s) from mturk-events-dlq to mturk-events");
        }
    }

    @Test
    void commandLine_validate_listsErrors_andExitsWith2(@TempDir Path dir) throws Exception {
        var bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "sources:\n  s:\n    sqs: {queue: q}\nsinks:\n  log: {type: log}\nroutes:\n  - to: [nope]\n");
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        assertThat(Ferry.run(new String[] {"validate", "--config", bad.toString()}, new PrintStream(out), new PrintStream(err)))
                .isEqualTo(2);
        assertThat(err.toString()).contains(bad + ":7: routes[0].to: no sink named 'nope'");

        assertThat(Ferry.run(new String[] {"validate", "--config", "../examples/local.yaml"}, new PrintStream(out),
                new PrintStream(err))).isZero();
        assertThat(out.toString()).contains("is valid: 1 source(s), 2 sink(s), 2 route(s)");
        assertThat(Ferry.run(new String[] {"frobnicate"}, new PrintStream(out), new PrintStream(err))).isEqualTo(2);
        assertThat(Ferry.run(new String[] {"run", "--help"}, new PrintStream(out), new PrintStream(err))).isZero();
        for (var command : new String[][] {{"queues", "create"}, {"queues", "list-dlq-sources"}, {"queues", "redrive"},
                {"ledger", "create-table"}, {"send-test-event"}}) {
            var help = new ByteArrayOutputStream();
            var args = java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of("--help"))
                    .toArray(String[]::new);
            assertThat(Ferry.run(args, new PrintStream(help), new PrintStream(err))).isZero();
            assertThat(help.toString()).as(String.join(" ", command)).startsWith("Usage: ferry " + String.join(" ", command) + " [-hV]")
                    .contains("-c, --config=FILE");
        }
    }
}
