package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A settle call that throws partway (an {@code Error}: no memory). The engine counts the whole call failed, to
 * come back when its lease runs out; Kafka hands nothing out again by lease, so what the call left out or half
 * settled stayed so for good: its key stopped, the partition's commits stopped at it.
 */
@ExtendWith(KafkaBroker.class)
class KafkaSettleErrorIT {

    private static String text(Delivery d) {
        return new String(d.body(), StandardCharsets.UTF_8);
    }

    @Test
    void aSettleThatThrowsPartway_handsTheRecordOutAgain_andALaterAckCommitsPastIt() {
        String topic = KafkaBroker.topic("settle-throws", 1);
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"k", "one"}));
        String group = "g-" + UUID.randomUUID();
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic)).build().start();
                var admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrap()))) {
            var first = source.poll(new PollRequest(1, Duration.ofSeconds(30), Duration.ofSeconds(30)));
            assertThat(first).extracting(KafkaSettleErrorIT::text).containsExactly("one");
            var redeliver = new Settlement(first.getFirst(), Disposition.redeliver(Duration.ZERO));
            List<Settlement> throwing = new AbstractList<>() { // a settle short of memory at its second element
                @Override
                public Settlement get(int i) {
                    if (i == 1) {
                        throw new OutOfMemoryError("test: no memory for the second settlement");
                    }
                    return redeliver;
                }

                @Override
                public int size() {
                    return 2;
                }
            };
            assertThatThrownBy(() -> source.settle(throwing)).isInstanceOf(OutOfMemoryError.class);

            var again = new ArrayList<Delivery>();
            assertThat(Await.until(Duration.ofSeconds(10), () -> {
                again.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30))));
                return !again.isEmpty();
            })).as("the record is handed out again").isTrue();
            assertThat(again).extracting(KafkaSettleErrorIT::text).containsExactly("one");
            assertThat(source.settle(List.of(new Settlement(again.getFirst(), Disposition.ACK)))).isEmpty();

            var tp = new TopicPartition(topic, 0);
            assertThat(Await.until(Duration.ofSeconds(10), () -> {
                try {
                    var at = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).get(tp);
                    return at != null && at.offset() == 1;
                } catch (Exception e) { // not yet answered: asked again
                    return false;
                }
            })).as("the group committed past the record").isTrue();
        }
    }
}
