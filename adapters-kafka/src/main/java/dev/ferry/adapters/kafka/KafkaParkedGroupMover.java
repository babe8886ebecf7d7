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
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
 * the order they were dead-lettered in, each with the release's token and number, one at a time and
 * acknowledged before the next. A dead-letter topic cannot be emptied, so how far each key has been
 * moved is kept as the committed offsets of a consumer group of its own
 * ({@code ferry-release-<source>-<hash of the key>}), committed after the records were produced (a
 * crash in between sends some again, which the ledger then drops as duplicates); and only records
 * dead-lettered since the group was parked are moved, so a lost cursor (Kafka expires the offsets
 * of an idle group after a week) does not send an earlier park's records again.
 */
final class KafkaParkedGroupMover implements GroupParker.Mover {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    /**
     * How far a dead-letter record's time may run behind the park's own (another instance's clock,
     * NTP-synchronised), for records that do not name the park's head ({@link #HEAD_SKEW} for those);
     * records of an earlier park dead-lettered less than this before the current one are moved again
     * if the key's cursor was lost too (the ledger drops them as duplicates within its TTL).
     */
    static final Duration CLOCK_SKEW = Duration.ofSeconds(1);
    /** How far the time of a record naming the park's head may run behind the park's own. */
    static final Duration HEAD_SKEW = Duration.ofHours(1);

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

    /**
     * The release's producer: every write acknowledged by all replicas, idempotent, and given up by the
     * producer itself before {@link KafkaDeadLetters#waitedPastDelivery} stops waiting for it — a write
     * waited for 30 s of the producer's 120 was reported "not moved, release it again" while the
     * producer, closed without a bound, went on trying and landed it: the release sent it twice.
     */
    static Map<String, Object> producerConfig(Map<String, Object> clientConfig) {
        var producerConfig = new HashMap<>(clientConfig);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        KafkaDeadLetters.waitedPastDelivery(producerConfig);
        return producerConfig;
    }

