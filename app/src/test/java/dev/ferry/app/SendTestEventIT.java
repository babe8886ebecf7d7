package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

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
}
