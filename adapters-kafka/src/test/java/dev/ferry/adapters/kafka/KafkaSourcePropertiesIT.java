package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.spi.OpenedSource;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A source section's {@code properties} go to its consumer and to its dead-letter producer alike, beside Ferry's own
 * settings: neither client may refuse to start over them, nor over a setting of Ferry's the user's choices rule out.
 */
@ExtendWith(KafkaBroker.class)
class KafkaSourcePropertiesIT {

    private static OpenedSource open(String topic, String group, Map<String, String> properties) {
        // the Kafka source takes nothing from the run's context
        return new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), group, ".dlq", 5000, properties)
                .open(null);
    }

    /** Polls until {@code count} records are handed out, up to a minute. */
    private static List<Delivery> receive(OpenedSource opened, int count) {
        var got = new ArrayList<Delivery>();
        boolean received = Await.until(Duration.ofSeconds(60), () -> {
            got.addAll(opened.source().poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30))));
            return got.size() >= count;
        });
        assertThat(received).as("records handed out; the source's problem: " + opened.source().problem()).isTrue();
        return got;
    }

    private static OffsetAndMetadata committed(Admin admin, String group, TopicPartition partition) {
        try {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).get(partition);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the offsets of " + group + ": " + e, e);
        }
    }

    @Test // a review: Ferry set an assignor, which the consumer refuses under the consumer group protocol (KIP-848, the
          // one Kafka 4 recommends): every such source failed at start, over a setting its user never wrote
    void theConsumerGroupProtocol_startsTheSource_andItsRecordsAreHandedOutAndCommitted() throws Exception {
        String topic = KafkaBroker.topic("kip848", 1);
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"k", "one"}));
        String group = "g-" + UUID.randomUUID();
        var opened = open(topic, group, Map.of("group.protocol", "Consumer"));
        try (var source = opened.source();
             var admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrap()))) {
            var got = receive(opened, 1);
            assertThat(got).extracting(d -> new String(d.body(), StandardCharsets.UTF_8)).containsExactly("one");
            var description = admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group);
            assertThat(description.type()).as("the group runs the new protocol").isEqualTo(GroupType.CONSUMER);

            assertThat(opened.acknowledger().settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList()))
                    .as("acked").isEmpty();
            var partition = new TopicPartition(topic, 0);
            assertThat(Await.until(Duration.ofSeconds(30), () -> {
                var offset = committed(admin, group, partition);
                return offset != null && offset.offset() == 1;
            })).as("committed past the record").isTrue();
            assertThat(source.problem()).isEmpty();
        }
    }

    @Test // a review: interceptor.classes went to both clients; a consumer's interceptor made the dead-letter producer
          // refuse to start ("not an instance of ProducerInterceptor"), and the source with it
    void interceptorsOfBothKinds_inTheProperties_eachGoToTheirOwnClient_andBothWork() {
        String topic = KafkaBroker.topic("intercepted", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"k", "poison"}));
        var opened = open(topic, "g-" + UUID.randomUUID(), Map.of("interceptor.classes",
                ErrorOnceInterceptor.class.getName() + ", " + CountingInterceptor.class.getName()));
        try (var source = opened.source()) {
            var got = receive(opened, 1);
            assertThat(ErrorOnceInterceptor.saw(topic)).as("the consumer's interceptor is the consumer's").isTrue();

            assertThat(opened.acknowledger().settle(List.of(new Settlement(got.getFirst(), Disposition.deadLetter("poison")))))
                    .as("dead-lettered").isEmpty();
            assertThat(CountingInterceptor.sends(topic + ".dlq")).as("the producer's interceptor is the producer's")
                    .isEqualTo(1);
            assertThat(KafkaBroker.readAll(topic + ".dlq", 1)).hasSize(1);
            assertThat(source.problem()).isEmpty();
        }
    }
}
