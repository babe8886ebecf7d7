package dev.ferry.adapters.kafka;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;

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
 *   <li><b>Redeliver(delay)</b> keeps the record in memory and holds its <em>key</em> for the delay, then hands the
 *       record out again before any later record of that key; other keys of the partition go on (a record without a key
 *       holds its whole partition). Commits still stop at the held record. <b>Release</b> hands it out again at once.
 *       Ferry counts receives per record across these.</li>
 *   <li><b>A consumer that dies</b> (an exception out of its loop) is closed (its partitions revoked, finished work
 *       committed, records in hand dropped) and replaced by a new one, after a pause of 1 s doubling to 30 s.
 *       Meanwhile {@link #poll} throws a retryable {@code FerryException} and {@link #problem()} says why.</li>
 *   <li><b>A record that cannot be read</b> (a corrupt batch) stops only its partition, paused there: nothing
 *       after it is handed out nor committed past it, and {@link #problem()} names it while it lasts.</li>
 *   <li><b>DeadLetter(reason)</b> writes the record to {@code <topic>.dlq} (configurable) with its key,
 *       value and headers plus {@code ferry.deadLetter.reason / sourceQueue / receiveCount} headers,
 *       and waits for the broker's acknowledgement before the offset may move past it. A record the
 *       dead-letter topic cannot take (too large for it) is written without its value and headers, with
 *       a {@code ferry.deadLetter.valueOmitted} header saying why and where it is, instead of holding its
 *       partition for ever. A dead-letter topic that compacts (it would lose dead letters) is refused at start.</li>
 * </ul>
 * Thread-safe.
 */
public final class KafkaSource implements Source, Acknowledger {

    static final int FETCH_MAX_WAIT_MS = 50;
    /** The dead-letter producer's delivery timeout unless configured: a write is known failed or done within it. */
    static final int DEAD_LETTER_DELIVERY_MS = 25_000;
    /** The default {@link Builder#commitInterval}, in milliseconds. */
    public static final int DEFAULT_COMMIT_INTERVAL_MS = 25;

    private final String name;
    private final List<String> topics;
    private final KafkaDeadLetters deadLetters;
    private final PartitionBuffers buffers;
    private final ConsumerLoop loop;
    private volatile boolean closed;

    private KafkaSource(Builder b) {
        this.name = b.name;
        this.topics = List.copyOf(b.topics);
        this.deadLetters = new KafkaDeadLetters(name, b.producerConfig, b.deadLetterTopic);
        this.buffers = new PartitionBuffers(name, b.maxBufferedPerPartition, b.maxBufferedBytesPerPartition);
        this.loop = new ConsumerLoop(new ConsumerLoop.Settings(name, topics, ClientConfigs.forGroupProtocol(b.consumerConfig),
                b.commitInterval, b.restartBackoff, b.maxRestartBackoff), buffers);
    }

    /** A source on {@code topics} in consumer group {@code groupId}, at {@code bootstrapServers}. */
    public static Builder builder(String bootstrapServers, String groupId, Collection<String> topics) {
        return new Builder(bootstrapServers, groupId, topics);
    }

    /** How long a dead-letter write is waited for (the producer's delivery timeout and a margin). */
    Duration deadLetterWait() {
        return deadLetters.waitFor();
    }

    /** Joins the group and starts fetching. */
    public synchronized KafkaSource start() {
        if (loop.started()) {
            return this;
        }
        deadLetters.refuseCompacted(topics); // before anything is opened: refused, there is nothing to close
        deadLetters.open();
        try {
            loop.start();
        } catch (RuntimeException e) {
            deadLetters.close(Duration.ZERO);
            throw e;
        }
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * How many records the group's consumer here is behind the end of its assigned partitions as of its last poll, those
     * it holds unfinished counted in (a paused partition's end asked of the cluster every 5 s at most); -1 before it knows.
     */
    public long lag() {
        return loop.lag();
    }

    /**
     * Whether the source can hand out records now: started, not closed, its consumer alive, no partition stopped at a
     * record that cannot be read, its commits not failing for a minute. {@link #problem()} says why not. For readiness.
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
        return Optional.ofNullable(loop.problem());
    }

    /** Test hook: the consumer loop throws once at its next turn, as if consuming had failed. Not for production use. */
    void killConsumerLoopOnce() {
        loop.killOnce();
    }

    /** For tests: what is in hand for a partition (zeros when it is not assigned). */
    PartitionBuffers.Buffered buffered(String topic, int partition) {
        return buffers.buffered(topic, partition);
    }

    // ---------------------------------------------------------------- the ports

    @Override
    public List<Delivery> poll(PollRequest request) {
        if (closed) {
            throw new FerryException("Kafka source '" + name + "' is closed", false);
        }
        var down = loop.down();
        if (down != null) {
            throw new FerryException(down, loop.lastDeath(), true);
        }
        var out = buffers.handOut(request.maxMessages(), System.nanoTime() + request.maxWait().toNanos());
        // built outside the lock: the records are out, nobody else touches them until they are settled
        try {
            var deliveries = new ArrayList<Delivery>(out.size());
            for (var r : out) {
                deliveries.add(KafkaDeliveries.delivery(r, name));
            }
            return deliveries;
        } catch (Throwable e) { // an Error making them (memory, with huge headers): out for good, their keys would stop
            try {
                buffers.handBack(out);
            } catch (Throwable notBack) { // what made them fail stays what the caller sees
                if (notBack != e) {
                    e.addSuppressed(notBack);
                }
            }
            throw e;
        }
    }

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        var confirmed = new boolean[settlements.size()]; // made before anything is marked: no memory, nothing is
        var marked = new boolean[settlements.size()];
        var settled = buffers.settle(settlements); // throwing partway, it queues again what it had not carried out
        var pending = settled.deadLetters();
        try {
            var failures = new ArrayList<>(settled.failures());
            deadLetters.writeAll(pending, r -> !Revocations.ours(r), (i, dlqProblem) -> {
                var s = pending.get(i);
                confirmed[i] = dlqProblem == null;
                boolean ours = buffers.deadLetterWritten((Rec) s.delivery().receipt(), confirmed[i]);
                marked[i] = true;
                if (dlqProblem != null || !ours) {
                    // not confirmed: offered again shortly; or its partition went while it was written: read again there
                    failures.add(new Settlement.Failure(s, dlqProblem != null ? dlqProblem : "partition of the record was "
                            + "revoked while its dead letter was written; its next owner reads it again", dlqProblem != null));
                }
            });
            return failures;
        } catch (Throwable e) {
            // an Error partway (no memory): the engine counts the call failed, to come back by lease, but Kafka hands out
            // again no record left being dead-lettered. Those not confirmed are offered again; those confirmed are done
            for (int i = 0; i < pending.size(); i++) {
                try {
                    if (!marked[i]) {
                        buffers.deadLetterWritten((Rec) pending.get(i).delivery().receipt(), confirmed[i]);
                    }
                } catch (Throwable again) { // each on its own: the next may find the memory this one did not
                }
            }
            throw e;
        }
    }

    /**
     * Header of a dead-letter copy that carries only the record's key, reason and place, because the record itself did
     * not fit the dead-letter topic; says why and where the record is. A release of its parked group reads it there.
     */
    static final String VALUE_OMITTED = DeadLetterAttributes.PREFIX + "valueOmitted";

    /** On a copy whose key did not fit either: {@code sha256:HEX (N bytes)} of it (a release does not find it by key). */
    static final String KEY_OMITTED = DeadLetterAttributes.PREFIX + "keyOmitted";

    /** Where a dead-lettered record was in its source topic. */
    static final String PARTITION = DeadLetterAttributes.PREFIX + "partition";
    static final String OFFSET = DeadLetterAttributes.PREFIX + "offset";
    /** A dead letter's record's identity ({@link KafkaDeliveries#identity}): a release moves it back under it. */
    static final String DEAD_LETTER_ORIGIN = DeadLetterAttributes.PREFIX + "origin";
    /** Header of a record a release moved back from a dead-letter topic: its ledger id, the same at each move back. */
    static final String ORIGIN = "ferry.origin";

    /** No visibility timeout: a record is handed out again only after a rebalance, never because it waited. */
    @Override
    public boolean redeliversAfterLease() {
        return false;
    }

    /** Kafka has no visibility timeout: records stay ours while the partition is; revoked ones are reported. */
    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        return Revocations.notOurs(buffers, deliveries);
    }

    /** A revoked partition's records are its next owner's: nothing more of them runs here (a retry, a key's next). */
    @Override
    public boolean holds(Delivery delivery) {
        return !(delivery.receipt() instanceof Rec r) || Revocations.ours(r); // from its last commit on, too
    }

    /**
     * Stops as a crashed process would: no final commit, and settlements from now on are refused.
     * For tests of what the next consumer sees.
     */
    void abandon() {
        buffers.dropAll();
        close();
    }

    /** Commits what is finished, leaves the group and closes the DLQ producer. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        loop.close();
        deadLetters.close();
        buffers.wakeAll();
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
            // cooperative rebalancing: a member joining or leaving takes back only the partitions that move, not every
            // one (the client's default list starts with the eager RangeAssignor: records in hand ran twice each time).
            // From the default list, one rolling restart moves a group over (KIP-429). Left out under group.protocol consumer
            consumerConfig.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, ClientConfigs.COOPERATIVE_ASSIGNOR);
            // a record of an aborted transaction never happened: not handed out (the client's default reads them)
            consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            // a partition resumed while a fetch for the others waits at the broker is fetched only after that one
            // returns: the client's 500 ms made every resume a half-second stall. A topic mistyped is not made, but refused
            consumerConfig.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, FETCH_MAX_WAIT_MS);
            consumerConfig.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
            producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
            producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        }

        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Any other consumer setting (security, client id, ...); auto-commit stays off, and what the YAML refuses is. */
        public Builder consumerConfig(String key, Object value) {
            var undone = KafkaSourceConfig.safetyUndone(key, value); // read_uncommitted, an eager assignor, reset to latest
            if (key.equals(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG) || !undone.isEmpty()) {
                throw new IllegalArgumentException(undone.isEmpty() ? "enable.auto.commit stays off: Ferry commits after settling"
                        : undone.getFirst());
            }
            consumerConfig.put(key, value);
            return this;
        }

        /** A setting of the dead-letter producer (security, ...); acks=all and idempotence stay on, no transactions. */
        public Builder producerConfig(String key, Object value) {
            if ((key.equals(ProducerConfig.ACKS_CONFIG) || key.equals(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG))
                    && !KafkaSourceConfig.restatesFerrys(key, value)) {
                // acks=1: a dead-letter copy only the leader had, the record's offset committed past it, lost with the leader
                throw new IllegalArgumentException(key + " of the dead-letter producer stays as Ferry sets it "
                        + "(acks=all, idempotence on): a record is committed past only once its copy is safe");
            }
            if (key.equals(ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
                // a transactional producer refuses every send outside a transaction: each dead letter would be retried for ever
                throw new IllegalArgumentException(key + " is not supported for the dead-letter producer: it writes each "
                        + "copy on its own, idempotently, outside any transaction");
            }
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
         * Bytes in hand per partition (key + value + headers of the records in its buffer, and a fixed
         * cost per record and per header for their objects) before it is paused (16 MiB by default). A
         * partition is paused when either cap is reached; a record larger than the cap is still taken
         * when the buffer is empty.
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
