package dev.ferry.adapters.kafka;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Releases a parked key of a Kafka source ({@code ferry groups release}, through
 * {@link KafkaSourceConfig#parkedGroupMover}): reads the dead-letter topics from where the key's last
 * release stopped, and produces the key's parked records back to the topic each came from, in
 * their order (a key's dead letters are in one partition), each with the release's token and
 * number, one at a time and acknowledged before the next. A dead-letter topic cannot be emptied,
 * so how far each key has been moved is kept as the committed offsets of a consumer group of its
 * own ({@code ferry-release-<source>-<hash of the key>}), committed after the records were produced:
 * a crash in between sends some again, which the ledger then drops as duplicates.
 */
final class KafkaParkedGroupMover implements GroupParker.Mover {

    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    private final Map<String, Object> clientConfig;
    private final List<String> topics;
    private final UnaryOperator<String> deadLetterTopic;
    private final String source;

    KafkaParkedGroupMover(Map<String, Object> clientConfig, List<String> topics, UnaryOperator<String> deadLetterTopic,
                          String source) {
        this.clientConfig = clientConfig;
        this.topics = topics;
        this.deadLetterTopic = deadLetterTopic;
        this.source = source;
    }

    @Override
    public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
        var consumerConfig = new HashMap<>(clientConfig);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, releaseGroup(parked.group()));
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        var producerConfig = new HashMap<>(clientConfig);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        long counted = 0;
        long redriven = 0;
        try (var consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             var producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
            var partitions = new ArrayList<TopicPartition>();
            for (var topic : topics) {
                var info = consumer.partitionsFor(deadLetterTopic.apply(topic), Duration.ofSeconds(30));
                if (info != null) {
                    info.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
                }
            }
            if (partitions.isEmpty()) {
                return new GroupParker.Moved(0, 0);
            }
            consumer.assign(partitions);
            var committed = consumer.committed(new java.util.HashSet<>(partitions), Duration.ofSeconds(30));
            for (var p : partitions) {
                var at = committed.get(p);
                if (at == null) {
                    consumer.seekToBeginning(List.of(p));
                } else {
                    consumer.seek(p, at.offset());
                }
            }
            var end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            byte[] key = parked.group().getBytes(StandardCharsets.UTF_8);
            while (partitions.stream().anyMatch(p -> consumer.position(p, Duration.ofSeconds(30)) < end.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.key() == null || !java.util.Arrays.equals(record.key(), key)) {
                        continue;
                    }
                    String reason = header(record.headers(), DeadLetterAttributes.REASON);
                    if (!GroupParker.parkedWith(reason, parked.group())) {
                        continue; // a dead letter of the key from before it was parked: not this release's to send back
                    }
                    counted++;
                    if (skipHead && GroupParker.isHead(reason, parked)) {
                        continue;
                    }
                    String topic = header(record.headers(), DeadLetterAttributes.SOURCE);
                    var headers = new RecordHeaders();
                    for (var h : record.headers()) {
                        if (!h.key().startsWith(DeadLetterAttributes.PREFIX) && !h.key().equals(GroupParker.RELEASE_ATTRIBUTE)) {
                            headers.add(h);
                        }
                    }
                    headers.add(GroupParker.RELEASE_ATTRIBUTE, GroupParker.releaseValue(token, parked.redriven() + redriven + 1)
                            .getBytes(StandardCharsets.UTF_8));
                    try {
                        producer.send(new ProducerRecord<>(topic, null, record.key(), record.value(), headers))
                                .get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (ExecutionException | TimeoutException e) {
                        commit(consumer, record.topic(), record.partition(), record.offset());
                        return new GroupParker.Moved(counted - 1, redriven, "producing to " + topic + " failed: " + e
                                + "; nothing after it was moved, release it again");
                    }
                    redriven++;
                }
            }
            var positions = new HashMap<TopicPartition, OffsetAndMetadata>();
            for (var p : partitions) {
                positions.put(p, new OffsetAndMetadata(consumer.position(p, Duration.ofSeconds(30))));
            }
            consumer.commitSync(positions, Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FerryException("the release of key " + parked.group() + " was interrupted", e, true);
        } catch (RuntimeException e) {
            if (e instanceof FerryException) {
                throw e;
            }
            throw new FerryException("the release of key " + parked.group() + " of '" + source + "' failed after " + redriven
                    + " record(s): " + e.getMessage(), e, true);
        }
        return new GroupParker.Moved(counted, redriven);
    }

    /** Commits {@code offset} of one partition: the record there is the first not moved. */
    private static void commit(KafkaConsumer<byte[], byte[]> consumer, String topic, int partition, long offset) {
        try {
            consumer.commitSync(Map.of(new TopicPartition(topic, partition), new OffsetAndMetadata(offset)), Duration.ofSeconds(30));
        } catch (RuntimeException ignored) {
            // not committed: the next release sends what this one did again, and the ledger drops the duplicates
        }
    }

    private static String header(org.apache.kafka.common.header.Headers headers, String name) {
        var h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** The consumer group that remembers how far a key's dead letters were moved. */
    String releaseGroup(String key) {
        try {
            var hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return "ferry-release-" + source + "-" + HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
