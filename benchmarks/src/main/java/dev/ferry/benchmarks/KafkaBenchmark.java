package dev.ferry.benchmarks;

import dev.ferry.adapters.kafka.KafkaSource;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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
 * in-JVM KRaft broker, read by a fresh consumer group per invocation: through Ferry's Kafka source +
 * the engine + a no-op handler (commits after settlement), against a bare {@code KafkaConsumer}
 * poll + {@code commitSync} loop. One operation = one record.
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

    /** Records buffered per partition before Ferry pauses it. */
    @org.openjdk.jmh.annotations.Param({"5000"})
    public int buffered;

    private KafkaClusterTestKit kafka;
    private String bootstrap;
    private Listener listener;
    private KafkaSource source;

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
        try (var admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
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

    @TearDown(Level.Invocation)
    public void stopListener() {
        if (listener != null) {
            listener.stop();
            source.close();
            listener = null;
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        kafka.close();
    }

    @Benchmark
    public void ferry() throws InterruptedException {
        var settled = new CountDownLatch(RECORDS);
        source = KafkaSource.builder(bootstrap, "ferry-" + UUID.randomUUID(), List.of(TOPIC))
                .maxBufferedPerPartition(buffered).build().start();
        listener = Listener.builder(source, source, d -> Decoded.of(List.of(Event.of(d.id(), "bench", d.body()))),
                        (event, delivery) -> Outcome.done())
                .config(ListenerConfig.builder().pollers(1).batchSize(500).maxInFlight(3 * buffered).concurrency(4)
                        .pollWait(Duration.ofMillis(100)).lease(Duration.ofSeconds(60)).build())
                .observer(new ListenerObserver() {
                    @Override
                    public void settled(Delivery delivery, Disposition disposition) {
                        settled.countDown();
                    }
                })
                .build().start();
        if (!settled.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException("Ferry read only " + (RECORDS - settled.getCount()));
        }
    }

    @Benchmark
    public long bareConsumer() {
        long read = 0;
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "bare-" + UUID.randomUUID(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(Set.of(TOPIC));
            while (read < RECORDS) {
                var records = consumer.poll(Duration.ofMillis(100));
                read += records.count();
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
            }
        }
        return read;
    }
}
