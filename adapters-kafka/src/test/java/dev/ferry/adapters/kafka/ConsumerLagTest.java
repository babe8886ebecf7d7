package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** The source's lag: a paused partition's end asked of the cluster, never at the cost of the consumer thread's polls. */
class ConsumerLagTest {

    @Test // thirty-eighth round: the next ask was counted from the start of the last, which waits 1 s: a paused
          // partition whose end could not be had was asked about at every poll, each ask a second of the consumer thread
    void aPausedPartitionsEndThatCannotBeHad_isNotAskedForAtEveryLook() throws Exception {
        try (var silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             var consumer = new KafkaConsumer<byte[], byte[]>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + silent.getLocalPort(),
                     ConsumerConfig.GROUP_ID_CONFIG, "lag-test",
                     ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                     ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var partition = new TopicPartition("orders", 0);
            consumer.assign(List.of(partition));
            consumer.pause(List.of(partition));
            var lag = new ConsumerLag();
            int looks = 0;
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() - until < 0) {
                assertThat(lag.of(consumer, p -> 0)).as("not known").isEqualTo(-1);
                looks++;
            }
            assertThat(looks).as("looks in 5 s (each a poll of the consumer loop)").isGreaterThanOrEqualTo(20);
        }
    }
}
