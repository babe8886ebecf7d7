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

    @Test // a review: a record its topic took, larger than the client's 1 MiB default, was refused at every release
    void theReleasesProducer_takesRecordsLargerThanTheClientsDefault_unlessTheUserBoundsThem() {
        var config = KafkaParkedGroupMover.producerConfig(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1"));
        int request = (Integer) config.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        assertThat(request).as("the client's default is 1 MiB").isGreaterThanOrEqualTo(64 * 1024 * 1024);
        assertThat(((Number) config.get(ProducerConfig.BUFFER_MEMORY_CONFIG)).longValue()).as("a record over it is refused too")
                .isGreaterThanOrEqualTo(request);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(config,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            assertThat(producer).as("the client takes the settings").isNotNull();
        }

        var bounded = KafkaParkedGroupMover.producerConfig(Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "2000000",
                ProducerConfig.BUFFER_MEMORY_CONFIG, "1000000"));
        assertThat(bounded).as("the user's own bound kept").containsEntry(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "2000000");
        assertThat(((Number) bounded.get(ProducerConfig.BUFFER_MEMORY_CONFIG)).longValue()).isEqualTo(2_000_000L);
    }
}
