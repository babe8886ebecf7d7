package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The source's consumer thread against a broker: what it commits (up to where it reads, past a transaction's commit
 * marker; with the leader epoch of the records; at a stop while the group rebalances), that an interrupt left on it by
 * a plugin does not end it, and what the source says once something else did.
 */
@ExtendWith(KafkaBroker.class)
class KafkaConsumerLoopIT {

    /**
     * A source whose consumer thread the interceptor interrupts once ({@code arm}: where) consumes on, with the same
     * consumer: what is produced before and after is handled.
     */
    private static void interruptedOnce(String prefix, java.util.function.Consumer<String> arm) {
        String topic = KafkaBroker.topic(prefix, 1);
        arm.accept(topic);
        KafkaBroker.produce(topic, records("before-", 3));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .consumerConfig("interceptor.classes", InterruptOnceInterceptor.class.getName())
                .restartBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).build().start()) {
            var handled = new HashSet<String>();
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                handle(source, handled);
                return InterruptOnceInterceptor.interrupted(topic);
            })).as("the interceptor interrupted the consumer thread; the source's problem: " + source.problem()).isTrue();

            KafkaBroker.produce(topic, records("after-", 3));
            var expected = List.of("before-0", "before-1", "before-2", "after-0", "after-1", "after-2");
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                handle(source, handled);
                return handled.containsAll(expected);
            })).as("handled " + handled + "; the source's problem: " + source.problem()).isTrue();
            assertThat(source.problem()).as("the source consumes again").isEmpty();
            // nor is its consumer replaced for it (a rebalance, every record in hand read again)
            assertThat(InterruptOnceInterceptor.consumers()).as("consumers made").isEqualTo(1);
        }
    }

    @Test // a review: Kafka's InterruptException sets the interrupt again as it is thrown, so the wait for the next
          // consumer threw at once and the thread ended for good, the source saying "a new one starts in 1s" for ever
    void anInterruptAPluginLeavesOnTheConsumerThread_doesNotEndIt_theSourceConsumesAgain_andLaterRecordsAreHandled() {
        interruptedOnce("interrupted", InterruptOnceInterceptor::arm);
    }

    @Test // a third review: an interrupt left in onCommit (answered within a later poll) still replaced the consumer
    void anInterruptLeftInACommitsCallback_doesNotReplaceTheConsumer() {
        interruptedOnce("interrupted-commit", InterruptOnceInterceptor::armOnCommit);
    }

    @Test // a review: an Error in the bookkeeping of a consumer's restart ended the thread, and the source said "its
          // consumer died ...; a new one starts in 1s" for good, to /health and to every poll, with no thread left to start it
    void aConsumerThreadEndedByAnErrorWhileReplacingItsConsumer_saysItEnded() {
        String topic = KafkaBroker.topic("thread-ends", 1);
        String name = "thread-ends-" + UUID.randomUUID();
        var thrown = new AtomicBoolean();
        var logger = Logger.getLogger(KafkaSource.class.getName()); // the source's log, through slf4j-jdk14
        var throwing = new Handler() { // the restart says the death, and that throws, as a handler out of memory would
            @Override
            public void publish(LogRecord r) {
                if (String.valueOf(r.getMessage()).contains("'" + name + "': its consumer died; a new one starts")
                        && thrown.compareAndSet(false, true)) {
                    throw new OutOfMemoryError("test: no memory to say the consumer died");
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(throwing);
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .name(name).build().start()) {
            source.killConsumerLoopOnce();
            assertThat(Await.until(Duration.ofSeconds(30), thrown::get)).as("the consumer died; the source's problem: "
                    + source.problem()).isTrue();

            assertThat(Await.until(Duration.ofSeconds(10), () -> source.problem().orElse("").contains("thread ended")))
                    .as("the source's problem: " + source.problem()).isTrue();
            assertThat(source.problem()).hasValueSatisfying(p -> assertThat(p).doesNotContain("a new one starts"));
            assertThatThrownBy(() -> source.poll(new PollRequest(10, Duration.ZERO, Duration.ofSeconds(30))))
                    .isInstanceOf(FerryException.class).hasMessageContaining("thread ended");
        } finally {
            logger.removeHandler(throwing);
        }
    }

    @ParameterizedTest(name = "group.protocol {0}") // a review: the commit went to the last record + 1 only
    @ValueSource(strings = {"classic", "consumer"})
    void aTransactionsRecords_onceHandled_areCommittedToThePartitionsEnd_pastItsCommitMarker(String protocol)
            throws Exception {
        String topic = KafkaBroker.topic("txn-end", 1);
        var partition = new TopicPartition(topic, 0);
        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap(),
                "transactional.id", "t-" + UUID.randomUUID(), "delivery.timeout.ms", 110_000),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, bytes("k" + i), bytes("t" + i)));
            }
            producer.commitTransaction();
        }
        String group = "g-" + UUID.randomUUID();
        try (var admin = admin();
             var source = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic))
                     .consumerConfig("group.protocol", protocol).build().start()) {
            assertThat(admin.listOffsets(Map.of(partition, OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS)
                    .get(partition).offset()).as("three records and the transaction's commit marker").isEqualTo(4);
            var handled = new ArrayList<String>();
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                handle(source, handled);
                return handled.size() >= 3;
            })).as("handled " + handled + "; the source's problem: " + source.problem()).isTrue();
            assertThat(handled).containsExactlyInAnyOrder("t0", "t1", "t2");

            Await.until(Duration.ofSeconds(30), () -> offset(committed(admin, group, partition)) == 4);
            assertThat(offset(committed(admin, group, partition)))
                    .as("the group's offset: at the partition's end (lag 0), not one below it at the marker for ever")
                    .isEqualTo(4);
        }
    }

    @Test // a review: commits carried no leader epoch, so a consumer starting at one could not find a log cut back since
    void commits_carryTheLeaderEpochOfTheRecordWhereTheyStop_andOfTheLastOneAtTheEnd() throws Exception {
        String topic = KafkaBroker.topic("epoch", 1);
        var partition = new TopicPartition(topic, 0);
        KafkaBroker.produce(topic, records("e-", 3));
        var written = KafkaBroker.readAll(topic, 3);
        assertThat(written).hasSize(3);
        var epoch = written.getLast().leaderEpoch();
        assertThat(epoch).as("the broker stamps its records with its leader epoch").isPresent();
        String group = "g-" + UUID.randomUUID();
        try (var admin = admin();
             var source = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic)).build().start()) {
            var got = new ArrayList<Delivery>();
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                got.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30))));
                return got.size() >= 3;
            })).as("handed out " + got.size() + "; the source's problem: " + source.problem()).isTrue();

            // the first done, the other two still out: the commit stops at the second, with its record's epoch
            var first = got.stream().filter(d -> text(d).equals("e-0")).findFirst().orElseThrow();
            assertThat(source.settle(List.of(new Settlement(first, Disposition.ACK)))).isEmpty();
            Await.until(Duration.ofSeconds(30), () -> offset(committed(admin, group, partition)) == 1);
            var stopped = committed(admin, group, partition);
            assertThat(offset(stopped)).isEqualTo(1);
            assertThat(stopped.leaderEpoch()).as("the epoch of the record the commit stops at").isEqualTo(epoch);

            var rest = got.stream().filter(d -> d != first).map(d -> new Settlement(d, Disposition.ACK)).toList();
            assertThat(source.settle(rest)).isEmpty();
            Await.until(Duration.ofSeconds(30), () -> offset(committed(admin, group, partition)) == 3);
            var end = committed(admin, group, partition);
            assertThat(offset(end)).isEqualTo(3);
            assertThat(end.leaderEpoch()).as("the epoch of the last record, before the end").isEqualTo(epoch);
        }
    }

    @Test // a review: mid-rebalance every commit is refused at once, and the close calls onPartitionsLost (no
          // revocation, no commit): a stop (a rolling deploy's SIGTERM) while a member was slow to rejoin committed
          // nothing finished since the rebalance began, all of it read again by the next owners
    void aStopWhileTheGroupRebalances_waitsForItsEnd_andCommitsWhatWasFinished() throws Exception {
        String topic = KafkaBroker.topic("stop-rebalancing", 1);
        var partition = new TopicPartition(topic, 0);
        KafkaBroker.produce(topic, records("s-", 3));
        String group = "g-" + UUID.randomUUID();
        var slowJoined = new AtomicBoolean();
        try (var log = new CapturedLog();
             var admin = admin();
             var source = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic))
                     .consumerConfig("group.protocol", "classic")
                     // the group's leader rejoins when its topics gain a partition: seen this soon, it rebalances
                     .consumerConfig("metadata.max.age.ms", 200).build().start();
             var slow = new KafkaConsumer<>(Map.<String, Object>of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrap(),
                     ConsumerConfig.GROUP_ID_CONFIG, group, ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic",
                     ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, ClientConfigs.COOPERATIVE_ASSIGNOR,
                     ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                     // it leaves by itself only this long after its last poll: the test is over by then
                     ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 60_000,
                     ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500), // polled again, it rejoins soon
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            // alone in the group, the source leads it and holds the records, not yet acked
            var got = new ArrayList<Delivery>();
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                got.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30))));
                return got.size() >= 3;
            })).as("handed out " + got.size() + "; the source's problem: " + source.problem()).isTrue();

            // a second member joins, then polls no more: the group's next rebalance waits for it
            slow.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                    slowJoined.set(true);
                }
            });
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                slow.poll(Duration.ofMillis(100));
                return slowJoined.get();
            })).as("the second member joined").isTrue();
            assertThat(slow.assignment()).as("the source kept its partition (sticky)").isEmpty();

            // the source's consumer, the leader, rejoins for the new partition: the only member that can start a
            // rebalance now, so the group rebalancing says it has (its commits refused until the slow one is back)
            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get(30, TimeUnit.SECONDS);
            assertThat(Await.until(Duration.ofSeconds(30),
                    () -> state(admin, group) == GroupState.PREPARING_REBALANCE))
                    .as("the group rebalances; its state: " + state(admin, group)).isTrue();

            // finished during the rebalance, then the stop
            assertThat(source.settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList())).isEmpty();
            var stopping = CompletableFuture.runAsync(source::close);
            assertThat(Await.until(Duration.ofSeconds(30), () -> log.lines.stream()
                    .anyMatch(l -> l.contains("may be read again") && l.contains("rebalanc"))))
                    .as("the stop's commit was refused for the rebalance; the log: " + log.lines).isTrue();

            // the slow member is back (polls again, rejoins): the rebalance ends, within the stop's wait for it
            assertThat(Await.until(Duration.ofSeconds(60), () -> {
                slow.poll(Duration.ofMillis(100));
                return stopping.isDone();
            })).as("the source stopped").isTrue();
            stopping.get(1, TimeUnit.SECONDS);

            Await.until(Duration.ofSeconds(10), () -> offset(committed(admin, group, partition)) == 3);
            assertThat(offset(committed(admin, group, partition)))
                    .as("the group's offset: past the three finished during the rebalance; the log: " + log.lines)
                    .isEqualTo(3);
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Takes what the source hands out and acks it; adds to {@code handled} those whose ack was carried out. While the
     * consumer is being replaced the source's poll throws: nothing is taken then.
     */
    private static void handle(KafkaSource source, Collection<String> handled) {
        List<Delivery> got;
        try {
            got = source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(30)));
        } catch (FerryException down) {
            return;
        }
        var refused = source.settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList()).stream()
                .map(f -> f.settlement().delivery()).toList();
        got.stream().filter(d -> refused.stream().noneMatch(r -> r == d)).forEach(d -> handled.add(text(d)));
    }

    private static List<String[]> records(String prefix, int count) {
        var records = new ArrayList<String[]>();
        for (int i = 0; i < count; i++) {
            records.add(new String[] {"k" + i, prefix + i});
        }
        return records;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Delivery d) {
        return new String(d.body(), StandardCharsets.UTF_8);
    }

    private static Admin admin() {
        return Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrap()));
    }

    /** The group's committed offset of {@code tp}; null while there is none, or the broker did not answer. */
    private static OffsetAndMetadata committed(Admin admin, String group, TopicPartition tp) {
        try {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).get(tp);
        } catch (Exception e) { // not answered: asked again
            return null;
        }
    }

    /** The group's state; null while the broker did not answer. */
    private static GroupState state(Admin admin, String group) {
        try {
            return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group)
                    .groupState();
        } catch (Exception e) { // not answered: asked again
            return null;
        }
    }

    private static long offset(OffsetAndMetadata at) {
        return at == null ? -1 : at.offset();
    }
}
