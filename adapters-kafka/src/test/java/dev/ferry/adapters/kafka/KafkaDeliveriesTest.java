package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** Records as deliveries: what of their headers the engine sees. */
class KafkaDeliveriesTest {

    private static final TopicPartition TP = new TopicPartition("t", 0);

    @Test // a review: a release appends its mark after every header of the record it moves back; past the first thousand it
          // was no attribute, and the record was parked behind again while the key's next record passed — at every release
    void theHeadersFerryReads_areAttributesEvenPastTheCap_theOthersAreLeftOut() {
        var headers = new RecordHeaders();
        for (int h = 0; h < 1_198; h++) {
            headers.add("h" + h, new byte[] {'v'});
        }
        headers.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes(StandardCharsets.UTF_8));
        headers.add(GroupParker.RELEASE_ATTRIBUTE, "T#2".getBytes(StandardCharsets.UTF_8));
        var buffers = new PartitionBuffers("test", 4, 1 << 20);
        buffers.assigned(List.of(TP));
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("t", 0, 0L, 0L, TimestampType.CREATE_TIME, 0, 1,
                "k".getBytes(StandardCharsets.UTF_8), new byte[] {1}, headers, Optional.empty());
        buffers.take(new ConsumerRecords<>(Map.of(TP, List.of(record)), Map.of()));
        var out = buffers.handOut(1, System.nanoTime());
        assertThat(out).hasSize(1);

        var attributes = KafkaDeliveries.delivery(out.getFirst(), "s").attributes();
        assertThat(attributes).as("the release's mark, the last of 1,200 headers")
                .containsEntry(GroupParker.RELEASE_ATTRIBUTE, "T#2")
                .containsEntry("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .doesNotContainKey(DeadLetterAttributes.REDRIVE).doesNotContainKey("tracestate")
                .containsEntry("h" + (KafkaDeliveries.MAX_HEADERS - 1), "v")
                .doesNotContainKey("h" + KafkaDeliveries.MAX_HEADERS).doesNotContainKey("h1197")
                .containsEntry(KafkaDeliveries.HEADERS_OMITTED, "200");
        assertThat(GroupParker.pass(attributes.get(GroupParker.RELEASE_ATTRIBUTE))).isEqualTo(new GroupParker.Pass("T", 2));
    }

    @Test // a review: a record without a timestamp (-1, data of the v0 format) was dated 1969, 56 years of event age
    void aRecordWithoutATimestamp_isDatedWhenReceived_notIn1969() {
        var buffers = new PartitionBuffers("test", 4, 1 << 20);
        buffers.assigned(List.of(TP));
        var before = java.time.Instant.now();
        ConsumerRecord<byte[], byte[]> none = new ConsumerRecord<>("t", 0, 0L, ConsumerRecord.NO_TIMESTAMP,
                TimestampType.NO_TIMESTAMP_TYPE, 0, 1, "k1".getBytes(StandardCharsets.UTF_8), new byte[] {1}, new RecordHeaders(),
                Optional.empty());
        ConsumerRecord<byte[], byte[]> dated = new ConsumerRecord<>("t", 0, 1L, 1_700_000_000_000L, TimestampType.CREATE_TIME,
                0, 1, "k2".getBytes(StandardCharsets.UTF_8), new byte[] {1}, new RecordHeaders(), Optional.empty());
        buffers.take(new ConsumerRecords<>(Map.of(TP, List.of(none, dated)), Map.of()));
        var out = buffers.handOut(2, System.nanoTime());
        assertThat(out).hasSize(2);
        assertThat(KafkaDeliveries.delivery(out.get(0), "s").sentAt()).isBetween(before, java.time.Instant.now());
        assertThat(KafkaDeliveries.delivery(out.get(1), "s").sentAt()).isEqualTo(java.time.Instant.ofEpochMilli(1_700_000_000_000L));
    }
}
