package dev.ferry.adapters.kafka;

import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.OpenedSource;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.spi.Settings;
import java.util.List;
import java.util.Map;

/**
 * A {@code kafka:} source section.
 *
 * <pre>
 * kafka:
 *   bootstrap-servers: 127.0.0.1:9092
 *   topics: [orders]
 *   group-id: ferry-orders
 *   dead-letter-suffix: .dlq        # poison records go to &lt;topic&gt;.dlq
 *   max-buffered-per-partition: 5000
 *   max-buffered-bytes-per-partition: 16777216   # 16 MiB: key + value + headers in hand per partition
 *   properties: {security.protocol: SSL}   # any other consumer/producer setting
 *                                          # (interceptor.classes: each client takes those of its own kind)
 * </pre>
 */
public record KafkaSourceConfig(String name, String bootstrapServers, List<String> topics, String groupId,
                                String deadLetterSuffix, int maxBufferedPerPartition, Map<String, String> properties,
                                long maxBufferedBytesPerPartition)
        implements Plan<OpenedSource> {

    /**
     * The largest record value a Kafka source's decoder reads in the packaged app: the most a Ferry Kafka sink writes
     * (about 100 MiB, under a broker's request limit). A topic's own {@code max.message.bytes} bounds what it holds.
     */
    public static final int MAX_RECORD_BYTES = KafkaParkedGroupMover.MAX_RECORD;

    /** The byte cap's default: 16 MiB per partition. */
    public static final long DEFAULT_MAX_BUFFERED_BYTES_PER_PARTITION = 16L * 1024 * 1024;

    /** The settings before the byte cap: {@link #DEFAULT_MAX_BUFFERED_BYTES_PER_PARTITION}. */
    public KafkaSourceConfig(String name, String bootstrapServers, List<String> topics, String groupId,
                             String deadLetterSuffix, int maxBufferedPerPartition, Map<String, String> properties) {
        this(name, bootstrapServers, topics, groupId, deadLetterSuffix, maxBufferedPerPartition, properties,
                DEFAULT_MAX_BUFFERED_BYTES_PER_PARTITION);
    }

    public static KafkaSourceConfig read(Settings s) {
        String servers = s.required("bootstrap-servers");
        var topics = s.strings("topics");
        if (topics.isEmpty()) {
            s.problem("topics", "at least one topic is needed (topics: [NAME, ...])");
        }
        String groupId = s.string("group-id", "ferry-" + s.name());
        String suffix = s.string("dead-letter-suffix", ".dlq");
        if (suffix.isEmpty()) {
            s.problem("dead-letter-suffix", "must not be empty: the dead-letter topic would be the topic itself");
        }
        int buffered = s.integer("max-buffered-per-partition", 5000, 10, 1_000_000);
        long bufferedBytes = s.integer("max-buffered-bytes-per-partition", (int) DEFAULT_MAX_BUFFERED_BYTES_PER_PARTITION,
                1024, Integer.MAX_VALUE);
        var properties = s.map("properties");
        if (properties.containsKey("bootstrap.servers")) { // the consumer took it; the loop check, releases and test events not
            s.problem("properties", "'bootstrap.servers' is set by 'bootstrap-servers': say the cluster there, once");
        }
        for (String fixed : List.of("enable.auto.commit", "group.id", "key.deserializer", "value.deserializer")) {
            if (properties.containsKey(fixed)) {
                s.problem("properties", "'" + fixed + "' is Ferry's to set (offsets are committed only past settled records)");
            }
        }
        for (String fixed : List.of("acks", "enable.idempotence", "transactional.id")) { // the properties go to the dead-letter producer too
            if (properties.containsKey(fixed) && !restatesFerrys(fixed, properties.get(fixed))) {
                s.problem("properties", "'" + fixed + "' is Ferry's to set for the dead-letter producer (acks=all with "
                        + "idempotence, no transactions: a record is committed past only once its copy is safe)");
            }
        }
        for (var refused : safetyUndone(properties)) {
            s.problem("properties", refused);
        }
        return new KafkaSourceConfig(s.name(), servers, topics, groupId, suffix, buffered, properties, bufferedBytes);
    }

    /**
     * What in {@code properties} would undo a consumer setting the promise rests on, each said with why: accepted, they
     * were applied over Ferry's own — records skipped, or handled twice — without a word.
     */
    static List<String> safetyUndone(java.util.Map<String, String> properties) {
        var refused = new java.util.ArrayList<String>();
        String reset = properties.get("auto.offset.reset");
        if (reset != null && !reset.trim().equalsIgnoreCase("earliest") && !reset.trim().equalsIgnoreCase("none")) {
            refused.add("'auto.offset.reset: " + reset.trim() + "' would skip, without a word, every retained record of a "
                    + "group with no committed offset (a first start, a renamed source, offsets expired or past retention): "
                    + "Ferry reads from the earliest ('none' fails instead); to start a new group at the end, set its "
                    + "offsets first (kafka-consumer-groups --reset-offsets --to-latest --execute)");
        }
        String isolation = properties.get("isolation.level");
        if (isolation != null && !isolation.trim().equalsIgnoreCase("read_committed")) {
            refused.add("'isolation.level: " + isolation.trim() + "' would hand out records of aborted transactions, which "
                    + "never happened: Ferry reads read_committed");
        }
        String strategy = properties.get("partition.assignment.strategy");
        if (strategy != null) {
            // the cooperative one first: a group moved from an eager assignor by rolling restarts lists the old one after
            // it for the first round (KIP-429; refused, a group of RangeAssignor members could not take a new one)
            String first = java.util.Arrays.stream(strategy.split(",")).map(String::trim).filter(n -> !n.isEmpty())
                    .findFirst().orElse("");
            if (!first.isEmpty() && !first.endsWith("CooperativeStickyAssignor") && !first.equals("cooperative-sticky")) {
                refused.add("'partition.assignment.strategy' names " + first + " first: an eager assignor takes every "
                        + "partition back at each rebalance, and the records in hand run twice; Ferry uses the "
                        + "CooperativeStickyAssignor (leave the property out; to move a group off an eager assignor by "
                        + "rolling restarts, list it after CooperativeStickyAssignor for the first round)");
            } else if (!strategy.replaceAll("[\\s,]|[^\\s,]*CooperativeStickyAssignor|cooperative-sticky", "").isEmpty()) {
                // a consumer keeps the protocol every assignor it lists supports: eager, while an eager one is listed
                org.slf4j.LoggerFactory.getLogger(KafkaSource.class).warn("'partition.assignment.strategy' lists an eager "
                        + "assignor after the cooperative one ({}): right for the first round of a rolling move off it, "
                        + "but while it is listed the consumer rebalances eagerly — every partition taken back each time, "
                        + "the records in hand read again. Once every member runs this list, leave the property out in a "
                        + "second round", strategy.trim());
            }
        }
        refused.addAll(keyOrderUndone(properties)); // the source's properties go to its dead-letter and release producers
        return refused;
    }

    /**
     * Producer settings that spread one key's records over partitions: a sink's group written out of order, a
     * release's records of one key sent back to several partitions and run at once, out of order.
     */
    static List<String> keyOrderUndone(java.util.Map<String, String> properties) {
        var refused = new java.util.ArrayList<String>();
        String ignoreKeys = properties.get("partitioner.ignore.keys");
        if (ignoreKeys != null && ignoreKeys.trim().equalsIgnoreCase("true")) {
            refused.add("'partitioner.ignore.keys: true' spreads one key's records over partitions, where they are read "
                    + "out of order: Ferry keeps a key's records in one (leave it out)");
        }
        String partitioner = properties.get("partitioner.class");
        if (partitioner != null && partitioner.trim().endsWith("RoundRobinPartitioner")) {
            refused.add("'partitioner.class' names " + partitioner.trim() + ", which spreads one key's records over "
                    + "partitions, where they are read out of order: Ferry keeps a key's records in one (leave it out)");
        }
        return refused;
    }

    /**
     * A partitioner that spreads one key over partitions: a key's dead letters in several, and a release, which reads
     * one partition's in order, sends them back out of order. Refused as the source's file refuses it (for the dead-letter producer).
     */
    static void refuseKeySpreading(java.util.Map<String, Object> config) {
        for (String key : List.of("partitioner.class", "partitioner.ignore.keys")) {
            Object v = config.get(key);
            var undone = v == null ? List.<String>of() : keyOrderUndone(key, v);
            if (!undone.isEmpty()) {
                throw new IllegalArgumentException("the dead-letter producer's " + undone.getFirst());
            }
        }
    }

    /** {@link #keyOrderUndone(java.util.Map)} of one setting an embedder gives in code: a class or text. */
    static List<String> keyOrderUndone(String key, Object value) {
        return keyOrderUndone(java.util.Map.of(key, settingText(value)));
    }

    /** {@link #safetyUndone(java.util.Map)} of one setting an embedder gives in code: a class, a list of them, or text. */
    static List<String> safetyUndone(String key, Object value) {
        String text = value instanceof java.util.Collection<?> all
                ? all.stream().map(KafkaSourceConfig::settingText).collect(java.util.stream.Collectors.joining(","))
                : settingText(value);
        return safetyUndone(java.util.Map.of(key, text));
    }

    private static String settingText(Object value) {
        return value instanceof Class<?> type ? type.getName() : String.valueOf(value);
    }

    /** Whether {@code value} of the dead-letter producer's {@code key} is what Ferry sets anyway (acks=all, idempotence on). */
    static boolean restatesFerrys(String key, Object value) {
        String v = String.valueOf(value).trim();
        return switch (key) {
            case "acks" -> v.equalsIgnoreCase("all") || v.equals("-1");
            case "enable.idempotence" -> v.equalsIgnoreCase("true");
            default -> false;
        };
    }

    @Override
    public OpenedSource open(AdapterContext context) {
        var builder = KafkaSource.builder(bootstrapServers, groupId, topics).name(name)
                .deadLetterTopic(topic -> topic + deadLetterSuffix).maxBufferedPerPartition(maxBufferedPerPartition)
                .maxBufferedBytesPerPartition(maxBufferedBytesPerPartition);
        // each client its own interceptors: one of the other kind named in interceptor.classes fails a client's start
        ClientConfigs.forConsumer(properties).forEach(builder::consumerConfig);
        ClientConfigs.forProducer(properties).forEach(builder::producerConfig);
        var source = builder.build().start();
        return OpenedSource.of(source, "kafka " + bootstrapServers + " topics " + topics + " group " + groupId);
    }

    /**
     * What releases a parked key of this source: its parked records moved from the dead-letter
     * topics back to the topics they came from, in order ({@code ferry groups release}).
     */
    public dev.ferry.domain.parking.GroupParker.Mover parkedGroupMover() {
        var config = new java.util.HashMap<String, Object>(properties);
        config.put("bootstrap.servers", bootstrapServers);
        return new KafkaParkedGroupMover(config, topics, topic -> topic + deadLetterSuffix, name);
    }
}
