package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.kafka.KafkaBroker;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/http-to-kafka.yaml run as users run it (a separate {@code ferry.jar} process) against the in-JVM Kafka
 * broker: each request is answered once its event is on the topic, and one whose event no route takes is told so.
 */
@ExtendWith(KafkaBroker.class)
class HttpToKafkaExampleIT {

    private static final String TOKEN = "an-ingest-token-for-this-test";

    private static int freePort() throws Exception {
        try (var probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    private static HttpResponse<String> post(HttpClient http, int port, String key, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/events"))
                .header("Authorization", "Bearer " + TOKEN).header("Idempotency-Key", key)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test // a review: with unmatched: ignore, an event of no route was answered 200 and written nowhere
    void anOrderIsOnTheTopicWhenItsRequestIsAnswered_andAnEventOfNoRouteIsAnswered422WithWhy(@TempDir Path dir)
            throws Exception {
        KafkaBroker.create("orders", 1);
        int port = freePort();
        var env = Map.of("FERRY_LEDGER", dir.resolve("ledger.db").toString(), "INGEST_TOKEN", TOKEN,
                "INGEST_LISTEN", "127.0.0.1:" + port, "KAFKA", KafkaBroker.bootstrap(), "FERRY_ADMIN_LISTEN", "off");
        try (var ferry = FerryProcess.start(env, "run", "--config", "../examples/http-to-kafka.yaml")) {
            ferry.awaitLine("listening on 'ingest'", Duration.ofSeconds(60));
            var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

            var order = post(http, port, "o-1", "{\"id\":\"o-1\",\"type\":\"OrderPlaced\",\"customer\":\"C1\"}");
            assertThat(order.statusCode()).as(order.body()).isEqualTo(200);
            assertThat(order.body()).contains("\"status\":\"done\"");

            var refund = post(http, port, "r-1", "{\"id\":\"r-1\",\"type\":\"RefundIssued\",\"customer\":\"C1\"}");
            assertThat(refund.statusCode()).as(refund.body()).isEqualTo(422);
            assertThat(refund.body()).contains("\"status\":\"rejected\"")
                    .contains("no route matches").contains("RefundIssued");

            // both requests are answered: what the topic has now is all it will get from them
            var records = KafkaBroker.readAll("orders", 1);
            assertThat(records).singleElement().satisfies(r -> {
                assertThat(KafkaBroker.text(r.key())).isEqualTo("C1");
                assertThat(KafkaBroker.text(r.value())).contains("\"id\":\"o-1\"");
            });
            assertThat(ferry.terminate(Duration.ofSeconds(30))).as(ferry.output()).isZero();
        }
    }
}
