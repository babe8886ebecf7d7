package dev.ferry.adapters.kafka;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka topics as Ferry's {@link Source} and {@link Acknowledger}, in a consumer group.
 *
 * <p>One consumer thread owns the {@code KafkaConsumer} (it is not thread-safe): it fetches
 * records into per-partition buffers, pauses a partition whose buffer is full or whose head waits
 * for a retry, and commits. The listener's pollers take records from the buffers; a record's
 * group key is its Kafka key, so the engine keeps per-key order, and partitions go on in parallel.
 *
 * <ul>
 *   <li><b>Commits</b> move a partition's offset only past records whose dispositions were carried
 *       out (acked, or dead-lettered and the DLQ write confirmed): at-least-once, duplicates left to
 *       the ledger. Partitions being revoked in a rebalance commit what is finished first, so the
 *       next owner does not replay finished work.</li>
 *   <li><b>Redeliver(delay)</b> keeps the record in memory and holds its partition (paused) for the
 *       delay, then hands the record out again before anything after it; other partitions go on.
 *       <b>Release</b> hands it out again at once. Ferry counts receives per record across these.</li>
 *   <li><b>DeadLetter(reason)</b> writes the record to {@code <topic>.dlq} (configurable) with its key,
 *       value and headers plus {@code ferry.deadLetter.reason / sourceQueue / receiveCount} headers,
 *       and waits for the broker's acknowledgement before the offset may move past it.</li>
 * </ul>
 * Thread-safe.
 */
public final class KafkaSource implements Source, Acknowledger {

    private static final System.Logger LOG = System.getLogger(KafkaSource.class.getName());

    private enum State { QUEUED, OUT, DONE }

    /** A record key with value equality. */
    private record KeyBytes(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof KeyBytes k && java.util.Arrays.equals(k.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }
    }

    /** A record in hand; the receipt of its delivery. */
    private static final class Rec {
        final ConsumerRecord<byte[], byte[]> record;
        final Part part;
        State state = State.QUEUED;
        int receives;

        Rec(ConsumerRecord<byte[], byte[]> record, Part part) {
            this.record = record;
            this.part = part;
        }
    }

    /** One assigned partition's buffer. Dropped (and replaced) when the partition is revoked. */
    private static final class Part {
        final TopicPartition tp;
        final TreeMap<Long, Rec> records = new TreeMap<>();
        long heldUntilNanos;
        long nextOffset = -1;
        long committed = -1;
        boolean revoked;

        Part(TopicPartition tp) {
            this.tp = tp;
        }

        /** The offset to commit: the first record not done, or the one after the last seen. */
        long committable() {
            for (var r : records.values()) {
                if (r.state != State.DONE) {
                    return r.record.offset();
                }
            }
            return nextOffset;
        }

        boolean held(long now) {
            return heldUntilNanos - now > 0;
        }
    }

    private final String name;
    private final Collection<String> topics;
    private final Map<String, Object> consumerConfig;
    private final Map<String, Object> producerConfig;
    private final UnaryOperator<String> deadLetterTopic;
    private final int maxBufferedPerPartition;
    private final Duration commitInterval;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition available = lock.newCondition();
    private final Map<TopicPartition, Part> parts = new HashMap<>();
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> dlqProducer;
    private Thread consumerThread;
    private volatile boolean closed;
    private volatile Throwable failed;

    private KafkaSource(Builder b) {
        this.name = b.name;
        this.topics = List.copyOf(b.topics);
        this.consumerConfig = new HashMap<>(b.consumerConfig);
        this.producerConfig = new HashMap<>(b.producerConfig);
        this.deadLetterTopic = b.deadLetterTopic;
        this.maxBufferedPerPartition = b.maxBufferedPerPartition;
        this.commitInterval = b.commitInterval;
    }

    /** A source on {@code topics} in consumer group {@code groupId}, at {@code bootstrapServers}. */
    public static Builder builder(String bootstrapServers, String groupId, Collection<String> topics) {
        return new Builder(bootstrapServers, groupId, topics);
    }

