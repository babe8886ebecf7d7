package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.http.HttpSourceConfig;
import dev.ferry.adapters.kafka.KafkaBroker;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry send-test-event} feeds HTTP and Kafka sources too, with the configured JSON pointers filled in. */
@ExtendWith(KafkaBroker.class)
class SendTestEventIT {

    private static int freePort() throws Exception {
        try (var probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    @Test
    void testEvents_reachAnHttpAndAKafkaSource_andAreHandled(@TempDir Path dir) throws Exception {
        String topic = KafkaBroker.topic("test-events", 1);
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, """
                ledger: {kind: memory}
                sources:
                  ingest:
                    http: {listen: "127.0.0.1:%d", auth: hmac, secret: "0123456789abcdef-secret"}
                    format: json
                    json: {id: /order/id, type: /kind, group: /customer}
                  orders:
                    kafka: {bootstrap-servers: "%s", topics: ["%s"]}
                    format: mturk
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                unmatched: dead-letter
                """.formatted(freePort(), KafkaBroker.bootstrap(), topic));
        var config = ((ConfigReader.Result.Ok) ConfigReader.read(file, Map.<String, String>of()::get,
                ConfigReaderTest.ADAPTERS)).config();
        try (var runtime = FerryAppIT.runtime(config).start()) {
            var ingest = runtime.listeners().get(0);
            var orders = runtime.listeners().get(1);
            for (String source : new String[] {"ingest", "orders"}) {
                var out = new ByteArrayOutputStream();
                var err = new ByteArrayOutputStream();
                assertThat(Ferry.run(new String[] {"send-test-event", "--config", file.toString(), "--source", source},
                        new PrintStream(out), new PrintStream(err))).as(err.toString()).isZero();
                assertThat(out.toString()).containsAnyOf("posted a test event (json) to source 'ingest': HTTP 200",
                        "produced a test event (mturk) to " + topic);
            }
            assertThat(Await.until(Duration.ofSeconds(30), () -> ingest.stats().acked() == 1 && orders.stats().acked() == 1))
                    .as(ingest.stats().line() + " / " + orders.stats().line()).isTrue();
            assertThat(ingest.stats().deadLettered() + orders.stats().deadLettered()).isZero();
        }
    }

    /** An HTTP source that refuses the test event (a rotated token: 403) fails the command, with its answer. */
    @Test
    void aTestEventTheHttpSourceRefuses_failsTheCommand(@TempDir Path dir) throws Exception {
        int port = freePort();
        String template = """
                ledger: {kind: memory}
                sources:
                  ingest:
                    http: {listen: "127.0.0.1:%d", auth: bearer, token: "%s"}
                    format: json
                    json: {id: /order/id}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """;
        var running = dir.resolve("running.yaml");
        Files.writeString(running, template.formatted(port, "0123456789abcdef-the-new-token"));
        var stale = dir.resolve("stale.yaml");
        Files.writeString(stale, template.formatted(port, "0123456789abcdef-the-old-token"));
        var config = ((ConfigReader.Result.Ok) ConfigReader.read(running, Map.<String, String>of()::get,
                ConfigReaderTest.ADAPTERS)).config();
        try (var runtime = FerryAppIT.runtime(config).start()) {
            var out = new ByteArrayOutputStream();
            var err = new ByteArrayOutputStream();
            int exit = Ferry.run(new String[] {"send-test-event", "--config", stale.toString(), "--source", "ingest"},
                    new PrintStream(out), new PrintStream(err));
            assertThat(exit).as(out + " / " + err).isEqualTo(1);
            assertThat(err.toString()).contains("HTTP 403").contains("wrong bearer token");

            var accepted = new ByteArrayOutputStream();
            assertThat(Ferry.run(new String[] {"send-test-event", "--config", running.toString(), "--source", "ingest"},
                    new PrintStream(accepted), new PrintStream(new ByteArrayOutputStream()))).as(accepted.toString()).isZero();
            assertThat(accepted.toString()).contains("HTTP 200");
        }
    }

    /** A source listening on every interface is sent its test event on the loopback; IPv6 in brackets. */
    @Test
    void aWildcardListenAddress_isReachedOnTheLoopback() {
        var auth = dev.ferry.adapters.http.IngestAuth.bearer("0123456789abcdef-token");
        assertThat(TestEvents.address(new HttpSourceConfig("in", "0.0.0.0", 8080, "/events", auth, 1, 1,
                Duration.ofSeconds(1), 1, Duration.ofMinutes(5))).toString()).isEqualTo("http://127.0.0.1:8080/events");
        assertThat(TestEvents.address(new HttpSourceConfig("in", "::", 8080, "/events", auth, 1, 1,
                Duration.ofSeconds(1), 1, Duration.ofMinutes(5))).toString())
                .as("a socket on :: takes IPv4 too; a host may have no ::1").isEqualTo("http://127.0.0.1:8080/events");
        assertThat(TestEvents.address(new HttpSourceConfig("in", "[::1]", 8080, "/events", auth, 1, 1,
                Duration.ofSeconds(1), 1, Duration.ofMinutes(5))).toString()).isEqualTo("http://[::1]:8080/events");
    }
}
