package dev.ferry.benchmarks;

import dev.ferry.adapters.kafka.KafkaSource;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@value #RECORDS} records (100 keys, 3 partitions, the MTurk one-event document as value) on an
 * in-JVM KRaft broker, read by a fresh consumer group per invocation, three ways: through Ferry's
 * Kafka source + the engine + a no-op handler (the source commits finished offsets every 25 ms),
 * a bare {@code KafkaConsumer} poll + {@code commitSync} loop, and a bare poll + {@code commitAsync}
 * loop (it does not wait for the commit round trip). One operation = one record.
 *
 * <p>The clocks: every contender's starts when it is started (consumer created, group joined
 * inside the clock) and stops at the same point, when the broker has the group's committed offsets
 * at the end offset of every partition, i.e. when the commit covering the last record was
 * confirmed. The benchmark thread sees that the same way for all three: it asks the broker for the
 * group's offsets ({@code Admin.listConsumerGroupOffsets}) every {@value #CHECK_EVERY_MS} ms, so each
 * clock carries the same few milliseconds of detection delay. Leaving the group (stopping the
 * listener, closing a consumer) is not timed, for any of them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OperationsPerInvocation(KafkaBenchmark.RECORDS)
public class KafkaBenchmark {

    static final int RECORDS = 200_000;
    private static final String TOPIC = "bench";
    private static final int PARTITIONS = 3;
    static final long CHECK_EVERY_MS = 5;
    private static final Duration LIMIT = Duration.ofSeconds(300);
    private static final Duration POLL = Duration.ofMillis(100);

    /** Records buffered per partition before Ferry pauses it. */
    @org.openjdk.jmh.annotations.Param({"5000"})
    public int buffered;

    private KafkaClusterTestKit kafka;
    private String bootstrap;
    private Admin admin;
    /** The offset after the last record of each partition: where a finished group's commits stand. */
    private Map<TopicPartition, Long> endOffsets;
    private Listener listener;
    private KafkaSource source;
    private BareLoop bare;

    @Setup(Level.Trial)
    public void start() throws Exception {
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        var nodes = new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build();
        kafka = new KafkaClusterTestKit.Builder(nodes).setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("offsets.topic.replication.factor", "1").build();
        kafka.format();
        kafka.startup();
        kafka.waitForReadyBrokers();
        bootstrap = kafka.bootstrapServers();
        admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
        produce();
        endOffsets = readEndOffsets();
    }

    private void produce() throws Exception {
        byte[] value = Payloads.load("mturk-one");
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.BATCH_SIZE_CONFIG, 262_144),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            var futures = new ArrayList<Future<?>>();
            for (int i = 0; i < RECORDS; i++) {
                futures.add(producer.send(new ProducerRecord<>(TOPIC, ("HIT-" + (i % 100)).getBytes(StandardCharsets.UTF_8), value)));
            }
            for (var f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
    }

