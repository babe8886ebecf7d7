package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A source whose {@code bootstrap-servers} no broker answers at (a wrong port, a firewall rule missing): the start
 * warns and goes on, the client never throws from its polls, and the source stood ready for ever, its lag 0 — a rollout
 * with the bad address passed readiness everywhere and consumed nothing. Likewise a cluster that stops answering once
 * the source's partitions are assigned: the client keeps them, and the lag stayed the last fetch's. And a stop whose
 * last commit the cluster no longer takes: its close says so, as the app counts a close that returns whole.
 */
@ExtendWith(KafkaBroker.class) // the shared broker, for the stop whose commit is taken; the stopped one is the test's own
class KafkaUnreachableIT {

    @Test
    void aClusterNoBrokerAnswers_isTheSourcesProblem_andItsLagIsNotZero() throws Exception {
        int closed;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort(); // free once closed: nothing listens there
        }
        var was = ConsumerLag.unreachedFor;
        ConsumerLag.unreachedFor = Duration.ofSeconds(2);
        try (var source = KafkaSource.builder("127.0.0.1:" + closed, "g-unreached", List.of("orders")).build().start()) {
            assertThat(Await.until(Duration.ofSeconds(40), () -> source.problem().isPresent()))
                    .as("said, for readiness").isTrue();
            assertThat(source.problem().orElseThrow()).contains("no broker").contains("bootstrap-servers");
            assertThat(source.healthy()).isFalse();
            // the lag is read at the next poll
            assertThat(Await.until(Duration.ofSeconds(5), () -> source.lag() != 0)).as("not 'caught up'").isTrue();
        } finally {
            ConsumerLag.unreachedFor = was;
        }
    }

    @Test // a review of the fix: counted by open connections, a port that takes the connection and never answers (a
          // firewall that drops packets keeps a connect pending the same way) stood ready still
    void aPortThatAcceptsAndNeverAnswers_isTheSourcesProblem() throws Exception {
        var was = ConsumerLag.unreachedFor;
        ConsumerLag.unreachedFor = Duration.ofSeconds(2);
        try (var silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             var source = KafkaSource.builder("127.0.0.1:" + silent.getLocalPort(), "g-silent", List.of("orders"))
                     .build().start()) {
            assertThat(Await.until(Duration.ofSeconds(60), () -> source.problem().isPresent()))
                    .as("said, for readiness").isTrue();
            assertThat(source.problem().orElseThrow()).contains("no broker");
        } finally {
            ConsumerLag.unreachedFor = was;
        }
    }

    @Test // a review: looked at only while nothing was assigned; the client keeps its partitions and polls on without
          // throwing while no broker answers, so a source cut off after its assignment stood ready, its lag the last fetch's
    void aClusterGoneAfterTheAssignment_isTheSourcesProblem_andItsLagIsNotKnown() throws Exception {
        var cluster = ownCluster(); // the run's shared broker goes on: this one is stopped
        var was = ConsumerLag.unreachedFor;
        ConsumerLag.unreachedFor = Duration.ofSeconds(2);
        boolean stopped = false;
        try {
            oneOrder(cluster);
            try (var source = KafkaSource.builder(cluster.bootstrapServers(), "g-cut-off", List.of("orders")).build().start()) {
                var got = new ArrayList<Delivery>();
                assertThat(Await.until(Duration.ofSeconds(30), () -> {
                    got.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(60))));
                    return !got.isEmpty();
                })).as("the record handed out: its partition assigned").isTrue();
                assertThat(Await.until(Duration.ofSeconds(10), () -> source.lag() >= 0)).as("its lag known").isTrue();
                assertThat(source.problem()).as("ready while the cluster answers").isEmpty();
                // the source's first commit (at the unfinished record) landed: its close then has nothing to commit and
                // is whole, the cluster gone or not. Not waited for, it raced the stop and the close's commit of it failed
                try (var admin = admin(cluster.bootstrapServers())) {
                    assertThat(Await.until(Duration.ofSeconds(10), () -> committed(admin, "g-cut-off", "orders") == 0))
                            .as("the group's offset at the record handed out").isTrue();
                }

                stopped = true; // once: a stop that failed is not waited for again
                stop(cluster);
                assertThat(Await.until(Duration.ofSeconds(15), () -> source.problem().isPresent()))
                        .as("said, for readiness, within unreachedFor (2 s) and a margin").isTrue();
                assertThat(source.problem().orElseThrow()).contains("no broker answered");
                assertThat(source.healthy()).isFalse();
                assertThat(Await.until(Duration.ofSeconds(5), () -> source.lag() == -1))
                        .as("not the last fetch's figure: %s", source.lag()).isTrue();
            }
        } finally {
            if (!stopped) {
                stop(cluster);
            }
            ConsumerLag.unreachedFor = was;
        }
    }

    @Test // a review: the cluster stopped answering before SIGTERM; the stop's commit timed out and was only logged, the
          // close returned normally, so the app counted the source closed whole and `ferry run` exited 0 — its acked record
          // read again after the restart
    void aStopWhoseLastCommitTheClusterNoLongerTakes_failsTheClose_sayingTheFinishedRecordsMayBeReadAgain()
            throws Exception {
        var cluster = ownCluster();
        boolean stopped = false;
        try {
            oneOrder(cluster);
            // commits only at the stop: the ack is carried by the last commit or by none
            try (var source = KafkaSource.builder(cluster.bootstrapServers(), "g-last-commit", List.of("orders"))
                    .commitInterval(Duration.ofHours(1)).build().start()) {
                ackOne(source);

                stopped = true; // once: a stop that failed is not waited for again
                stop(cluster);
                // its stop's commit waits 10 s, and the close 15 s for the consumer thread: a minute bounds it
                assertThatThrownBy(() -> within(Duration.ofSeconds(60), () -> {
                    source.close();
                    return null;
                })).as("the close, within a minute").isInstanceOf(ExecutionException.class).cause()
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("the last commit of finished records failed")
                        .hasMessageContaining("may be read again after a restart");
            }
        } finally {
            if (!stopped) {
                stop(cluster);
            }
        }
    }

    @Test // the other side of it: the same stop, the cluster answering, commits the ack and closes whole
    void aStopWhoseLastCommitIsTaken_closesWhole_theAckCommitted() throws Exception {
        String topic = KafkaBroker.topic("last-commit", 1);
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"k", "v"}));
        String group = "g-" + UUID.randomUUID();
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic))
                .commitInterval(Duration.ofHours(1)).build().start()) {
            ackOne(source);
            assertThatCode(() -> within(Duration.ofSeconds(60), () -> {
                source.close();
                return null;
            })).as("the close, within a minute").doesNotThrowAnyException();
        }
        try (var admin = admin(KafkaBroker.bootstrap())) {
            assertThat(committed(admin, group, topic)).as("the group's offset: past the acked record, by the stop").isEqualTo(1);
        }
    }

    /** Makes the topic {@code orders} (one partition) on {@code cluster} and writes one record to it. */
    private static void oneOrder(KafkaClusterTestKit cluster) throws Exception {
        try (var admin = cluster.admin()) {
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>("orders", "k".getBytes(StandardCharsets.UTF_8),
                    "v".getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
        }
    }

    /** Takes the source's one record (within 30 s) and acks it. */
    private static void ackOne(KafkaSource source) {
        var got = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(30), () -> {
            got.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(60))));
            return !got.isEmpty();
        })).as(() -> "the record handed out; the source's problem: " + source.problem()).isTrue();
        assertThat(source.settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList()))
                .as("the ack taken").isEmpty();
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    /** The group's committed offset of {@code topic}'s partition 0; -1 while there is none, or the broker did not answer. */
    private static long committed(Admin admin, String group, String topic) {
        try {
            OffsetAndMetadata at = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS).get(new TopicPartition(topic, 0));
            return at == null ? -1 : at.offset();
        } catch (Exception e) { // not answered: asked again
            return -1;
        }
    }

    /** A one-node cluster of the test's own (as {@link KafkaBroker} starts the shared one), within two minutes. */
    private static KafkaClusterTestKit ownCluster() throws Exception {
        var nodes = new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build();
        var kit = new KafkaClusterTestKit.Builder(nodes)
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("auto.create.topics.enable", "false")
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .build();
        try {
            within(Duration.ofSeconds(120), () -> {
                kit.format();
                kit.startup();
                kit.waitForReadyBrokers();
                return null;
            });
            return kit;
        } catch (Exception e) {
            try {
                stop(kit);
            } catch (Exception closing) { // what kept it from starting stays what the test reports
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /** Stops {@code kit}, waiting a minute at most. */
    private static void stop(KafkaClusterTestKit kit) throws Exception {
        within(Duration.ofSeconds(60), () -> {
            kit.close();
            return null;
        });
    }

    /**
     * Runs {@code step} on a thread of its own, waiting {@code limit} at most (not the common pool: on two cores it has
     * one thread, and a cluster's start or stop holding it could wait for work queued behind it).
     */
    private static void within(Duration limit, Callable<Void> step) throws Exception {
        var task = new FutureTask<>(step);
        Thread.ofPlatform().daemon().name("kafka-test-cluster").start(task);
        task.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    }
}
