package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One key's passes of a release, each a {@link GroupParker.Mover#move} over its dead letters, on an in-JVM KRaft
 * broker: what a pass moves and counts when a dead letter lands during its read, when it is interrupted waiting for a
 * write, and when dead letters were deleted below the key's cursor.
 */
@ExtendWith(KafkaBroker.class)
class KafkaParkedGroupMoverIT {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    static final Instant SINCE = Instant.now().minusSeconds(60);
    /** Key K, parked at k1 a minute ago. */
    static final ParkedGroup PARKED = new ParkedGroup("orders", "K", "k1", "m1", "refused", SINCE, SINCE, 3, 0, "T",
            0, 0, false, 1);

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The dead letter of K's record {@code value}, read from {@code topic}-0@{@code offset}: the head's for k1, else behind it. */
    static ProducerRecord<byte[], byte[]> copy(String topic, String value, long offset) {
        return copy(topic, value, offset, 0);
    }

    /** As {@link #copy(String, String, long)}, in dead-letter partition {@code dlqPartition}. */
    private static ProducerRecord<byte[], byte[]> copy(String topic, String value, long offset, int dlqPartition) {
        var headers = new RecordHeaders()
                .add(DeadLetterAttributes.REASON, bytes(value.equals("k1") ? GroupParker.at(PARKED) : GroupParker.behind(PARKED)))
                .add(DeadLetterAttributes.SOURCE, bytes(topic)).add(KafkaSource.PARTITION, bytes("0"))
                .add(KafkaSource.OFFSET, bytes(Long.toString(offset)));
        return new ProducerRecord<>(topic + ".dlq", dlqPartition, null, bytes("K"), bytes(value), headers);
    }

    /** K parked again behind {@code head}. */
    static ParkedGroup parkedAt(String head) {
        return new ParkedGroup("orders", "K", head, "m-" + head, "refused again", SINCE, SINCE, 1, 0, null, 0, 0, false, 1);
    }

    /**
     * The dead letter of K's record {@code value}, read from {@code topic}-0@{@code offset}, parked as the head of
     * {@code head}'s park, carrying the mark {@code mark} of a release (none when null).
     */
    static ProducerRecord<byte[], byte[]> headOfLaterPark(String topic, String value, long offset, String mark) {
        var record = copy(topic, value, offset);
        record.headers().remove(dev.ferry.domain.transport.DeadLetterAttributes.REASON);
        record.headers().add(dev.ferry.domain.transport.DeadLetterAttributes.REASON, bytes(GroupParker.at(parkedAt(value))));
        if (mark != null) {
            record.headers().add(GroupParker.RELEASE_ATTRIBUTE, bytes(mark));
        }
        return record;
    }

