package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.PollRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.Test;

/**
 * A source whose {@code bootstrap-servers} no broker answers at (a wrong port, a firewall rule missing): the start
 * warns and goes on, the client never throws from its polls, and the source stood ready for ever, its lag 0 — a rollout
 * with the bad address passed readiness everywhere and consumed nothing. Likewise a cluster that stops answering once
 * the source's partitions are assigned: the client keeps them, and the lag stayed the last fetch's.
 */
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
            try (var admin = cluster.admin()) {
                admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            }
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    cluster.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>("orders", "k".getBytes(StandardCharsets.UTF_8),
                        "v".getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
            }
            try (var source = KafkaSource.builder(cluster.bootstrapServers(), "g-cut-off", List.of("orders")).build().start()) {
                var got = new ArrayList<Delivery>();
                assertThat(Await.until(Duration.ofSeconds(30), () -> {
                    got.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(60))));
                    return !got.isEmpty();
                })).as("the record handed out: its partition assigned").isTrue();
                assertThat(Await.until(Duration.ofSeconds(10), () -> source.lag() >= 0)).as("its lag known").isTrue();
                assertThat(source.problem()).as("ready while the cluster answers").isEmpty();

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
