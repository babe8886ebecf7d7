package dev.ferry.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.dynamodb.DynamoDbLocal;
import dev.ferry.app.FerryProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * #9, scenario 9: a Kafka broker restart and consumer-group rebalances during processing. The
 * broker is a real one in a child JVM ({@link KafkaBrokerProcess}): stopped and started again on
 * the same port and data at 25%; a second Ferry process joins at 50%, the first gets SIGTERM at
 * 75%. Per-key order must hold, and the shared DynamoDB ledger drops what a partition's new owner
 * reads again.
 */
class KafkaRebalanceIT {

    private static final String CONFIG = """
            ledger:
              kind: dynamodb
              table: ledger-kafka
              endpoint: ${DYNAMODB_ENDPOINT}
              create-table: true
            sources:
              work:
                kafka: {bootstrap-servers: "${KAFKA}", topics: ["${TOPIC}"], group-id: ferry-reliability}
                format: json
                json: {id: /id, type: /type, group: /group}
            sinks:
              api: {type: http, url: "${API_URL}", timeout: 60s}
            routes:
              - to: [api]
            listener: {lease: 10s, shutdown-deadline: 10s}
            """;

    private static void produce(String bootstrap, String topic, List<String[]> keyValues) throws Exception {
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(Map.of(
                "bootstrap.servers", bootstrap, "acks", "all"), new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            var sends = new ArrayList<java.util.concurrent.Future<?>>();
            for (var kv : keyValues) {
                sends.add(producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, kv[0], kv[1])));
            }
            for (var f : sends) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void brokerRestart_andConsumersJoiningAndLeaving_loseNothing_reorderNothing(@TempDir Path dir) throws Exception {
        int n = 5000;
        long started = System.nanoTime();
        String topic = "reliability";
        try (var broker = new KafkaBrokerProcess(dir); var dynamo = DynamoDbLocal.start(); var recorder = new Recorder()) {
            broker.start();
            broker.createTopic(topic, 6);
            var config = dir.resolve("kafka.yaml");
            Files.writeString(config, CONFIG);
            var env = new HashMap<String, String>(Map.of("DYNAMODB_ENDPOINT", dynamo.endpoint().toString(),
                    "KAFKA", broker.bootstrap(), "TOPIC", topic, "API_URL", recorder.url()));
            var records = new ArrayList<String[]>();
            var seq = new HashMap<String, Integer>();
            for (int i = 0; i < n; i++) {
                String group = "k-" + (i % 50);
                int s = seq.merge(group, 1, Integer::sum);
                records.add(new String[] {group, "{\"id\":\"kafka-" + group + "-" + s + "\",\"type\":\"work\",\"group\":\""
                        + group + "\",\"seq\":" + s + "}"});
            }
            produce(broker.bootstrap(), topic, records);
            var a = FerryProcess.start(env, "run", "--config", config.toString());
            FerryProcess b = null;
            try {
                a.awaitLine("listening on 'work'", Duration.ofSeconds(90));
                assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(120), () -> recorder.distinctKeys() >= n / 4))
                        .isTrue();
                long restart = System.nanoTime();
                broker.stop();
                int atRestart = recorder.distinctKeys();
                broker.start();
                double restartSeconds = (System.nanoTime() - restart) / 1e9;
                assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(120), () -> recorder.distinctKeys() >= n * 3 / 8))
                        .as("progress after the broker restart").isTrue();
                long kill = System.nanoTime();
                broker.kill(); // #16: SIGKILL, not only a clean stop
                int atKill = recorder.distinctKeys();
                broker.start();
                double killSeconds = (System.nanoTime() - kill) / 1e9;
                assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(120), () -> recorder.distinctKeys() >= n / 2))
                        .as("progress after the broker was killed").isTrue();
                b = FerryProcess.start(env, "run", "--config", config.toString());
                b.awaitLine("listening on 'work'", Duration.ofSeconds(90));
                assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(120), () -> recorder.distinctKeys() >= n * 3 / 4))
                        .isTrue();
                long fault = System.nanoTime();
                assertThat(a.terminate(Duration.ofSeconds(40))).as(a.output()).isZero();
                boolean done = dev.ferry.domain.testing.Await.until(Duration.ofSeconds(180), () -> recorder.distinctKeys() >= n);
                double recover = (System.nanoTime() - fault) / 1e9;

                var tally = recorder.tally();
                var first = tally.first();
                int duplicates = tally.duplicates();
                int inversions = tally.inversions();
                List<String> lost = records.stream().map(r -> r[1].replaceAll(".*\"id\":\"([^\"]*)\".*", "$1"))
                        .filter(id -> !first.containsKey(id)).toList();
                Report.add(new Report.Row("kafka-rebalance", n, first.size(), lost.size(), duplicates, inversions, 0, "",
                        recover, (System.nanoTime() - started) / 1e9, String.format("6 partitions, 50 keys, a broker in "
                        + "its own JVM: restarted at %d handled (down and up again in %.1fs), SIGKILLed and restarted at "
                        + "%d (%.1fs); a 2nd instance joins at 50%%, the 1st gets SIGTERM at 75%% (two rebalances); "
                        + "recover = from the SIGTERM", atRestart, restartSeconds, atKill, killSeconds)));
                assertThat(done).as("handled %d of %d", recorder.distinctKeys(), n).isTrue();
                assertThat(lost).isEmpty();
                assertThat(inversions).isZero();
                assertThat(duplicates).isZero();
            } finally {
                a.close();
                if (b != null) {
                    b.close();
                }
            }
        }
    }
}