    private Map<TopicPartition, Long> readEndOffsets() throws Exception {
        var latest = new HashMap<TopicPartition, OffsetSpec>();
        for (int p = 0; p < PARTITIONS; p++) {
            latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
        }
        var ends = new HashMap<TopicPartition, Long>();
        admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> ends.put(tp, info.offset()));
        long total = ends.values().stream().mapToLong(Long::longValue).sum();
        // "committed at the end offsets" must mean "every record read": no gaps (control records) in the log
        if (total != RECORDS) {
            throw new IllegalStateException("the topic's end offsets add up to " + total + ", not " + RECORDS + ": " + ends);
        }
        return Map.copyOf(ends);
    }

    @TearDown(Level.Invocation)
    public void stopContender() throws InterruptedException {
        if (listener != null) {
            listener.stop();
            listener = null;
        }
        if (source != null) {
            source.close();
            source = null;
        }
        if (bare != null) {
            bare.stop();
            bare = null;
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        admin.close();
        kafka.close();
    }

    @Benchmark
    public void ferry() throws InterruptedException {
        String group = "ferry-" + UUID.randomUUID();
        source = KafkaSource.builder(bootstrap, group, List.of(TOPIC)).maxBufferedPerPartition(buffered).build().start();
        listener = Listener.builder(source, source, d -> Decoded.of(List.of(Event.of(d.id(), "bench", d.body()))),
                        (event, delivery) -> Outcome.done())
                .config(ListenerConfig.builder().pollers(1).batchSize(500).maxInFlight(3 * buffered).concurrency(4)
                        .pollWait(Duration.ofMillis(100)).lease(Duration.ofSeconds(60)).build())
                .build().start();
        // settlement is not the end: the source commits later, on its consumer thread; wait for the broker
        awaitCommitted(group, "Ferry", () -> { });
    }

    @Benchmark
    public void bareConsumer() throws InterruptedException {
        String group = "bare-" + UUID.randomUUID();
        bare = new BareLoop("bare-commitSync", consumerConfig(group), (consumer, stopping) -> {
            consumer.subscribe(Set.of(TOPIC));
            long read = 0;
            while (read < RECORDS && !stopping.getAsBoolean()) {
                var records = consumer.poll(POLL);
                read += records.count();
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
            }
        });
        awaitCommitted(group, "the bare commitSync loop", bare::checkAlive);
    }

    @Benchmark
    public void bareLoopCommitAsync() throws InterruptedException {
        String group = "bare-async-" + UUID.randomUUID();
        bare = new BareLoop("bare-commitAsync", consumerConfig(group), (consumer, stopping) -> {
            consumer.subscribe(Set.of(TOPIC));
            // written only by commit callbacks, which run inside poll() on this thread
            var confirmed = new HashMap<TopicPartition, OffsetAndMetadata>();
            int[] pending = {0};
            OffsetCommitCallback onCommit = (offsets, exception) -> {
                pending[0]--;
                if (exception == null) {
                    offsets.forEach((tp, o) -> confirmed.merge(tp, o, (a, b) -> a.offset() >= b.offset() ? a : b));
                }
            };
            long read = 0;
            // the records are done when a successful commit covers them, not when they were polled
            while (!coversEnd(confirmed) && !stopping.getAsBoolean()) {
                var records = consumer.poll(POLL);
                read += records.count();
                // a failed last commit is not retried by anything else: commit the positions again
                if (!records.isEmpty() || (read >= RECORDS && pending[0] == 0)) {
                    pending[0]++;
                    consumer.commitAsync(onCommit);
                }
            }
        });
        awaitCommitted(group, "the bare commitAsync loop", bare::checkAlive);
    }

    private Map<String, Object> consumerConfig(String group) {
        return Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    }

    /**
     * Returns when the broker has {@code group}'s committed offsets at the end of every partition:
     * the point where every contender's clock stops. Asks every {@value #CHECK_EVERY_MS} ms, up to
     * {@link #LIMIT}; {@code alive} throws when the contender died, so a failure is not a 300 s wait.
     */
    private void awaitCommitted(String group, String who, Runnable alive) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        Map<TopicPartition, OffsetAndMetadata> committed = Map.of();
        Exception lastError = null;
        while (true) {
            alive.run();
            try {
                committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                        .get(10, TimeUnit.SECONDS);
                if (coversEnd(committed)) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                lastError = e;     // e.g. the group is not known to the coordinator yet: ask again
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(who + " did not commit to the end of the topic in " + LIMIT.toSeconds()
                        + " s: committed " + committed + ", end offsets " + endOffsets
                        + (lastError == null ? "" : ", last error " + lastError));
            }
            Thread.sleep(CHECK_EVERY_MS);
        }
    }

    /** Whether {@code committed} reaches the end offset of every partition (no entry, or null: nothing committed). */
    private boolean coversEnd(Map<TopicPartition, OffsetAndMetadata> committed) {
        for (var end : endOffsets.entrySet()) {
            var offset = committed.get(end.getKey());
            if (offset == null || offset.offset() < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    /**
     * A bare consumer loop on its own thread, so the benchmark thread waits for it exactly as it
     * waits for Ferry's threads. The consumer stays in the group after its loop until {@link #stop},
     * as Ferry's source does: leaving the group is not timed for either.
     */
    private static final class BareLoop {

        /** The loop; {@code stopping} turns true when the invocation is torn down. */
        interface Body {
            void run(KafkaConsumer<byte[], byte[]> consumer, BooleanSupplier stopping);
        }

        private final CountDownLatch teardown = new CountDownLatch(1);
        private final Thread thread;
        private volatile Exception failure;

        BareLoop(String name, Map<String, Object> config, Body body) {
            thread = Thread.ofPlatform().name(name).start(() -> {
                try (var consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                    body.run(consumer, () -> teardown.getCount() == 0);
                    teardown.await(LIMIT.toSeconds(), TimeUnit.SECONDS);
                } catch (Exception e) {
                    failure = e;
                }
            });
        }

        void checkAlive() {
            var f = failure;
            if (f != null) {
                throw new IllegalStateException(thread.getName() + " failed: " + f, f);
            }
        }

        void stop() throws InterruptedException {
            teardown.countDown();
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }
    }
}
