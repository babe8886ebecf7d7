package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A record the consumer cannot read: a batch of one partition damaged in the broker's log (a byte flipped on disk; the
 * broker serves segments without checking them, the consumer checks each batch's checksum). The client throws from
 * every poll until the consumer seeks past it: the consumer was replaced for it again and again, and every other
 * partition it had stopped with it.
 */
@ExtendWith(KafkaBroker.class)
class KafkaUnreadableRecordIT {

    private static final String DAMAGED = "p0-damaged";

    @ParameterizedTest(name = "group.protocol {0}") // docs/RELIABILITY.md, twentieth round, noticed and left
    @ValueSource(strings = {"classic", "consumer"})
    void aRecordThatCannotBeRead_stopsOnlyItsPartitionThere_saidOnce_theOtherPartitionGoesOn_andTheConsumerStays(
            String protocol) throws Exception {
        String topic = KafkaBroker.topic("unreadable", 2);
        var damaged = new TopicPartition(topic, 0);
        var other = new TopicPartition(topic, 1);
        String group = "g-" + UUID.randomUUID();
        try (var producer = KafkaBroker.producer()) {
            // one send at a time: each record is a batch of its own, so the damaged batch holds the damaged record only
            for (var value : List.of("p0-0", "p0-1", "p0-2", DAMAGED, "p0-4", "p0-5")) {
                send(producer, damaged, value);
            }
            for (var value : List.of("p1-0", "p1-1", "p1-2")) {
                send(producer, other, value);
            }
            flipAByteOf(damaged, DAMAGED);      // before the group first reads the partition

            try (var log = new CapturedLog();
                 var source = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic))
                         .consumerConfig("group.protocol", protocol).build().start();
                 var admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                         KafkaBroker.bootstrap()))) {
                var handled = new ArrayList<String>();
                // a consumer that died makes the source's poll throw (until its replacement polls): the test ends there
                assertThat(Await.until(Duration.ofSeconds(60), () -> {
                    handle(source, handled);
                    return handled.size() >= 6 && source.problem().isPresent();
                })).as("handled " + handled + "; the source's problem: " + source.problem()).isTrue();

                for (var value : List.of("p1-3", "p1-4", "p1-5")) {
                    send(producer, other, value);
                }
                assertThat(Await.until(Duration.ofSeconds(60), () -> {
                    handle(source, handled);
                    return handled.size() >= 9;
                })).as("the other partition's later records are handled; handled " + handled).isTrue();
                assertThat(handled).as("the damaged partition's records up to the damaged one, nothing after it")
                        .containsExactlyInAnyOrder("p0-0", "p0-1", "p0-2", "p1-0", "p1-1", "p1-2", "p1-3", "p1-4", "p1-5");

                assertThat(Await.until(Duration.ofSeconds(30), () -> committed(admin, group, other) == 6
                        && committed(admin, group, damaged) == 3))
                        .as("committed: " + committed(admin, group, other) + " of the other partition, "
                                + committed(admin, group, damaged) + " of the damaged one").isTrue();
                assertThat(Await.until(Duration.ofSeconds(10), () -> source.lag() == 3))
                        .as("the damaged record and the two behind it count as lag, was " + source.lag()).isTrue();

                assertThat(source.healthy()).isFalse();
                assertThat(source.problem()).as("still stopped, and the source says where and why")
                        .hasValueSatisfying(p -> assertThat(p).contains("partition " + damaged + " is stopped at offset 3")
                                .contains("Record is corrupt"));
                assertThat(log.lines).as("the source's warnings and errors: the consumer was never replaced")
                        .noneMatch(line -> line.contains("consumer died"));
                assertThat(log.lines).as("the stop is said once: the partition stayed paused")
                        .filteredOn(line -> line.contains(damaged.toString())).singleElement().asString()
                        .contains("is stopped at offset 3").contains("Record is corrupt");
            }
        }
    }

    /** Takes what the source hands out and acks it: every ack is carried out (no partition was taken back). */
    private static void handle(KafkaSource source, List<String> handled) {
        var got = source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30)));
        assertThat(source.settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList()))
                .as("acks carried out").isEmpty();
        got.forEach(d -> handled.add(new String(d.body(), StandardCharsets.UTF_8)));
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, TopicPartition tp, String value) throws Exception {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), bytes, bytes)).get(60, TimeUnit.SECONDS);
    }

    /** The group's committed offset of {@code tp}; -1 while there is none (or the broker did not answer). */
    private static long committed(Admin admin, String group, TopicPartition tp) {
        try {
            var at = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).get(tp);
            return at == null ? -1 : at.offset();
        } catch (Exception e) { // not answered: asked again
            return -1;
        }
    }

    /**
     * Flips a byte of {@code value} where it lies in the partition's log on the broker: the checksum of its batch no
     * longer matches, while the batch's offsets and length stay readable to the broker.
     */
    static void flipAByteOf(TopicPartition tp, String value) throws IOException {
        byte[] wanted = value.getBytes(StandardCharsets.UTF_8);
        List<Path> segments;
        try (var files = Files.list(KafkaBroker.partitionDirectory(tp.topic(), tp.partition()))) {
            segments = files.filter(f -> f.getFileName().toString().endsWith(".log")).toList();
        }
        for (var segment : segments) {
            byte[] bytes = Files.readAllBytes(segment);
            int at = indexOf(bytes, wanted);
            if (at >= 0) {
                // written in place: the broker reads the file it has open, so it serves the flipped byte from now on
                try (var file = FileChannel.open(segment, StandardOpenOption.WRITE)) {
                    file.write(ByteBuffer.wrap(new byte[] {(byte) (bytes[at] ^ 0x20)}), at);
                }
                return;
            }
        }
        throw new IllegalStateException(value + " is in no log segment of " + tp + ": " + segments);
    }

    private static int indexOf(byte[] bytes, byte[] wanted) {
        for (int i = 0; i + wanted.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + wanted.length, wanted, 0, wanted.length)) {
                return i;
            }
        }
        return -1;
    }
}
