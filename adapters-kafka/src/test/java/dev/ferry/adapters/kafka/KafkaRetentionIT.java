package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
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
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Records a topic's retention deleted before the group read them: the consumer skips them, saying so at INFO only (in a
 * logger the app keeps at WARN). The source says so in a warning when the partition is assigned to it.
 */
@ExtendWith(KafkaBroker.class)
class KafkaRetentionIT {

    @Test // a review: the consumer moved the group's offset past the deleted records to the first one left, and said so
          // at INFO only, in a logger the app keeps at WARN: records lost without a word
    void recordsDeletedBeforeTheGroupReadThem_areNamedInAWarning_partitionOffsetsAndHowMany_andTheRestAreHandled()
            throws Exception {
        String topic = KafkaBroker.topic("retention", 1);
        var records = new ArrayList<String[]>();
        for (int i = 0; i < 10; i++) {
            records.add(new String[] {"k" + i, "v" + i});
        }
        KafkaBroker.produce(topic, records);
        String group = "g-" + UUID.randomUUID();
        var partition = new TopicPartition(topic, 0);
        try (var admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrap()))) {
            // the group had handled 0 and 1; then, while it was stopped, the retention took 0 to 4
            admin.alterConsumerGroupOffsets(group, Map.of(partition, new OffsetAndMetadata(2))).all().get(30, TimeUnit.SECONDS);
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(5))).all().get(30, TimeUnit.SECONDS);
        }

        try (var log = new CapturedLog();
             var source = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic)).build().start()) {
            var got = new ArrayList<Delivery>();
            boolean received = Await.until(Duration.ofSeconds(60), () -> {
                got.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30))));
                return got.size() >= 5;
            });
            assertThat(received).as("records handed out; the source's problem: " + source.problem()).isTrue();
            assertThat(got).extracting(d -> new String(d.body(), StandardCharsets.UTF_8))
                    .containsExactlyInAnyOrder("v5", "v6", "v7", "v8", "v9");
            assertThat(source.settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList())).isEmpty();

            assertThat(log.lines).as("the source's warnings").filteredOn(line -> line.contains(partition.toString()))
                    .singleElement().asString().contains("offsets 2 to 4").contains("(3 records)").contains("lost");
        }
    }
}