    @SafeVarargs
    static void deadLetter(ProducerRecord<byte[], byte[]>... copies) throws Exception {
        try (var producer = KafkaBroker.producer()) {
            for (var copy : copies) {
                producer.send(copy).get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** The mover of {@code topic}'s dead letters, its clients seen by {@link ReleaseInterceptor}. */
    static GroupParker.Mover mover(String topic) {
        return new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000,
                Map.of("interceptor.classes", ReleaseInterceptor.class.getName())).parkedGroupMover();
    }

    static List<String> values(String topic, int count) {
        return KafkaBroker.readAll(topic, count).stream().map(r -> KafkaBroker.text(r.value())).toList();
    }

    /** The offset {@code group} committed for {@code partition}; null while it has none. */
    static Long committed(Admin admin, String group, TopicPartition partition) {
        try {
            var at = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).get(partition);
            return at == null ? null : at.offset();
        } catch (Exception notYet) { // the group is not known before its first commit
            return null;
        }
    }

    @Test // a review: a pass took every record its read fetched, also one dead-lettered after the read began (past the end
          // it reads to), and committed its cursor at that end, below it: the next pass sent it and counted it again, the
          // release ended one short, and the key's last dead letter, still on its way, was stranded. (A move now reads on
          // in rounds: the record is the next round's, read from the cursor the first one committed.)
    void aDeadLetterLandingWhileAPassReads_isMovedByTheNextPass_once() throws Exception {
        String topic = KafkaBroker.topic("mover-past-end", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        deadLetter(copy(topic, "k1", 0), copy(topic, "k2", 1));
        ReleaseInterceptor.landDuringRead(copy(topic, "k3", 2));
        var mover = mover(topic);
        var told = new CopyOnWriteArrayList<Long>();

        var first = mover.move(PARKED, "T", false, (counted, redriven) -> told.add(counted));
        assertThat(ReleaseInterceptor.landedAt(topic + ".dlq")).as("k3 fetched by the read, past its end").isEqualTo(2L);
        assertThat(first.problem()).isNull();
        assertThat(told).as("k1 and k2, what was there when the read began; then k3, by the round after").containsExactly(2L, 3L);
        assertThat(first.counted()).isEqualTo(3);
        assertThat(mover.move(PARKED, "T", false).counted()).as("a pass after them: nothing moved again").isZero();
        assertThat(values(topic, 3)).as("each moved back once, in order").containsExactly("k1", "k2", "k3");
    }

    @Test // a review: a busy key was never released — a move told the release what it moved only at its end, and moved only
          // what was there when its read began, so what the key's producer parked meanwhile kept the count below the parked
    void aMove_tellsEachBatchOnceItsCursorIsCommitted_andReadsOnUntilARoundFindsNoneOfTheKey() throws Exception {
        String topic = KafkaBroker.topic("mover-progress", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        int many = ReleaseBatches.BATCH + 5;
        var copies = new ArrayList<ProducerRecord<byte[], byte[]>>();
        for (int i = 0; i < many; i++) {
            copies.add(copy(topic, "k" + (i + 1), i));
        }
        deadLetter(copies.toArray(ProducerRecord[]::new));
        // dead-lettered while the move reads, past the end its first round reads to: the key's producer sending on
        ReleaseInterceptor.landDuringRead(copy(topic, "k" + (many + 1), many));
        var mover = mover(topic);
        String group = ((KafkaParkedGroupMover) mover).releaseGroup("K");
        var told = new CopyOnWriteArrayList<String>();
        var partition = new TopicPartition(dlq, 0);
        GroupParker.Moved moved;
        try (var admin = Admin.create(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap()))) {
            moved = mover.move(PARKED, "T", false, (counted, redriven) ->
                    told.add(counted + "/" + redriven + " at " + committed(admin, group, partition)));
        }
        assertThat(moved.problem()).isNull();
        assertThat(moved.counted()).isEqualTo(many + 1);
        assertThat(told).as("each batch told as it went, its cursor committed before")
                .containsExactly(ReleaseBatches.BATCH + "/" + ReleaseBatches.BATCH + " at " + ReleaseBatches.BATCH,
                        many + "/" + many + " at " + many, (many + 1) + "/" + (many + 1) + " at " + (many + 1));
        var expected = new ArrayList<String>();
        for (int i = 1; i <= many + 1; i++) {
            expected.add("k" + i);
        }
        assertThat(values(topic, many + 1)).as("each once, in order").containsExactlyElementsOf(expected);

        // the key parked again behind a new head, x, let through once it drained: nothing more goes back, and the
        // cursor stays
        deadLetter(headOfLaterPark(topic, "x", many + 1, null), copy(topic, "k" + (many + 2), many + 2));
        var stopped = mover.move(PARKED, "T", false, new GroupParker.Progress() {
            @Override
            public void movedSoFar(long counted, long redriven) {
                throw new AssertionError("nothing went back to tell");
            }

            @Override
            public boolean stillReleasing() {
                return false;
            }
        });
        assertThat(stopped.problem()).contains("parked again behind a new head");
        assertThat(stopped.counted()).isZero();
        assertThat(values(topic, many + 1)).as("nothing more sent back").hasSize(many + 1);
        try (var admin = Admin.create(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap()))) {
            assertThat(committed(admin, group, partition)).isEqualTo((long) many + 1);
        }
    }

    @Test // a review: an interrupt while the release waited for a write escaped it: what it had moved was neither committed
          // nor counted (the next release sent it all again, and counted it again)
    void aPassInterruptedWhileAWriteWaits_commitsAndCountsWhatWentBack_andSaysItWasInterrupted() throws Exception {
        String topic = KafkaBroker.topic("mover-interrupted", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        deadLetter(copy(topic, "k1", 0), copy(topic, "k2", 1), copy(topic, "k3", 2));
        var mover = mover(topic);
        String group = ((KafkaParkedGroupMover) mover).releaseGroup("K");
        ReleaseInterceptor.holdAcknowledgements(topic, 1); // k1's write is acknowledged, k2's waits
        var moved = new AtomicReference<GroupParker.Moved>();
        var failed = new AtomicReference<Throwable>();
        var interruptedAfter = new AtomicBoolean();
        var releasing = new Thread(() -> {
            try {
                moved.set(mover.move(PARKED, "T", false));
            } catch (Throwable e) {
                failed.set(e);
            }
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        }, "releasing");
        try (var admin = Admin.create(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap()))) {
            releasing.start();
            assertThat(Await.until(LIMIT, () -> ReleaseInterceptor.holding(topic))).as("k2's write waits").isTrue();
            releasing.interrupt();
            // its producer closes only once the acknowledgement is let through: the cursor is committed before that
            assertThat(Await.until(Duration.ofSeconds(20), () -> committed(admin, group, new TopicPartition(dlq, 0)) != null))
                    .as(() -> "the cursor committed; the release failed with " + failed.get()).isTrue();
            assertThat(committed(admin, group, new TopicPartition(dlq, 0))).as("at k2, the write not confirmed").isEqualTo(1L);
        } finally {
            ReleaseInterceptor.open(topic);
            releasing.join(LIMIT.toMillis());
        }
        assertThat(failed.get()).isNull();
        assertThat(moved.get()).isNotNull();
        assertThat(moved.get().problem()).contains("interrupted at " + dlq + "-0@1");
        assertThat(moved.get().counted()).as("k1").isEqualTo(1);
        assertThat(moved.get().redriven()).isEqualTo(1);
        assertThat(interruptedAfter.get()).as("the interrupt set again, once the clients were closed").isTrue();

        var next = mover.move(PARKED, "T2", false);
        assertThat(next.problem()).isNull();
        assertThat(next.counted()).as("k2 (its write may have landed: the ledger drops it) and k3").isEqualTo(2);
    }

    @Test // a review: dead letters the topic's retention deleted below a key's cursor — the next release sought there, the
          // consumer reset to the earliest offset without a word, and the group was unparked short, nobody told
    void deadLettersDeletedBelowTheKeysCursor_areToldByThePassThatFindsThem_once() throws Exception {
        String topic = KafkaBroker.topic("mover-retention", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        deadLetter(copy(topic, "k1", 0), copy(topic, "k2", 1), copy(topic, "k3", 2), copy(topic, "k4", 3));
        var mover = mover(topic);
        var partition = new TopicPartition(dlq, 0);
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap(),
                "group.id", ((KafkaParkedGroupMover) mover).releaseGroup("K"), "enable.auto.commit", "false"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.commitSync(Map.of(partition, new OffsetAndMetadata(1)), Duration.ofSeconds(30)); // k1 went back before
        }
        try (var admin = Admin.create(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap()))) {
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(3))).all().get(30, TimeUnit.SECONDS);
        }

        var moved = mover.move(PARKED, "T", false);
        assertThat(moved.problem()).contains("2 dead letter(s) were deleted by the topic's retention").contains(dlq + "-0@1..2");
        assertThat(moved.counted()).as("k4: what was left").isEqualTo(1);
        assertThat(values(topic, 1)).containsExactly("k4");

        var again = mover.move(PARKED, "T2", false);
        assertThat(again.problem()).as("told once: the cursor is past them now").isNull();
        assertThat(again.counted()).isZero();
    }

    @Test // a review: one damaged batch in a dead-letter partition failed every release, of every key, for ever
    void aDamagedDeadLetterInAnotherKeysPartition_doesNotStopThisKeysRelease_butOneInItsOwnDoes() throws Exception {
        String topic = KafkaBroker.topic("mover-damaged", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 2);
        int own = org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(bytes("K"))) % 2;
        var other = new TopicPartition(dlq, 1 - own);
        deadLetter(copy(topic, "k1", 0, own), copy(topic, "k2", 1, own), copy(topic, "k3", 2, own));
        try (var producer = KafkaBroker.producer()) { // another key's dead letter, one batch of its own, then damaged on disk
            producer.send(new ProducerRecord<>(dlq, other.partition(), bytes("Z"), bytes("z-damaged"))).get(60, TimeUnit.SECONDS);
        }
        KafkaUnreadableRecordIT.flipAByteOf(other, "z-damaged");
        var mover = mover(topic);

        var moved = mover.move(PARKED, "T", false);
        assertThat(moved.problem()).as("the damage is in another key's partition").isNull();
        assertThat(moved.counted()).isEqualTo(3);
        assertThat(values(topic, 3)).containsExactly("k1", "k2", "k3");

        deadLetter(copy(topic, "k4", 3, own), copy(topic, "k5", 4, own));
        KafkaUnreadableRecordIT.flipAByteOf(new TopicPartition(dlq, own), "k5");
        var stopped = mover.move(PARKED, "T", false);
        assertThat(stopped.problem()).as("its own partition: what it has behind the damage cannot be moved")
                .contains("dead-letter partition " + dlq + "-" + own).contains("cannot be read at offset 4");
        assertThat(stopped.counted()).as("k4, before the damage in the same partition").isEqualTo(1);
        assertThat(values(topic, 4)).containsExactly("k1", "k2", "k3", "k4");
    }

    @Test // a second review: the key's records of another topic went back while its head lay behind the damage
    void aDamagedPartitionThatMayHideTheKeysRecords_letsNoneOfItsOtherRecordsOvertakeThem() throws Exception {
        String a = KafkaBroker.topic("mover-damaged-a", 1);
        String b = KafkaBroker.topic("mover-damaged-b", 1);
        KafkaBroker.create(a + ".dlq", 1);
        KafkaBroker.create(b + ".dlq", 1);
        try (var producer = KafkaBroker.producer()) {
            producer.send(new ProducerRecord<>(a + ".dlq", 0, bytes("Z"), bytes("z-damaged"))).get(60, TimeUnit.SECONDS);
        }
        deadLetter(copy(a, "k1", 0, 0), copy(b, "k2", 0, 0), copy(a, "k3", 1, 0));
        KafkaUnreadableRecordIT.flipAByteOf(new TopicPartition(a + ".dlq", 0), "z-damaged");
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(a, b), "unused", ".dlq", 5000,
                Map.of()).parkedGroupMover();

        var moved = mover.move(PARKED, "T", false);
        assertThat(moved.problem()).contains("dead-letter partition " + a + ".dlq-0").contains("cannot be read at offset 0");
        assertThat(moved.counted()).as("k2 would have gone ahead of k1, its head, hidden behind the damage").isZero();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var sentBack = new TopicPartition(b, 0);
            assertThat(consumer.endOffsets(List.of(sentBack), Duration.ofSeconds(30)).get(sentBack))
                    .as("nothing sent back to " + b).isZero();
        }
    }
}
