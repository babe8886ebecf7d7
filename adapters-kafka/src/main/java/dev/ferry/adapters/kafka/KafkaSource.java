package dev.ferry.adapters.kafka;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.adapters.kafka.PartitionBuffer.State;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka topics as Ferry's {@link Source} and {@link Acknowledger}, in a consumer group.
 *
 * <p>One consumer thread owns the {@code KafkaConsumer} (it is not thread-safe): it fetches
 * records into per-partition buffers, pauses a partition whose buffer is full (by records or by
 * bytes), and commits. The listener's pollers take records from the buffers; a record's group key
 * is its Kafka key, so the engine keeps per-key order, and partitions go on in parallel.
 *
 * <ul>
 *   <li><b>Commits</b> move a partition's offset only past records whose dispositions were carried
 *       out (acked, or dead-lettered and the DLQ write confirmed): at-least-once, duplicates left to
 *       the ledger. Partitions being revoked in a rebalance commit what is finished first, so the
 *       next owner does not replay finished work.</li>
 *   <li><b>Redeliver(delay)</b> keeps the record in memory and holds its <em>key</em> for the delay,
 *       then hands the record out again before any later record of that key; other keys of the
 *       partition go on (a record without a key holds its whole partition). Commits still stop at
 *       the held record. <b>Release</b> hands it out again at once. Ferry counts receives per record
 *       across these.</li>
 *   <li><b>A consumer that dies</b> (an exception out of its loop) is closed (its partitions revoked,
 *       finished work committed, records in hand dropped) and replaced by a new one, after a pause
 *       of 1 s doubling to 30 s. Meanwhile {@link #poll} throws a retryable {@code FerryException}
 *       and {@link #problem()} says why.</li>
 *   <li><b>DeadLetter(reason)</b> writes the record to {@code <topic>.dlq} (configurable) with its key,
 *       value and headers plus {@code ferry.deadLetter.reason / sourceQueue / receiveCount} headers,
 *       and waits for the broker's acknowledgement before the offset may move past it.</li>
 * </ul>
 * Thread-safe.
 */
public final class KafkaSource implements Source, Acknowledger {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration PAUSED_POLL = Duration.ofMillis(2);
    static final int FETCH_MAX_WAIT_MS = 50;
    /** The default {@link Builder#commitInterval}, in milliseconds. */
    public static final int DEFAULT_COMMIT_INTERVAL_MS = 25;

    /** A partition's buffer as the tests see it: now, and the most since the partition was assigned. */
    record Buffered(int records, long bytes, int peakRecords, long peakBytes) {
    }

    private final String name;
    private final Collection<String> topics;
    private final Map<String, Object> consumerConfig;
    private final Map<String, Object> producerConfig;
    private final UnaryOperator<String> deadLetterTopic;
    private final int maxBufferedPerPartition;
    private final long maxBufferedBytesPerPartition;
    private final Duration commitInterval;
    private final Duration restartBackoff;
    private final Duration maxRestartBackoff;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition available = lock.newCondition();
    private final Map<TopicPartition, PartitionBuffer> parts = new HashMap<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicBoolean killLoopOnce = new AtomicBoolean();
    /** The consumer thread's current consumer, for {@link #close()}'s wakeup; null while there is none. */
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> dlqProducer;
    private volatile Thread consumerThread;
    private volatile boolean closed;
    /** Why the source cannot hand out records now (its consumer died and is being replaced); null when it can. */
    private volatile String problem;
    /** Records behind the end of the assigned partitions, as of the last poll; -1 unknown. */
    private volatile long lag = -1;
    private volatile Throwable lastDeath;

    private KafkaSource(Builder b) {
        this.name = b.name;
        this.topics = List.copyOf(b.topics);
        this.consumerConfig = new HashMap<>(b.consumerConfig);
        this.producerConfig = new HashMap<>(b.producerConfig);
        this.deadLetterTopic = b.deadLetterTopic;
        this.maxBufferedPerPartition = b.maxBufferedPerPartition;
        this.maxBufferedBytesPerPartition = b.maxBufferedBytesPerPartition;
        this.commitInterval = b.commitInterval;
        this.restartBackoff = b.restartBackoff;
        this.maxRestartBackoff = b.maxRestartBackoff;
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
        var first = newConsumer();
        consumer = first;
        dlqProducer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        consumerThread = Thread.ofPlatform().name("ferry-kafka-" + name).start(() -> run(first));
        return this;
    }

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        return new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * How many records the group's consumer here is behind the end of its assigned partitions, as of
     * its last poll (the consumer's own view, no broker call); -1 before it knows. For a lag gauge.
     */
    public long lag() {
        return lag;
    }

    /** The sum of the consumer's known lag over its assignment; -1 when it knows none (on the consumer thread). */
    private static long lagOf(KafkaConsumer<byte[], byte[]> c) {
        long sum = 0;
        boolean known = false;
        for (var partition : c.assignment()) {
            var partitionLag = c.currentLag(partition);
            if (partitionLag.isPresent()) {
                sum += partitionLag.getAsLong();
                known = true;
            }
        }
        return known ? sum : (c.assignment().isEmpty() ? 0 : -1);
    }

    /**
     * Whether the source can hand out records now: started, not closed, its consumer alive. False
     * while a consumer that died is being replaced; {@link #problem()} says why. For readiness.
     */
    public boolean healthy() {
        return problem().isEmpty();
    }

    /** What keeps the source from handing out records now, in words; empty when nothing does. */
    @Override
    public Optional<String> problem() {
        if (closed) {
            return Optional.of("Kafka source '" + name + "' is closed");
        }
        var thread = consumerThread;
        if (thread == null) {
            return Optional.of("Kafka source '" + name + "' is not started");
        }
        var p = problem;
        if (p != null) {
            return Optional.of(p);
        }
        if (!thread.isAlive()) {
            return Optional.of("Kafka source '" + name + "': its consumer thread ended");
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------- the consumer thread

    /**
     * The consumer thread: consumes with {@code first}; when a consumer dies, closes it, drops what
     * is in hand and starts a new one after a pause (1 s doubling to 30 s by default), until closed.
     */
    private void run(KafkaConsumer<byte[], byte[]> first) {
        var c = first;
        long backoff = restartBackoff.toNanos();
        try {
            while (true) {
                long started = System.nanoTime();
                RuntimeException death = null;
                try {
                    death = consume(c);
                    if (death != null && !closed) {
                        lastDeath = death;
                        problem = "Kafka source '" + name + "': its consumer died (" + death + "); it is being replaced";
                    }
                } finally {
                    consumer = null;
                    closeQuietly(c);
                }
                if (closed || death == null) {
                    return;
                }
                dropAll();
                if (System.nanoTime() - started >= maxRestartBackoff.toNanos()) {
                    backoff = restartBackoff.toNanos();      // it ran well for a while: start the pauses over
                }
                LOG.error("Kafka source '" + name + "': its consumer died; a new one starts in "
                        + dev.ferry.domain.model.Durations.text(Duration.ofNanos(backoff)), death);
                c = null;
                while (c == null) {
                    problem = "Kafka source '" + name + "': its consumer died (" + death + "); a new one starts in "
                            + Duration.ofNanos(backoff);
                    if (closing.await(backoff, TimeUnit.NANOSECONDS)) {
                        return;
                    }
                    backoff = Math.min(maxRestartBackoff.toNanos(), backoff * 2);
                    try {
                        c = newConsumer();
                    } catch (RuntimeException e) {
                        death = e;
                        lastDeath = e;
                        LOG.error("Kafka source '" + name + "': cannot create a new consumer", e);
                    }
                }
                consumer = c;
                LOG.info("Kafka source '{}': a new consumer joins the group", name);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!closed && problem == null) {
                problem = "Kafka source '" + name + "': its consumer thread ended";
            }
        }
    }

    /**
     * Consumes with {@code c} until closed (returns null) or until it fails (returns the failure).
     * Does not close {@code c}.
     */
    private RuntimeException consume(KafkaConsumer<byte[], byte[]> c) {
        try {
            c.subscribe(topics, new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                    commit(c, revoked);
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
                            parts.put(tp, new PartitionBuffer(tp));
                        }
                    } finally {
                        lock.unlock();
                    }
                }
            });
            long lastCommit = System.nanoTime();
            while (!closed) {
                if (killLoopOnce.compareAndSet(true, false)) {
                    throw new IllegalStateException("consumer loop killed by the test hook");
                }
                boolean paused = pauseOrResume(c);
                var records = c.poll(pollWait(paused, lastCommit));
                if (problem != null) {
                    problem = null;             // a consumer that polls again: the source is back
                    LOG.info("Kafka source '{}' consumes again", name);
                }
                take(c, records);
                lag = lagOf(c);
                if (System.nanoTime() - lastCommit >= commitInterval.toNanos()) {
                    commitAsync(c);
                    lastCommit = System.nanoTime();
                }
            }
            commit(c, null);
            return null;
        } catch (WakeupException e) {
            if (closed) {
                commit(c, null);
                return null;
            }
            return e;
        } catch (RuntimeException e) {
            return e;
        }
    }

    private void closeQuietly(KafkaConsumer<byte[], byte[]> c) {
        try {
            c.close(Duration.ofSeconds(5));        // a subscribed consumer revokes (and commits) its partitions first
        } catch (RuntimeException e) {
            LOG.warn("Kafka source '{}': closing the consumer failed: {}", name, e.toString());
        }
    }

    /** Puts fetched records into their partitions' buffers, as far as the buffers take them. */
    private void take(KafkaConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> records) {
        if (records.isEmpty()) {
            return;
        }
        var rewind = new HashMap<TopicPartition, Long>();
        lock.lock();
        try {
            for (var tp : records.partitions()) {
                var part = parts.get(tp);
                if (part == null) {
                    continue;
                }
                for (var r : records.records(tp)) {
                    if (part.contains(r.offset())) {
                        continue;
                    }
                    if (full(part)) {
                        // the rest is fetched again once the engine caught up: the caps hold exactly
                        rewind.put(tp, r.offset());
                        break;
                    }
                    part.add(r);
                }
            }
            available.signalAll();
        } finally {
            lock.unlock();
        }
        for (var e : rewind.entrySet()) {
            c.seek(e.getKey(), e.getValue().longValue());
        }
        if (!rewind.isEmpty()) {
            pauseOrResume(c);
        }
    }

    /** A buffer at either cap: its partition is paused. Under the lock. */
    private boolean full(PartitionBuffer p) {
        return p.size() >= maxBufferedPerPartition || p.bytes >= maxBufferedBytesPerPartition;
    }

    /**
     * A paused partition's buffer with room for a fetch's worth again: at most half of either cap.
     * Resuming at the first free slot would fetch a whole batch to take one record and seek back.
     */
    private boolean roomy(PartitionBuffer p) {
        return p.size() <= maxBufferedPerPartition / 2 && p.bytes <= maxBufferedBytesPerPartition / 2;
    }

    /**
     * Pauses partitions with full buffers and resumes paused ones with room again (a held key or
     * partition is not paused). Returns whether any partition stays paused.
     */
    private boolean pauseOrResume(KafkaConsumer<byte[], byte[]> c) {
        var pause = new ArrayList<TopicPartition>();
        var resume = new ArrayList<TopicPartition>();
        var paused = c.paused();
        lock.lock();
        try {
            for (var p : parts.values()) {
                if (full(p)) {
                    pause.add(p.tp);
                } else if (!paused.contains(p.tp) || roomy(p)) {
                    resume.add(p.tp);
                }
            }
        } finally {
            lock.unlock();
        }
        var toPause = pause.stream().filter(tp -> !paused.contains(tp)).toList();
        var toResume = resume.stream().filter(paused::contains).toList();
        if (!toPause.isEmpty()) {
            c.pause(toPause);
        }
        if (!toResume.isEmpty()) {
            c.resume(toResume);
        }
        return paused.size() + toPause.size() - toResume.size() > 0;
    }

    /**
     * How long the consumer's next poll may wait: briefly while a partition is paused (its buffer
     * empties meanwhile), until the next commit is due while records are in hand (so finished work
     * is committed on time even when nothing more is fetched), otherwise 100 ms.
     */
    private Duration pollWait(boolean paused, long lastCommit) {
        if (paused) {
            return PAUSED_POLL;
        }
        lock.lock();
        try {
            boolean inHand = false;
            for (var p : parts.values()) {
                inHand |= p.size() > 0 || p.committable() > Math.max(p.committed, p.requested);
            }
            if (!inHand) {
                return POLL;
            }
        } finally {
            lock.unlock();
        }
        long due = commitInterval.toNanos() - (System.nanoTime() - lastCommit);
        return Duration.ofNanos(Math.clamp(due, TimeUnit.MILLISECONDS.toNanos(1), POLL.toNanos()));
    }

    /**
     * Commits finished work without waiting for the broker (the consumer goes on fetching); the
     * answer comes in a later poll, on this thread. A failed commit is sent again at the next turn.
     * Revoked partitions and closing commit with {@link #commit}, which waits. Consumer thread only.
     */
    private void commitAsync(KafkaConsumer<byte[], byte[]> c) {
        var offsets = new HashMap<TopicPartition, OffsetAndMetadata>();
        var sentFor = new HashMap<TopicPartition, PartitionBuffer>();
        lock.lock();
        try {
            for (var p : parts.values()) {
                long offset = p.committable();
                if (offset >= 0 && offset > Math.max(p.committed, p.requested)) {
                    offsets.put(p.tp, new OffsetAndMetadata(offset));
                    sentFor.put(p.tp, p);
                    p.requested = offset;
                }
            }
        } finally {
            lock.unlock();
        }
        if (offsets.isEmpty()) {
            return;
        }
        c.commitAsync(offsets, (committed, e) -> {
            lock.lock();
            try {
                // the buffers it was sent for: a partition assigned again since has a buffer of its own
                for (var entry : offsets.entrySet()) {
                    var p = sentFor.get(entry.getKey());
                    long offset = entry.getValue().offset();
                    if (e == null) {
                        if (offset > p.committed) {
                            p.committed = offset;
                            p.removeBelow(offset);
                        }
                    } else if (p.requested <= offset) {
                        p.requested = p.committed;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (e != null) {
                LOG.warn("Kafka source '{}': commit failed ({}); it is sent again", name, e.toString());
            }
        });
    }

    /** Commits finished work of {@code only} (all assigned partitions when null), waiting for the broker. Consumer thread only. */
    private void commit(KafkaConsumer<byte[], byte[]> c, Collection<TopicPartition> only) {
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
            try {
                c.commitSync(offsets, Duration.ofSeconds(10));
            } catch (WakeupException e) {
                c.commitSync(offsets, Duration.ofSeconds(10));     // close()'s wakeup came first: commit still
            }
        } catch (RuntimeException e) {
            LOG.warn("Kafka source '{}': commit failed ({}); finished records may be read again "
                    + "and dropped by the ledger", name, e.getMessage());
            return;
        }
        lock.lock();
        try {
            for (var e : offsets.entrySet()) {
                var p = parts.get(e.getKey());
                if (p != null && e.getValue().offset() > p.committed) {
                    p.committed = e.getValue().offset();
                    p.removeBelow(p.committed);
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

    /** After a consumer died: whatever its close did not revoke is not ours any more. */
    private void dropAll() {
        lock.lock();
        try {
            for (var p : parts.values()) {
                p.revoked = true;
            }
            parts.clear();
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Test hook: the consumer loop throws once at its next turn, as if consuming had failed. Not for production use. */
    void killConsumerLoopOnce() {
        killLoopOnce.set(true);
    }

    /** For tests: what is in hand for a partition (zeros when it is not assigned). */
    Buffered buffered(String topic, int partition) {
        lock.lock();
        try {
            var p = parts.get(new TopicPartition(topic, partition));
            return p == null ? new Buffered(0, 0, 0, 0) : new Buffered(p.size(), p.bytes, p.peakRecords, p.peakBytes);
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
        var down = problem;
        if (down != null) {
            throw new FerryException(down, lastDeath, true);
        }
        long deadline = System.nanoTime() + request.maxWait().toNanos();
        var out = new ArrayList<Rec>();
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                long nextHoldEnds = Long.MAX_VALUE;
                for (var p : parts.values()) {
                    if (out.size() == request.maxMessages()) {
                        break;
                    }
                    nextHoldEnds = Math.min(nextHoldEnds, p.takeInto(out, request.maxMessages(), now));
                }
                long left = deadline - System.nanoTime();
                if (!out.isEmpty() || left <= 0) {
                    break;
                }
                available.awaitNanos(Math.min(left, nextHoldEnds));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        // built outside the lock: the records are out, nobody else touches them until they are settled
        var deliveries = new ArrayList<Delivery>(out.size());
        for (var r : out) {
            deliveries.add(delivery(r));
        }
        return deliveries;
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
        var comingBack = new ArrayList<Settlement>();
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
                    case Disposition.Ack a -> r.part.done(r);
                    case Disposition.Release rel -> comeBack(r, s, comingBack);
                    case Disposition.Redeliver red -> comeBack(r, s, comingBack);
                    case Disposition.DeadLetter dl -> deadLetters.add(s);
                }
            }
            // highest offset first: each goes to the front of its key's waiting records
            comingBack.sort(Comparator.comparingLong((Settlement s) -> ((Rec) s.delivery().receipt()).offset()).reversed());
            for (var s : comingBack) {
                var r = (Rec) s.delivery().receipt();
                if (s.disposition() instanceof Disposition.Redeliver red) {
                    r.part.requeue(r, true, now + red.delay().toNanos());     // its key; the partition when it has none
                } else {
                    r.part.requeue(r, false, 0);
                }
            }
            available.signalAll();
        } finally {
            lock.unlock();
        }
        for (var s : deadLetters) {
            var r = (Rec) s.delivery().receipt();
            var dlqProblem = sendToDeadLetterTopic(r, ((Disposition.DeadLetter) s.disposition()).reason());
            lock.lock();
            try {
                if (dlqProblem == null) {
                    r.part.done(r);
                } else {
                    // not confirmed: the offset must not pass it; offer it again shortly
                    r.part.requeue(r, true, System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
                    failures.add(new Settlement.Failure(s, dlqProblem, true));
                }
                available.signalAll();
            } finally {
                lock.unlock();
            }
        }
        return failures;
    }

    /** Queued again below, highest offset first; marked at once so a second settlement of it in the list is refused. */
    private static void comeBack(Rec r, Settlement s, List<Settlement> comingBack) {
        r.state = State.QUEUED;
        comingBack.add(s);
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
        closing.countDown();
        var c = consumer;
        if (c != null) {
            try {
                c.wakeup();
            } catch (RuntimeException e) {
                // already closed by the consumer thread
            }
        }
        var thread = consumerThread;
        if (thread != null) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(15));
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
        private long maxBufferedBytesPerPartition = 16L * 1024 * 1024;
        private Duration commitInterval = Duration.ofMillis(DEFAULT_COMMIT_INTERVAL_MS);
        private Duration restartBackoff = Duration.ofSeconds(1);
        private Duration maxRestartBackoff = Duration.ofSeconds(30);

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
            // a partition resumed while a fetch for the others waits at the broker is fetched only
            // after that one returns: the client's 500 ms made every resume a half-second stall
            consumerConfig.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, FETCH_MAX_WAIT_MS);
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

        /**
         * Bytes in hand per partition (key + value + headers of the records in its buffer) before it
         * is paused (16 MiB by default). A partition is paused when either cap is reached; a record
         * larger than the cap is still taken when the buffer is empty.
         */
        public Builder maxBufferedBytesPerPartition(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxBufferedBytesPerPartition must be >= 1, was " + bytes);
            }
            this.maxBufferedBytesPerPartition = bytes;
            return this;
        }

        /**
         * The pause before a consumer that died is replaced: {@code first}, doubling up to {@code max}
         * (1 s and 30 s by default); back to {@code first} after a consumer that lived {@code max}.
         */
        public Builder restartBackoff(Duration first, Duration max) {
            if (first == null || first.isNegative() || first.isZero() || max == null || max.compareTo(first) < 0) {
                throw new IllegalArgumentException("restartBackoff needs 0 < first <= max, was " + first + " and " + max);
            }
            this.restartBackoff = first;
            this.maxRestartBackoff = max;
            return this;
        }

        /**
         * How often finished offsets are committed, at most ({@value KafkaSource#DEFAULT_COMMIT_INTERVAL_MS} ms
         * by default; only when something finished since). A commit does not hold up fetching.
         */
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
