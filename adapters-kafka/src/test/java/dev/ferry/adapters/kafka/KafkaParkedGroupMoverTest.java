package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class KafkaParkedGroupMoverTest {

    @Test // a review: the release waited 30 s for a write its producer went on trying for 120 (and landed after the release
          // had said "not moved, release it again": the next release sent it twice)
    void theReleasesProducer_givesAWriteUpBeforeTheReleaseStopsWaitingForIt() {
        var config = KafkaParkedGroupMover.producerConfig(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1"));
        long delivery = ((Number) config.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)).longValue();
        assertThat(delivery).as("the client's default is 120 s").isLessThanOrEqualTo(30_000);
        assertThat(KafkaDeadLetters.waitedPastDelivery(new HashMap<>(config))).isGreaterThan(Duration.ofMillis(delivery));
        assertThat(config).containsEntry(ProducerConfig.ACKS_CONFIG, "all").containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");

        var configured = KafkaParkedGroupMover.producerConfig(Map.of(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 90_000));
        assertThat(configured).as("a user's own setting kept").containsEntry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 90_000);
        assertThat(KafkaDeadLetters.waitedPastDelivery(new HashMap<>(configured))).isGreaterThan(Duration.ofSeconds(90));
    }
}
