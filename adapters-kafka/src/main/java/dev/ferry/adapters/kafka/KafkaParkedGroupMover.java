package dev.ferry.adapters.kafka;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Releases a parked key of a Kafka source ({@code ferry groups release}, through
 * {@link KafkaSourceConfig#parkedGroupMover}): reads the dead-letter topics from where the key's last
 * release stopped, and produces the key's parked records back to the topic each came from, in
 * the order they were dead-lettered in, each with the release's token and number, one at a time and
 * acknowledged before the next. A dead-letter topic cannot be emptied, so how far each key has been
 * moved is kept as the committed offsets of a consumer group of its own
 * ({@code ferry-release-<source>-<hash of the key>}), committed after each batch of records was produced (a
 * crash in between sends some again, which the ledger then drops as duplicates), and only then counted
 * ({@link ReleaseBatches}); a move reads on while the key's producer sends ({@link #readOn}). Only records
 * dead-lettered since the group was parked are moved, so a lost cursor (Kafka expires the offsets
 * of an idle group after a week) does not send an earlier park's records again.
 */
final class KafkaParkedGroupMover implements GroupParker.Mover {

    static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    /** Why a move ended on {@link GroupParker.Progress#stopping}: what went back before is counted, the rest waits in order. */
    static final String STOPPING = "Ferry is stopping; release it again to go on";
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
        var producerConfig = ClientConfigs.forProducer(clientConfig); // its own interceptors: a consumer's fails it
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        KafkaDeadLetters.waitedPastDelivery(producerConfig);
        // a record goes back as its topic took it: one whose dead-letter copy kept no value (too large for the dead-letter
        // topic) is read from its topic and sent whole — the producer's own 1 MiB default refused it at every release
        return wholeRecords(producerConfig);
    }

    /**
     * {@code producerConfig} able to send a record as its topic took it, unless set otherwise: up to {@link #MAX_RECORD}
     * (the 1 MiB default refused larger ones the topics allow), compressed (a record written compressed, a 3 MB document
     * in a 200 KB batch, sent back uncompressed was refused against the topic's {@code max.message.bytes}), and a buffer
     * that holds one. For a release's producer and for the source's dead-letter producer alike.
     */
    static Map<String, Object> wholeRecords(Map<String, Object> producerConfig) {
        producerConfig.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_RECORD);
        producerConfig.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        long request = KafkaSink.millis(producerConfig.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), MAX_RECORD);
        if (KafkaSink.millis(producerConfig.get(ProducerConfig.BUFFER_MEMORY_CONFIG), DEFAULT_BUFFER) < request) {
            // a record larger than it is refused as well: a buffer below the request size the user allows (one set for
            // an older request size) is raised to it, as KafkaParkedGroupMoverTest holds
            producerConfig.put(ProducerConfig.BUFFER_MEMORY_CONFIG, request);
        }
        return producerConfig;
    }

    /**
     * The largest record a release sends back unless {@code max.request.size} is set: what a broker of default settings
     * takes in one request ({@code socket.request.max.bytes}). The release sends one record at a time, one it holds
     * already, so the bound costs no memory; the topic's own {@code max.message.bytes} is the broker's to apply.
     */
    static final int MAX_RECORD = 100 * 1024 * 1024 - 64 * 1024; // under socket.request.max.bytes with a request's overhead
    /** The producer's default {@code buffer.memory}, 32 MiB. */
    private static final long DEFAULT_BUFFER = 32L * 1024 * 1024;

    @Override
    public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
        return move(parked, token, skipHead, (counted, redriven) -> { });
    }

    /**
     * Tells {@code progress} each batch once it went back and the key's cursor is committed past it ({@link ReleaseBatches});
     * ends after the last batch told when it says {@link GroupParker.Progress#stopping stopping}.
     */
    @Override
    public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
        if (progress.stopping()) { // asked before the read: a dead-letter topic read whole for nothing held the close
            return new GroupParker.Moved(0, 0, STOPPING);
        }
        var consumerConfig = ClientConfigs.forConsumer(clientConfig);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, releaseGroup(parked.group()));
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        var producerConfig = producerConfig(clientConfig);
        var sendWait = KafkaDeadLetters.waitedPastDelivery(producerConfig);
        Pass pass = null;
        ReleaseBatches batches = null;
        try (var consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             var producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
             var denser = new DenserProducer(producerConfig)) {
            batches = new ReleaseBatches(consumer, producer, sendWait, parked, token, skipHead, progress, this::original,
                    DenserProducer.differs(producerConfig) ? denser : null);
            pass = pass(consumer, batches, parked, token);
        } catch (RuntimeException e) {
            if (pass == null) {
                if (batches != null && batches.interrupted()) { // the operator's stop, taken off while the clients closed
                    Thread.currentThread().interrupt();
                }
                throw failed(parked, e);
            }
            // a client that would not close after the pass: what the pass moved is committed, and counts
        } catch (Error e) { // a plugin's or the client's: the operator's stop, taken off meanwhile, is set again
            if (batches != null && batches.interrupted()) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
        if (pass.interrupted()) {
            // set again only now the clients are closed: closed with it set, they threw, and what the pass had moved
            // (committed, counted) was lost with them
            Thread.currentThread().interrupt();
        }
        if (pass.parkedAgain() != null) {
            throw pass.parkedAgain();
        }
        return pass.moved();
    }

    /**
     * What a pass moved, and whether the operator's stop (an interrupt) ended it; or that the key was parked again
     * meanwhile (thrown once the clients are closed and the interrupt, if any, set again: thrown out of the pass, the
     * interrupt was lost).
     */
    private record Pass(GroupParker.Moved moved, boolean interrupted, GroupParker.ReleaseInterrupted parkedAgain) {
        Pass(GroupParker.Moved moved, boolean interrupted) {
            this(moved, interrupted, null);
        }
    }

    /**
     * One pass over the dead-letter partitions, from each one's cursor: reads them, then produces the key's records
     * back and commits how far; then reads on ({@link #readOn}).
     */
    private Pass pass(KafkaConsumer<byte[], byte[]> consumer, ReleaseBatches batches, ParkedGroup parked, String token) {
        var partitions = new ArrayList<TopicPartition>();
        for (var topic : topics) {
            var info = consumer.partitionsFor(deadLetterTopic.apply(topic), Duration.ofSeconds(30));
            if (info != null) {
                info.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            }
        }
        if (partitions.isEmpty()) {
            return new Pass(new GroupParker.Moved(0, 0), false);
        }
        consumer.assign(partitions);
        var committed = consumer.committed(new java.util.HashSet<>(partitions), Duration.ofSeconds(30));
        var beginnings = consumer.beginningOffsets(partitions, Duration.ofSeconds(30));
        var deleted = new DeletedDeadLetters();
        for (var p : partitions) {
            var at = committed.get(p);
            long beginning = beginnings.get(p);
            if (at == null) {
                consumer.seekToBeginning(List.of(p));
            } else if (at.offset() < beginning) {
                // what the key's last release had not reached was deleted since: read on from what is left, and say so
                // (sought there, the reset to the earliest offset went on without a word, and the group was unparked)
                deleted.add(p, at.offset(), beginning);
                consumer.seek(p, beginning);
            } else {
                consumer.seek(p, at.offset());
            }
        }
        var damaged = new DamagedDeadLetters(parked.group());
        var found = parkedRecords(consumer, partitions, parked, token, damaged);
        var counts = new HashMap<TopicPartition, Integer>();
        partitions.forEach(p -> counts.put(p, (int) partitions.stream().filter(q -> q.topic().equals(p.topic())).count()));
        String damage = damaged.problem(parked, found.records(), counts);
        // the key's records behind the damage are not known: those found elsewhere would overtake them, so none goes
        boolean sent = batches.send(found.records(), found.ends(),
                damage != null && damaged.foundElsewhere(found.records()) ? damage : null);
        if (sent && damage == null && partitions.stream().noneMatch(damaged::stopped)) {
            damage = readOn(consumer, partitions, found, parked, token, damaged, counts, batches);
        }
        GroupParker.Moved moved;
        try {
            moved = DamagedDeadLetters.with(batches.moved(), damage);
        } catch (GroupParker.ReleaseInterrupted parkedAgain) {
            return new Pass(null, batches.interrupted(), parkedAgain);
        }
        return new Pass(deleted.none() ? moved : deleted.told(moved, parked.group()), batches.interrupted());
    }

    /** The longest a move reads on past its first round ({@link #readOn}) before it leaves the rest to the next move. */
    static final Duration READ_ON = Duration.ofSeconds(10);

    /**
     * Moves what was dead-lettered of the key while the pass ran, round after round, each from where the last one
     * committed to the end as it is when the round begins, until a round finds none of it (or {@link #READ_ON} has
     * passed). The key's producer sends on while it is parked, each record parked behind; a move that took only what
     * was there when its read began never caught up, and the key was never released. Not after a round that stopped
     * a damaged partition: a round that meets one takes it as hiding the key's records, and nothing found elsewhere goes.
     * Returns why it stopped early (what went back before is counted), null when it did not.
     */
    private String readOn(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions, Found first,
                          ParkedGroup parked, String token, DamagedDeadLetters damaged, Map<TopicPartition, Integer> counts,
                          ReleaseBatches batches) {
        var last = first;
        long until = System.nanoTime() + READ_ON.toNanos();
        while (!last.records().isEmpty() && System.nanoTime() - until < 0) {
            Found next;
            try {
                for (var p : partitions) {
                    consumer.seek(p, last.ends().get(p));
                }
                consumer.resume(partitions); // the round's reader paused all but the partition it read
                next = parkedRecords(consumer, partitions, parked, token, damaged);
            } catch (org.apache.kafka.common.errors.InterruptException e) {
                batches.interruptTaken();
                return "the release was interrupted while it read on; what went back before is counted, release it again";
            } catch (RuntimeException e) { // what went back before is committed and counted: said, not thrown with it
                return "reading on past the records that went back failed, those are counted (" + e.getMessage()
                        + "); release it again";
            }
            String damage = null;
            if (partitions.stream().anyMatch(damaged::stopped)) {
                damage = damaged.problem(parked, next.records(), counts);
                damage = damage != null ? damage : "a dead-letter partition has a record that cannot be read (see the log): "
                        + "what key " + parked.group() + " has behind it cannot be moved; mend the topic and release it again";
            }
            if (!batches.send(next.records(), next.ends(), damage != null && damaged.foundElsewhere(next.records())
                    ? damage : null) || damage != null) {
                return damage;
            }
            last = next;
        }
        return null;
    }

    /** Why a pass that moved nothing failed. */
    private FerryException failed(ParkedGroup parked, RuntimeException e) {
        if (e instanceof FerryException f) {
            return f;
        }
        if (e instanceof org.apache.kafka.common.errors.InterruptException) {
            Thread.currentThread().interrupt();
            return new FerryException("the release of key " + parked.group() + " was interrupted; nothing was moved", e, true);
        }
        // read failed: nothing was produced (records go back only after the whole read), so nothing is counted
        return new FerryException("reading the dead letters of key " + parked.group() + " of '" + source + "' failed: "
                + e.getMessage(), e, true);
    }

    /** The longest a release reads its dead-letter partitions without getting a record before it gives up. */
    static final Duration READ_LIMIT = Duration.ofMinutes(2);

    /** What the partitions hold of the key's parked records (of this park: not older), and every partition's end. */
    private record Found(List<ParkedRecords.Parked> records, Map<TopicPartition, Long> ends) {
    }

    /**
     * Reads every partition to its end as it was when the read began, keeping where the key's records are that
     * were parked with it since the group was parked — older ones (of an earlier park, its cursor
     * lost) are not this release's — in the order they were dead-lettered (their timestamps; a key's
     * dead letters of one topic are in one partition, in order, but a source may read several topics).
     */
    private Found parkedRecords(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions, ParkedGroup parked,
                                String token, DamagedDeadLetters damaged) {
        var end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        var records = new ParkedRecords(parked, token); // where they are, not their values: each is read again to go back
        // a limit on a read that stalls, not on a long one: a dead-letter topic too big to read in the limit (a backlog,
        // a slow link) was never released, each release starting over from the same place
        var stalled = new ReadDeadline(READ_LIMIT, System::nanoTime);
        while (partitions.stream().anyMatch(p -> !damaged.stopped(p) && consumer.position(p, Duration.ofSeconds(30)) < end.get(p))) {
            if (stalled.passed()) {
                // a partition offline, or cut below the end it had (an unclean election): the read would never end, and
                // the operator's release would hang with it
                throw new FerryException("reading the dead-letter topic of group " + parked.group() + " got nothing for "
                        + READ_LIMIT.toSeconds() + " s short of its end (a partition offline?); nothing was moved, release "
                        + "it again", true);
            }
            boolean progressed = false;
            org.apache.kafka.clients.consumer.ConsumerRecords<byte[], byte[]> polled;
            try {
                polled = consumer.poll(Duration.ofMillis(500));
            } catch (org.apache.kafka.common.KafkaException e) {
                if (!damaged.stop(consumer, e)) {
                    throw e;
                }
                continue;   // that partition read no further; the others to their ends
            }
            for (var record : polled) {
                // only what was there when the read began: a record dead-lettered since is the next round's, read from
                // the end this one commits — taken now too, it went back twice and was counted twice, and the release ended
                // one short, the key's last dead letter still on its way
                Long endOf = end.get(new TopicPartition(record.topic(), record.partition()));
                if (endOf != null && record.offset() < endOf) {
                    progressed = true;
                    records.offer(record);
                }
            }
            if (progressed) {
                stalled.progressed();
            }
        }
        return new Found(records.ordered(), damaged.ends(end));
    }

    /**
     * The record a dead-letter copy without its value stands for (see {@link KafkaSource#VALUE_OMITTED}),
     * read from where the copy says it is in its source topic; refused when the topic no longer has it.
     */
    private ConsumerRecord<byte[], byte[]> original(String topic, ConsumerRecord<byte[], byte[]> copy) {
        var partition = new TopicPartition(topic, Integer.parseInt(header(copy.headers(), KafkaSource.PARTITION)));
        long offset = Long.parseLong(header(copy.headers(), KafkaSource.OFFSET));
        var config = ClientConfigs.forConsumer(clientConfig);
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
