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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Records a topic's retention (or a deletion of records) took before the group read them: the client moved past them
 * saying so at INFO only, in a logger the app keeps at WARN. The source makes that move itself and names what was lost
 * in a warning, whether the records went while the group was stopped or while the source ran with the partition paused.
 */
@ExtendWith(KafkaBroker.class)
class KafkaRetentionIT {

    @Test // a review: the consumer moved the group's offset past the deleted records to the first one left, and said so
          // at INFO only, in a logger the app keeps at WARN: records lost without a word
    void recordsDeletedBeforeTheGroupReadThem_areNamedInAWarning_partitionOffsetsAndHowMany_andTheRestAreHandled()
            throws Exception {
        String topic = KafkaBroker.topic("retention", 1);
        KafkaBroker.produce(topic, records(10));
        String group = "g-" + UUID.randomUUID();
        var partition = new TopicPartition(topic, 0);
        try (var admin = admin()) {
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

    @ParameterizedTest(name = "group.protocol {0}") // docs/RELIABILITY.md, twentieth round, noticed and left
    @ValueSource(strings = {"classic", "consumer"})
    void recordsDeletedAheadOfTheSourceWhileItRuns_areNamedInOneWarning_theRestAreHandled_andTheConsumerStays(
            String protocol) throws Exception {
        String topic = KafkaBroker.topic("deleted-ahead", 1);
        var partition = new TopicPartition(topic, 0);
        KafkaBroker.produce(topic, records(20));
        try (var log = new CapturedLog();
             var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                     .consumerConfig("group.protocol", protocol).maxBufferedPerPartition(5).build().start();
             var admin = admin()) {
            // five records in hand, the partition paused behind them at offset 5: as behind a sink that is down
            assertThat(Await.until(Duration.ofSeconds(60), () -> source.buffered(topic, 0).records() == 5))
                    .as("five records in hand; the source's problem: " + source.problem()).isTrue();
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(15))).all().get(30, TimeUnit.SECONDS);

            var handled = new ArrayList<String>();
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                handle(source, handled);
                return handled.contains("v19");
            })).as("handled " + handled + "; the source's problem: " + source.problem()).isTrue();

            // the client may have fetched a few past the five before the deletion (the consumer protocol fetches ahead):
            // those are handled, not lost; every record from the first one it had not fetched to 14 is named lost
            var warning = log.lines.stream().filter(line -> line.contains(partition.toString())).toList();
            assertThat(warning).as("the source's warnings").singleElement().asString().contains("lost");
            var range = java.util.regex.Pattern.compile("offsets (\\d+) to 14 \\((\\d+) records\\)").matcher(warning.get(0));
            assertThat(range.find()).as(warning.get(0)).isTrue();
            int from = Integer.parseInt(range.group(1));
            assertThat(from).as("the first record lost").isBetween(5, 14);
            assertThat(Integer.parseInt(range.group(2))).isEqualTo(15 - from);
            var expected = new ArrayList<String>();
            for (int i = 0; i < 20; i++) {
                if (i < from || i >= 15) {
                    expected.add("v" + i);
                }
            }
            assertThat(handled).as("what was fetched before the deletion, then what the deletion left, each once")
                    .containsExactlyInAnyOrderElementsOf(expected);
            assertThat(log.lines).as("the consumer was not replaced").noneMatch(line -> line.contains("consumer died"));
            assertThat(source.problem()).isEmpty();
        }
    }

    @ParameterizedTest(name = "group.protocol {0}") // the reset Ferry makes: a group's first read is no loss
    @ValueSource(strings = {"classic", "consumer"})
    void aNewGroup_readsAFreshTopicFromItsFirstRecord_withoutAWarning(String protocol) {
        String topic = KafkaBroker.topic("fresh", 1);
        var partition = new TopicPartition(topic, 0);
        KafkaBroker.produce(topic, records(5));
        try (var log = new CapturedLog();
             var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                     .consumerConfig("group.protocol", protocol).build().start()) {
            var handled = new ArrayList<String>();
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                handle(source, handled);
                return handled.size() >= 5;
            })).as("handled " + handled + "; the source's problem: " + source.problem()).isTrue();
            assertThat(handled).containsExactlyInAnyOrder("v0", "v1", "v2", "v3", "v4");
            assertThat(log.lines).as("the source's warnings: nothing lost, nothing said")
                    .noneMatch(line -> line.contains(partition.toString()))
                    .noneMatch(line -> line.contains("consumer died"));
        }
    }

    @Test // the user's own 'none' stays as it was: nothing read where the group has no offset, and the source says why
    void noneChosen_aGroupWithoutAnOffset_readsNothing_itsConsumerDiesAndIsReplaced() {
        String topic = KafkaBroker.topic("none-chosen", 1);
        KafkaBroker.produce(topic, records(3));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .consumerConfig("auto.offset.reset", "none").build().start()) {
            assertThat(Await.until(Duration.ofSeconds(60), () -> source.problem()
                    .filter(p -> p.contains("NoOffsetForPartitionException")).isPresent()))
                    .as("the source's problem: " + source.problem()).isTrue();
        }
    }

    private static List<String[]> records(int count) {
        var records = new ArrayList<String[]>();
        for (int i = 0; i < count; i++) {
            records.add(new String[] {"k" + i, "v" + i});
        }
        return records;
    }

    private static Admin admin() {
        return Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                KafkaBroker.bootstrap()));
    }

    /** Takes what the source hands out and acks it: every ack is carried out (no partition was taken back). */
    private static void handle(KafkaSource source, List<String> handled) {
        var got = source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30)));
        assertThat(source.settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList()))
                .as("acks carried out").isEmpty();
        got.forEach(d -> handled.add(new String(d.body(), StandardCharsets.UTF_8)));
    }
}