    @Override
    public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
        var consumerConfig = new HashMap<>(clientConfig);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, releaseGroup(parked.group()));
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        var producerConfig = producerConfig(clientConfig);
        var sendWait = KafkaDeadLetters.waitedPastDelivery(producerConfig);
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
            var found = parkedRecords(consumer, partitions, parked);
            return produceBack(consumer, producer, sendWait, found, parked, token, skipHead);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FerryException("the release of key " + parked.group() + " was interrupted", e, true);
        } catch (RuntimeException e) {
            if (e instanceof FerryException) {
                throw e;
            }
            // read failed: nothing was produced (records go back only after the whole read), so nothing is counted
            throw new FerryException("reading the dead letters of key " + parked.group() + " of '" + source + "' failed: "
                    + e.getMessage(), e, true);
        }
    }

    /** One parked record of the key, where it is in the dead-letter topic. */
    private record Parked(ConsumerRecord<byte[], byte[]> record, String reason) {
    }

    /** The longest a release reads its dead-letter partitions without getting a record before it gives up. */
    static final Duration READ_LIMIT = Duration.ofMinutes(2);

    /** What the partitions hold of the key's parked records (of this park: not older), and every partition's end. */
    private record Found(List<Parked> records, Map<TopicPartition, Long> ends) {
    }

    /**
     * Reads every partition to its end as it was when the read began, keeping the key's records that
     * were parked with it since the group was parked — older ones (of an earlier park, its cursor
     * lost) are not this release's — in the order they were dead-lettered (their timestamps; a key's
     * dead letters of one topic are in one partition, in order, but a source may read several topics).
     */
    private Found parkedRecords(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions, ParkedGroup parked) {
        var end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        long since = parked.since().toEpochMilli() - CLOCK_SKEW.toMillis();
        var records = new ArrayList<Parked>();
        // a limit on a read that stalls, not on a long one: a dead-letter topic too big to read in the limit (a backlog,
        // a slow link) was never released, each release starting over from the same place
        var stalled = new ReadDeadline(READ_LIMIT, System::nanoTime);
        while (partitions.stream().anyMatch(p -> consumer.position(p, Duration.ofSeconds(30)) < end.get(p))) {
            if (stalled.passed()) {
                // a partition offline, or cut below the end it had (an unclean election): the read would never end, and
                // the operator's release would hang with it
                throw new FerryException("reading the dead-letter topic of group " + parked.group() + " got nothing for "
                        + READ_LIMIT.toSeconds() + " s short of its end (a partition offline?); nothing was moved, release "
                        + "it again", true);
            }
            var polled = consumer.poll(Duration.ofMillis(500));
            for (var record : polled) { // progress is a record short of its partition's end: later ones are not the read's
                Long endOf = end.get(new TopicPartition(record.topic(), record.partition()));
                if (endOf != null && record.offset() < endOf) {
                    stalled.progressed();
                    break;
                }
            }
            for (var record : polled) {
                // keys are compared as the source reads them
                if (record.key() == null || !parked.group().equals(KafkaKeys.text(record.key()))) {
                    continue;
                }
                String reason = header(record.headers(), DeadLetterAttributes.REASON);
                // of this park: dated since it, or naming its head and dated within an hour before — the park's time is
                // the parking instance's clock, a record's the producer's or the broker's (an earlier park with the
                // same head, its cursor lost, is a week old: Kafka keeps an idle group's offsets that long)
                if (GroupParker.parkedWith(reason, parked.group()) && (record.timestamp() >= since
                        || ofHead(reason, parked) && record.timestamp() >= since - HEAD_SKEW.toMillis())) {
                    records.add(new Parked(record, reason));
                }
            }
        }
        dropSecondCopies(records);
        // one partition (one topic: the key's records are in one): its offsets are the dead-letter order, whatever the
        // clocks of the instances that wrote them; several: merged by time, each partition's own order kept
        boolean onePartition = records.stream().map(p -> new TopicPartition(p.record().topic(), p.record().partition()))
                .distinct().count() <= 1;
        if (onePartition) {
            records.sort(java.util.Comparator.comparingLong(p -> p.record().offset()));
        } else {
            records.sort(java.util.Comparator.comparingLong((Parked p) -> p.record().timestamp())
                    .thenComparing(p -> p.record().topic()).thenComparingInt(p -> p.record().partition())
                    .thenComparingLong(p -> p.record().offset()));
        }
        inSourceOrder(records);
        return new Found(records, end);
    }

    /** Whether a dead letter's reason says it was parked with {@code parked}'s head: the head itself, or behind it. */
    private static boolean ofHead(String reason, ParkedGroup parked) {
        var behind = GroupParker.behind(parked); // its reason's start, then the head's reason
        return GroupParker.isHead(reason, parked) || reason != null
                && reason.startsWith(behind.substring(0, behind.length() - parked.reason().length()));
    }

    /**
     * Within each source partition, the records go back in the order they were read there — not the
     * order their dead letters were written: the head's write that failed once was made again a second
     * later, behind the copies of the key's later records, and the release sent those first. The
     * places each source partition's records hold in the list are kept, refilled by source offset.
     */
    private static void inSourceOrder(List<Parked> records) {
        var places = new java.util.LinkedHashMap<String, List<Integer>>();
        for (int i = 0; i < records.size(); i++) {
            var h = records.get(i).record().headers();
            if (sourceOffset(records.get(i)) >= 0) {
                places.computeIfAbsent(header(h, DeadLetterAttributes.SOURCE) + "-" + header(h, KafkaSource.PARTITION),
                        k -> new ArrayList<>()).add(i);
            }
        }
        for (var at : places.values()) {
            var inOrder = at.stream().map(records::get).sorted(java.util.Comparator.comparingLong(KafkaParkedGroupMover::sourceOffset))
                    .toList();
            for (int j = 0; j < at.size(); j++) {
                records.set(at.get(j), inOrder.get(j));
            }
        }
    }

    /** The offset a dead letter's record had in its source partition; -1 when its header is missing or not a number. */
    private static long sourceOffset(Parked parked) {
        String offset = header(parked.record().headers(), KafkaSource.OFFSET);
        try {
            return offset == null ? -1 : Long.parseLong(offset);
        } catch (NumberFormatException foreign) {
            return -1;
        }
    }

    /**
     * A record dead-lettered twice (the write that timed out and landed after all, a revoke racing the
     * write) has two copies in the topic: only the first is moved back, or it would run twice. Copies
     * are the same record when they name the same place in the same source topic.
     */
    private static void dropSecondCopies(List<Parked> records) {
        var seen = new java.util.HashSet<String>();
        records.sort(java.util.Comparator.comparingLong((Parked p) -> p.record().offset()));
        records.removeIf(p -> {
            var h = p.record().headers();
            String place = header(h, DeadLetterAttributes.SOURCE) + "-" + header(h, KafkaSource.PARTITION) + "@"
                    + header(h, KafkaSource.OFFSET);
            return header(h, KafkaSource.OFFSET) != null && !seen.add(p.record().topic() + "-" + p.record().partition()
                    + ":" + place);
        });
    }

    /**
     * Produces the records back in order, one at a time; on a failure stops there. Then commits, per
     * partition, up to the first record not produced (or the end that was read), so the next release
     * takes up exactly there.
     */
    private GroupParker.Moved produceBack(KafkaConsumer<byte[], byte[]> consumer, KafkaProducer<byte[], byte[]> producer, Duration sendWait,
                                          Found found, ParkedGroup parked, String token, boolean skipHead)
            throws InterruptedException {
        long counted = 0;
        long redriven = 0;
        String problem = null;
        var firstLeft = new HashMap<TopicPartition, Long>();
        for (var p : found.records()) {
            var record = p.record();
            var partition = new TopicPartition(record.topic(), record.partition());
            if (problem != null) {
                firstLeft.merge(partition, record.offset(), Math::min);
                continue;
            }
            if (skipHead && GroupParker.isHead(p.reason(), parked)) {
                counted++;
                continue;
            }
            String topic = header(record.headers(), DeadLetterAttributes.SOURCE);
            ConsumerRecord<byte[], byte[]> original;
            try {
                original = header(record.headers(), KafkaSource.VALUE_OMITTED) == null ? record : original(topic, record);
            } catch (RuntimeException e) {
                problem = "the record " + record.topic() + "-" + record.partition() + "@" + record.offset() + " was dead-lettered "
                        + "without its value (too large for the dead-letter topic) and could not be read from its topic: "
                        + e.getMessage() + "; nothing after it was moved";
                firstLeft.merge(partition, record.offset(), Math::min);
                continue;
            }
            var headers = new RecordHeaders();
            for (var h : original.headers()) {
                if (!h.key().startsWith(DeadLetterAttributes.PREFIX) && !h.key().equals(GroupParker.RELEASE_ATTRIBUTE)) {
                    headers.add(h);
                }
            }
            headers.add(GroupParker.RELEASE_ATTRIBUTE, GroupParker.releaseValue(token, parked.redriven() + redriven + 1)
                    .getBytes(StandardCharsets.UTF_8));
            // what the source records it under: the same for every time this dead letter is moved back (a crash
            // before the cursor was committed sends it again, and the ledger then drops it as a duplicate)
            headers.remove(KafkaSource.ORIGIN);
            headers.add(KafkaSource.ORIGIN, KafkaDeliveries.origin(topic, record).getBytes(StandardCharsets.UTF_8));
            try {
                producer.send(new ProducerRecord<>(topic, null, record.key(), original.value(), headers))
                        .get(sendWait.toMillis(), TimeUnit.MILLISECONDS);
                counted++;
                redriven++;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                problem = "producing to " + topic + " failed: " + e + "; nothing after it was moved, release it again";
                firstLeft.merge(partition, record.offset(), Math::min);
            }
        }
        var positions = new HashMap<TopicPartition, OffsetAndMetadata>();
        found.ends().forEach((p, end) -> positions.put(p, new OffsetAndMetadata(firstLeft.getOrDefault(p, end))));
        try {
            consumer.commitSync(positions, Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            // not committed: the next release reads them again; what it sends twice, the ledger drops as duplicates
            problem = problem != null ? problem : "the records were produced back, but how far could not be recorded: " + e;
        }
        return new GroupParker.Moved(counted, redriven, problem);
    }

    /**
     * The record a dead-letter copy without its value stands for (see {@link KafkaSource#VALUE_OMITTED}),
     * read from where the copy says it is in its source topic; refused when the topic no longer has it.
     */
    private ConsumerRecord<byte[], byte[]> original(String topic, ConsumerRecord<byte[], byte[]> copy) {
        var partition = new TopicPartition(topic, Integer.parseInt(header(copy.headers(), KafkaSource.PARTITION)));
        long offset = Long.parseLong(header(copy.headers(), KafkaSource.OFFSET));
        var config = new HashMap<>(clientConfig);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (var consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            if (offset < consumer.beginningOffsets(List.of(partition), READ_TIMEOUT).get(partition)) {
                throw new IllegalStateException(partition + "@" + offset + " is gone from the topic (its retention)");
            }
            consumer.seek(partition, offset);
            long end = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (System.nanoTime() < end) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.offset() == offset) {
                        return record;
                    }
                    throw new IllegalStateException(partition + "@" + offset + " is gone from the topic (compacted)");
                }
            }
            throw new IllegalStateException(partition + "@" + offset + " was not read within " + READ_TIMEOUT.toSeconds() + " s");
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