    /** Joins the group and starts fetching. */
    public synchronized KafkaSource start() {
        if (consumerThread != null) {
            return this;
        }
        consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        dlqProducer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        consumerThread = Thread.ofPlatform().name("ferry-kafka-" + name).start(this::consume);
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    // ---------------------------------------------------------------- the consumer thread

    private void consume() {
        consumer.subscribe(topics, new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                commit(revoked);
                drop(revoked);
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> lost) {
                drop(lost);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                lock.lock();
                try {
                    for (var tp : assigned) {
                        parts.put(tp, new Part(tp));
                    }
                } finally {
                    lock.unlock();
                }
            }
        });
        long lastCommit = System.nanoTime();
        try {
            while (!closed) {
                pauseOrResume();
                var records = consumer.poll(Duration.ofMillis(100));
                if (!records.isEmpty()) {
                    lock.lock();
                    try {
                        for (var r : records) {
                            var part = parts.get(new TopicPartition(r.topic(), r.partition()));
                            if (part != null && !part.records.containsKey(r.offset())) {
                                part.records.put(r.offset(), new Rec(r, part));
                                part.nextOffset = Math.max(part.nextOffset, r.offset() + 1);
                            }
                        }
                        available.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
                if (System.nanoTime() - lastCommit >= commitInterval.toNanos()) {
                    commit(null);
                    lastCommit = System.nanoTime();
                }
            }
            commit(null);
        } catch (WakeupException e) {
            if (!closed) {
                failed = e;
            } else {
                commit(null);
            }
        } catch (RuntimeException e) {
            failed = e;
            LOG.log(Level.ERROR, "Kafka source '" + name + "' stopped consuming", e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void pauseOrResume() {
        var pause = new ArrayList<TopicPartition>();
        var resume = new ArrayList<TopicPartition>();
        long now = System.nanoTime();
        lock.lock();
        try {
            for (var p : parts.values()) {
                boolean full = p.records.size() >= maxBufferedPerPartition;
                (full || p.held(now) ? pause : resume).add(p.tp);
            }
        } finally {
            lock.unlock();
        }
        var paused = consumer.paused();
        var toPause = pause.stream().filter(tp -> !paused.contains(tp)).toList();
        var toResume = resume.stream().filter(paused::contains).toList();
        if (!toPause.isEmpty()) {
            consumer.pause(toPause);
        }
        if (!toResume.isEmpty()) {
            consumer.resume(toResume);
        }
    }

    /** Commits finished work of {@code only} (all assigned partitions when null). Consumer thread only. */
    private void commit(Collection<TopicPartition> only) {
        var offsets = new HashMap<TopicPartition, OffsetAndMetadata>();
        lock.lock();
        try {
            for (var p : parts.values()) {
                if (only != null && !only.contains(p.tp)) {
                    continue;
                }
                long offset = p.committable();
                if (offset >= 0 && offset > p.committed) {
                    offsets.put(p.tp, new OffsetAndMetadata(offset));
                }
            }
        } finally {
            lock.unlock();
        }
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets, Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "Kafka source ''{0}'': commit failed ({1}); finished records may be read again "
                    + "and dropped by the ledger", name, e.getMessage());
            return;
        }
        lock.lock();
        try {
            for (var e : offsets.entrySet()) {
                var p = parts.get(e.getKey());
                if (p != null) {
                    p.committed = e.getValue().offset();
                    p.records.headMap(p.committed).clear();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void drop(Collection<TopicPartition> gone) {
        lock.lock();
        try {
            for (var tp : gone) {
                var p = parts.remove(tp);
                if (p != null) {
                    p.revoked = true;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- the ports

    @Override
    public List<Delivery> poll(PollRequest request) {
        if (closed) {
            throw new FerryException("Kafka source '" + name + "' is closed", false);
        }
        if (failed != null) {
            throw new FerryException("Kafka source '" + name + "' stopped consuming: " + failed, failed, true);
        }
        long deadline = System.nanoTime() + request.maxWait().toNanos();
        var out = new ArrayList<Delivery>();
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                long nextHoldEnds = Long.MAX_VALUE;
                for (var p : parts.values()) {
                    if (p.held(now)) {
                        nextHoldEnds = Math.min(nextHoldEnds, p.heldUntilNanos - now);
                        continue;
                    }
                    // like an SQS FIFO group: a key with a record out in another batch waits, so two
                    // pollers never hand the engine one key's records out of order
                    var busy = new java.util.HashSet<KeyBytes>();
                    for (var r : p.records.values()) {
                        if (r.state == State.OUT && r.record.key() != null) {
                            busy.add(new KeyBytes(r.record.key()));
                        }
                    }
                    var skipped = new java.util.HashSet<KeyBytes>();
                    for (var r : p.records.values()) {
                        if (out.size() == request.maxMessages()) {
                            break;
                        }
                        if (r.state != State.QUEUED) {
                            continue;
                        }
                        var key = r.record.key() == null ? null : new KeyBytes(r.record.key());
                        if (key != null && (busy.contains(key) || skipped.contains(key))) {
                            skipped.add(key);
                            continue;
                        }
                        r.state = State.OUT;
                        r.receives++;
                        out.add(delivery(r));
                    }
                }
                long left = deadline - System.nanoTime();
                if (!out.isEmpty() || left <= 0) {
                    return out;
                }
                available.awaitNanos(Math.min(left, nextHoldEnds));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return out;
        } finally {
            lock.unlock();
        }
    }

    private Delivery delivery(Rec r) {
        var record = r.record;
        var attributes = new HashMap<String, String>();
        for (var h : record.headers()) {
            attributes.put(h.key(), h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
        }
        attributes.put("kafka.topic", record.topic());
        attributes.put("kafka.partition", Integer.toString(record.partition()));
        attributes.put("kafka.offset", Long.toString(record.offset()));
        return new Delivery(record.topic() + "-" + record.partition() + "@" + record.offset(),
                record.value() == null ? new byte[0] : record.value(), attributes, r.receives,
                Instant.ofEpochMilli(record.timestamp()),
                record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8), null, name, r);
    }

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        var failures = new ArrayList<Settlement.Failure>();
        var deadLetters = new ArrayList<Settlement>();
        lock.lock();
        try {
            long now = System.nanoTime();
            for (var s : settlements) {
                if (!(s.delivery().receipt() instanceof Rec r)) {
                    failures.add(new Settlement.Failure(s, "not received from Kafka source '" + name + "'", false));
                    continue;
                }
                if (r.part.revoked || r.state != State.OUT) {
                    failures.add(new Settlement.Failure(s, r.part.revoked
                            ? "partition " + r.part.tp + " was revoked; its next owner reads the record again"
                            : "already settled", false));
                    continue;
                }
                switch (s.disposition()) {
                    case Disposition.Ack a -> {
                        r.state = State.DONE;
                        trimDonePrefix(r.part);
                    }
                    case Disposition.Release rel -> r.state = State.QUEUED;
                    case Disposition.Redeliver red -> {
                        r.state = State.QUEUED;
                        long until = now + red.delay().toNanos();
                        if (until - r.part.heldUntilNanos > 0) {
                            r.part.heldUntilNanos = until;
                        }
                    }
                    case Disposition.DeadLetter dl -> deadLetters.add(s);
                }
            }
            available.signalAll();
        } finally {
            lock.unlock();
        }
        for (var s : deadLetters) {
            var r = (Rec) s.delivery().receipt();
            var problem = sendToDeadLetterTopic(r, ((Disposition.DeadLetter) s.disposition()).reason());
            lock.lock();
            try {
                if (problem == null) {
                    r.state = State.DONE;
                    trimDonePrefix(r.part);
                } else {
                    // not confirmed: the offset must not pass it; offer it again shortly
                    r.state = State.QUEUED;
                    r.part.heldUntilNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                    failures.add(new Settlement.Failure(s, problem, true));
                }
                available.signalAll();
            } finally {
                lock.unlock();
            }
        }
        return failures;
    }

    /**
     * Drops the finished records at the head of a partition's buffer: the buffer then holds only
     * work in hand, so a full buffer means a slow engine, not a commit not yet made.
     */
    private static void trimDonePrefix(Part p) {
        var it = p.records.values().iterator();
        while (it.hasNext()) {
            var head = it.next();
            if (head.state != State.DONE) {
                return;
            }
            it.remove();
        }
    }

    private String sendToDeadLetterTopic(Rec r, String reason) {
        var record = r.record;
        String topic = deadLetterTopic.apply(record.topic());
        var headers = new RecordHeaders(record.headers().toArray());
        headers.add(DeadLetterAttributes.REASON, reason.getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterAttributes.SOURCE, record.topic().getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterAttributes.RECEIVE_COUNT, Integer.toString(r.receives).getBytes(StandardCharsets.UTF_8));
        headers.add("ferry.deadLetter.partition", Integer.toString(record.partition()).getBytes(StandardCharsets.UTF_8));
        headers.add("ferry.deadLetter.offset", Long.toString(record.offset()).getBytes(StandardCharsets.UTF_8));
        try {
            dlqProducer.send(new ProducerRecord<>(topic, null, record.key(), record.value(), headers)).get(30, TimeUnit.SECONDS);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while writing to dead-letter topic '" + topic + "'";
        } catch (Exception e) {
            return "dead-letter write to '" + topic + "' failed: " + (e.getCause() != null ? e.getCause() : e);
        }
    }

    /** Kafka has no visibility timeout: records stay ours while the partition is; revoked ones are reported. */
    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        lock.lock();
        try {
            return deliveries.stream()
                    .filter(d -> !(d.receipt() instanceof Rec r) || r.part.revoked || r.state != State.OUT)
                    .toList();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops as a crashed process would: no final commit, and settlements from now on are refused.
     * For tests of what the next consumer sees.
     */
    void abandon() {
        lock.lock();
        try {
            for (var p : parts.values()) {
                p.revoked = true;
            }
            parts.clear();
        } finally {
            lock.unlock();
        }
        close();
    }

    /** Commits what is finished, leaves the group and closes the DLQ producer. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (consumer != null) {
            consumer.wakeup();
            try {
                consumerThread.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            dlqProducer.close(Duration.ofSeconds(5));
        }
        lock.lock();
        try {
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Builds a {@link KafkaSource}. */
    public static final class Builder {
        private final Collection<String> topics;
        private final Map<String, Object> consumerConfig = new HashMap<>();
        private final Map<String, Object> producerConfig = new HashMap<>();
        private String name;
        private UnaryOperator<String> deadLetterTopic = topic -> topic + ".dlq";
        private int maxBufferedPerPartition = 5000;
        private Duration commitInterval = Duration.ofMillis(100);

        private Builder(String bootstrapServers, String groupId, Collection<String> topics) {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(groupId, "groupId");
            if (topics == null || topics.isEmpty()) {
                throw new IllegalArgumentException("topics must not be empty");
            }
            this.topics = topics;
            this.name = "kafka:" + String.join(",", topics);
            consumerConfig.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
            consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            consumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
            producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
            producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        }

        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Any other consumer setting (security, client id, ...); auto-commit stays off. */
        public Builder consumerConfig(String key, Object value) {
            if (key.equals(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG)) {
                throw new IllegalArgumentException("enable.auto.commit stays off: Ferry commits after settling");
            }
            consumerConfig.put(key, value);
            return this;
        }

        /** A setting of the dead-letter producer (security, ...). */
        public Builder producerConfig(String key, Object value) {
            producerConfig.put(key, value);
            return this;
        }

        /** The dead-letter topic of a topic; {@code <topic>.dlq} by default. */
        public Builder deadLetterTopic(UnaryOperator<String> naming) {
            this.deadLetterTopic = Objects.requireNonNull(naming, "deadLetterTopic");
            return this;
        }

        /** Records in hand per partition before it is paused (5000 by default; memory: this many values per assigned partition). */
        public Builder maxBufferedPerPartition(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("maxBufferedPerPartition must be >= 1, was " + records);
            }
            this.maxBufferedPerPartition = records;
            return this;
        }

        /** How often finished offsets are committed (100 ms by default). */
        public Builder commitInterval(Duration interval) {
            if (interval == null || interval.isNegative()) {
                throw new IllegalArgumentException("commitInterval must be >= 0, was " + interval);
            }
            this.commitInterval = interval;
            return this;
        }

        public KafkaSource build() {
            return new KafkaSource(this);
        }
    }
}
