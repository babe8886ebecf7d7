package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.testing.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar's health endpoint, without any metrics configured: JSON per component, following the source. */
class HealthIT {

    private static final Pattern ADMIN = Pattern.compile("health on http://127\\.0\\.0\\.1:(\\d+)/health");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private record Got(int status, String body) {
    }

    private Got get(int port, String path) {
        try {
            var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.ofString());
            return new Got(r.statusCode(), r.body());
        } catch (Exception e) {
            return new Got(-1, e.toString());
        }
    }

    @Test
    void ready_turns503_whileTheSourceCannotPoll_and200_whenItCanAgain(@TempDir Path dir) throws Exception {
        var sqs = new LocalSqs();
        int sqsPort = sqs.port;
        try {
            sqs.client.createQueue(b -> b.queueName("work"));
            var config = dir.resolve("ferry.yaml");
            Files.writeString(config, """
                    aws: {region: us-east-1, endpoint: "${AWS_ENDPOINT_URL}"}
                    ledger: {kind: memory}
                    admin: {listen: "127.0.0.1:0"}
                    sources:
                      work: {sqs: {queue: work, max-wait: 1s}, format: raw}
                    sinks:
                      log: {type: log}
                    routes:
                      - to: [log]
                    """);
            try (var ferry = FerryProcess.start(sqs.env(), "run", "--config", config.toString())) {
                // the ports are bound before the listeners start (a start failing on a port takes no message in),
                // and ready says 503 until the last "listening on" line
                ferry.awaitLine("listening on 'work'", Duration.ofSeconds(60));
                var m = ADMIN.matcher(ferry.output());
                assertThat(m.find()).isTrue();
                int admin = Integer.parseInt(m.group(1));

                var ready = get(admin, "/health/ready");
                assertThat(ready.status()).as(ready.body()).isEqualTo(200);
                assertThat(ready.body()).startsWith("{\"status\":\"UP\",\"components\":{\"source:work\":{\"status\":\"UP\"")
                        .contains("\"ledger\":{\"status\":\"UP\",\"details\":{\"kind\":\"memory\"}}")
                        .contains("\"sink:log\":{\"status\":\"UP\"}");
                assertThat(get(admin, "/health/live").status()).isEqualTo(200);
                assertThat(get(admin, "/metrics").body()).contains("ferry_messages_received_total{source=\"work\"}");

                sqs.close();
                assertThat(Await.until(Duration.ofSeconds(60), () -> get(admin, "/health/ready").status() == 503))
                        .as(get(admin, "/health/ready").body()).isTrue();
                var down = get(admin, "/health/ready").body();
                assertThat(down).startsWith("{\"status\":\"DOWN\"").contains("\"source:work\":{\"status\":\"DOWN\"")
                        .contains("polls failing");
                assertThat(get(admin, "/health/live").status()).as("nothing in hand: alive").isEqualTo(200);

                sqs = new LocalSqs(sqsPort);
                sqs.client.createQueue(b -> b.queueName("work"));
                assertThat(Await.until(Duration.ofSeconds(60), () -> get(admin, "/health/ready").status() == 200))
                        .as(get(admin, "/health/ready").body()).isTrue();
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
            }
        } finally {
            sqs.close();
        }
    }
}
