package dev.ferry.adapters.kafka;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** One in-JVM KRaft broker (combined mode) for the whole test run, stopped when the run ends. */
public final class KafkaBroker implements BeforeAllCallback {

    private static volatile Cluster cluster;

    record Cluster(KafkaClusterTestKit kit, Admin admin) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            admin.close();
            kit.close();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent("kafka", key -> start(), Cluster.class);
    }

    private static Cluster start() {
        try {
            var nodes = new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build();
            var kit = new KafkaClusterTestKit.Builder(nodes)
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("auto.create.topics.enable", "false")
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .build();
            kit.format();
            kit.startup();
            kit.waitForReadyBrokers();
            return new Cluster(kit, kit.admin());
        } catch (Exception e) {
            throw new IllegalStateException("the in-JVM Kafka broker did not start", e);
        }
    }

    public static String bootstrap() {
        return cluster.kit().bootstrapServers();
    }

    public static String topic(String prefix, int partitions) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        create(name, partitions);
        return name;
    }

    public static void create(String name, int partitions) {
        create(name, partitions, Map.of());
    }

    /** A topic with settings of its own (e.g. {@code max.message.bytes}). */
    public static void create(String name, int partitions, Map<String, String> configs) {
        try {
            cluster.admin().createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
                    .all().get(60, TimeUnit.SECONDS);
            awaitLeaders(name, partitions);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e, e);
        }
    }

    /**
     * The controller answers a creation before the broker leads the new partitions; a producer
     * started in between waits for metadata, which on a loaded machine once outlasted a test's wait.
     */
    private static void awaitLeaders(String name, int partitions) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                var description = cluster.admin().describeTopics(List.of(name)).allTopicNames().get(10, TimeUnit.SECONDS).get(name);
                if (description.partitions().size() == partitions
                        && description.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    return;
                }
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException)) {
                    throw e;
                }
            }
            if (System.nanoTime() > end) {
                throw new IllegalStateException("no leader for every partition of " + name + " after 60 s");
            }
            Thread.sleep(50);
        }
    }

    /** The broker's directory of a partition's log segments ({@code <topic>-<partition>} in one of its log dirs). */
    public static Path partitionDirectory(String topic, int partition) {
        for (var node : cluster.kit().nodes().brokerNodes().values()) {
            for (var logDir : node.logDataDirectories()) {
                var directory = Path.of(logDir, topic + "-" + partition);
                if (Files.isDirectory(directory)) {
                    return directory;
                }
            }
        }
        throw new IllegalStateException("no log directory of " + topic + "-" + partition + " on the broker");
    }

    public static KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 110_000), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Writes every record once (an idempotent producer), waiting up to two minutes in all on a loaded machine. */
    public static void produce(String topic, List<String[]> keyValues) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (var producer = producer()) {
            var futures = new ArrayList<java.util.concurrent.Future<?>>();
            for (var kv : keyValues) {
                futures.add(producer.send(new ProducerRecord<>(topic, kv[0] == null ? null : kv[0].getBytes(StandardCharsets.UTF_8),
                        kv[1].getBytes(StandardCharsets.UTF_8))));
            }
            for (var f : futures) {
                f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot produce to " + topic + ": " + e, e);
        }
    }

    /** Everything in {@code topic} from the beginning, waiting up to 10 s for at least {@code count}. */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int count) {
        var all = new ArrayList<ConsumerRecord<byte[], byte[]>>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(Set.of(topic));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < end && all.size() < count) {
                consumer.poll(Duration.ofMillis(200)).forEach(all::add);
            }
            // a little longer, to see anything beyond the count (duplicates)
            consumer.poll(Duration.ofMillis(500)).forEach(all::add);
        }
        return all;
    }

    public static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
