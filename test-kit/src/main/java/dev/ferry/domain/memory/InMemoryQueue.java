package dev.ferry.domain.memory;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A queue in memory that behaves like Amazon SQS, for tests and for embedding users' own tests:
 * visibility timeouts, receive counts, redelivery when a lease runs out, receipt handles that go
 * stale on re-receive, FIFO groups locked while one of their messages is in flight, a 5-minute
 * deduplication window (explicit or content-based SHA-256), redrive to a dead-letter queue after
 * {@code maxReceiveCount}, queue and per-message delays, long polling.
 *
 * <p>As on SQS, only a FIFO queue orders by the sender's group id: a standard queue hands it out as the
 * {@value #MESSAGE_GROUP_ID} attribute and no delivery of it has a group key, so its messages run at once, as in
 * production. {@link Builder#keyed()} makes it each delivery's key instead, handed out and held as Kafka does a key.
 *
 * <p>It is a {@link Source}, an {@link Acknowledger} and a {@link Sink} at once. Time is read from
 * the injected {@link Clock}; long polls wait in real time. Thread-safe.
 */
public final class InMemoryQueue implements Source, Acknowledger, Sink {

    /** Attribute names a dead-lettered message carries, next to its own attributes. */
    public static final String REASON_ATTRIBUTE = DeadLetterAttributes.REASON;
    public static final String SOURCE_ATTRIBUTE = DeadLetterAttributes.SOURCE;
    public static final String RECEIVE_COUNT_ATTRIBUTE = DeadLetterAttributes.RECEIVE_COUNT;
    public static final String SEQUENCE_NUMBER = "SequenceNumber";
    /** The attribute a standard queue hands a sender's group id out in: SQS's name, which {@code SqsSource} asks for. */
    public static final String MESSAGE_GROUP_ID = "MessageGroupId";

    /** A message to send. {@code delay} is only allowed on standard queues (as in SQS). */
    public record Message(byte[] body, Map<String, String> attributes, String groupId, String deduplicationId,
                          Duration delay) {
        public Message {
            Objects.requireNonNull(body, "body");
            attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
            delay = delay == null ? Duration.ZERO : delay;
        }

        public static Message of(String body) {
            return new Message(body.getBytes(StandardCharsets.UTF_8), Map.of(), null, null, Duration.ZERO);
        }

        public static Message of(String body, String groupId) {
            return new Message(body.getBytes(StandardCharsets.UTF_8), Map.of(), groupId, null, Duration.ZERO);
        }

        public Message withAttributes(Map<String, String> attributes) {
            return new Message(body, attributes, groupId, deduplicationId, delay);
        }

        public Message withDeduplicationId(String deduplicationId) {
            return new Message(body, attributes, groupId, deduplicationId, delay);
        }

        public Message withDelay(Duration delay) {
            return new Message(body, attributes, groupId, deduplicationId, delay);
        }
    }

    /** The answer to a send: the message id, and whether the dedup window swallowed it. */
    public record SendResult(String messageId, boolean duplicate) {
    }

    /** What a test sees of a stored message. */
    public record Stored(String id, String body, Map<String, String> attributes, String groupId, int receiveCount,
                         boolean inFlight) {
    }

    private final String name;
    private final boolean fifo;
    /** A standard queue whose sender's group id is each delivery's group key ({@link Builder#keyed()}). */
    private final boolean keyed;
    private final boolean contentBasedDeduplication;
    private final Duration queueDelay;
    private final InMemoryQueue deadLetterQueue;
    private final Clock clock;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final MessageStore store;
    private final LinkedHashMap<String, StoredMessage> messages;
    private final DeduplicationWindow deduplication;
    private long ids;
    private long sequence;
    private volatile boolean closed;

    private InMemoryQueue(Builder b) {
        this.name = b.name;
        this.fifo = b.fifo;
        this.keyed = b.keyed && !b.fifo;
        this.contentBasedDeduplication = b.contentBasedDeduplication;
        this.queueDelay = b.delay;
        this.deduplication = new DeduplicationWindow(b.deduplicationWindow);
        this.deadLetterQueue = b.deadLetterQueue;
        this.clock = b.clock;
        this.store = new MessageStore(name, fifo, keyed, b.deadLetterQueue == null ? null
                : (m, reason) -> b.deadLetterQueue.send(MessageStore.deadLetterCopy(m, reason, name, b.deadLetterQueue.fifo, keyed)),
                b.maxReceiveCount);
        this.messages = store.messages;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** A standard queue with SQS's defaults and no dead-letter queue. */
    public static InMemoryQueue standard(String name) {
        return builder(name).build();
    }

    @Override
    public String name() {
        return name;
    }

    public boolean fifo() {
        return fifo;
    }

    /**
     * SQS's 12 hours, which extensions and Redeliver are cut to here: undeclared, a listener leasing longer was built on
     * this queue and refused on SQS. A keyed queue, Kafka's stand-in, declares none, as the Kafka source does.
     */
    @Override
    public Duration longestLease() {
        return keyed ? Source.super.longestLease() : MessageStore.LONGEST_INVISIBLE;
    }

    // ------------------------------------------------------------------ sending

    public SendResult send(String body) {
        return send(Message.of(body));
    }

    /**
     * Sends one message. Throws {@link IllegalArgumentException} for what SQS would refuse: a FIFO
     * message without a group id, or without a dedup id where content-based dedup is off; a
     * per-message delay on a FIFO queue. A dedup id on a standard queue (which SQS refuses) is carried on the
     * delivery (a keyed one's carries Kafka's), for a test that keys its events by it, and does not deduplicate:
     * each send is a message of its own. A group id on a standard queue orders nothing, as on SQS: it is
     * handed out as the {@value #MESSAGE_GROUP_ID} attribute, and as the group key only on a {@link Builder#keyed()} one.
     */
    public SendResult send(Message message) {
        Objects.requireNonNull(message, "message");
        if (closed) {
            throw new FerryException("queue '" + name + "' is closed", false);
        }
        var now = clock.instant();
        String dedupId = MessageStore.deduplicationIdOf(message, name, fifo, contentBasedDeduplication); // or refused
        lock.lock();
        try {
            // a standard queue does not deduplicate (SQS refuses the id there; here it is carried, as a producer's id
            // the event is keyed by, and a second send is a second message — the ledger's duplicate to drop)
            var earlier = dedupId == null || !fifo ? null : deduplication.earlier(dedupId, now);
            if (earlier != null) {
                return new SendResult(earlier, true);
            }
            var id = name + "-" + (++ids);
            var attributes = new HashMap<>(message.attributes());
            if (fifo) {
                attributes.put(SEQUENCE_NUMBER, String.format("%020d", ++sequence));
            }
            var delay = message.delay().isZero() ? queueDelay : message.delay();
            messages.put(id, new StoredMessage(id, message.body(), Map.copyOf(attributes), message.groupId(), dedupId,
                    now, now.plus(delay)));
            if (dedupId != null && fifo) {
                deduplication.remember(dedupId, id, now);
            }
            changed.signalAll();
            return new SendResult(id, false);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sink: payload as body (FIFO: group key, key as dedup id; keyed: group key; standard: neither, as the SQS sink
     * sends them only to FIFO queues); what SQS refuses is rejected ({@link SinkRefusals}). A keyed queue takes what the
     * Kafka sink writes ({@link KafkaRecords}): any bytes or none, with the sink's headers for attributes, and rejects a
     * record a broker refuses at its default {@code message.max.bytes}, as that sink does.
     */
    @Override
    public Outcome publish(Event event) {
        // on a keyed queue SQS's refusals rejected an empty or a binary payload, which the Kafka sink it stands for writes;
        // with none in their place, a 5 MiB event was done here that a broker refuses (RecordTooLargeException) there
        String refused = keyed ? KafkaRecords.refusal(event, name) : SinkRefusals.of(event, name, fifo);
        if (refused != null) {
            return Outcome.reject(refused);
        }
        try {
            // FIFO ids as the SQS sink makes them: one SQS would refuse goes as its hash, and arrives so downstream. A
            // standard queue's group id was a key downstream here that it is not behind the SQS sink, which sends none; a
            // keyed queue sent the event's attributes on, which the Kafka sink writes none of (matched here, not there)
            String group = fifo ? SinkRefusals.sqsId(event.groupKey()) : keyed ? event.groupKey() : null;
            send(new Message(event.payload(), keyed ? KafkaRecords.headers(event) : event.attributes(), group,
                    fifo ? SinkRefusals.sqsDedupId(event.key()) : null, null));
            return Outcome.done();
        } catch (FerryException e) {
            return Outcome.retry(e.getMessage());
        } catch (IllegalArgumentException e) {
            return Outcome.reject(e.getMessage());
        }
    }

    // ------------------------------------------------------------------ receiving

    @Override
    public List<Delivery> poll(PollRequest request) {
        if (closed) {
            throw new FerryException("queue '" + name + "' is closed", false);
        }
        long deadline = System.nanoTime() + request.maxWait().toNanos();
        lock.lock();
        try {
            while (true) {
                var batch = store.receive(clock.instant(), request.maxMessages(), request.lease());
                long remaining = deadline - System.nanoTime();
                if (!batch.isEmpty() || remaining <= 0 || closed) {
                    return batch;
                }
                try {
                    // Woken by sends and settlements; re-checks at least every 20 ms for leases running out.
                    changed.await(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(20)), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return List.of();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ settling

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        var failures = new ArrayList<Settlement.Failure>();
        lock.lock();
        try {
            var now = clock.instant();
            for (var s : settlements) {
                var problem = store.settle(s, now);
                if (problem != null) {
                    failures.add(new Settlement.Failure(s, problem, false));
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return failures;
    }

    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        return locked(() -> deliveries.stream().filter(d -> !store.extend(d, clock.instant(), lease)).toList());
    }

    // ------------------------------------------------------------------ looking inside

    /** Every message in the queue, in send order, with its state. */
    public List<Stored> messages() {
        return locked(() -> messages.values().stream().map(m -> new Stored(m.id, new String(m.body, StandardCharsets.UTF_8),
                m.attributes, m.groupId, m.receiveCount, m.inFlight(clock.instant()))).toList());
    }

    /** Messages in the queue, visible or not (SQS: ApproximateNumberOfMessages + NotVisible + Delayed). */
    public int size() {
        return locked(messages::size);
    }

    /** Messages leased to a consumer right now. */
    public int inFlightCount() {
        return locked(() -> (int) messages.values().stream().filter(m -> m.inFlight(clock.instant())).count());
    }

    /** Removes every message (SQS PurgeQueue). */
    public void purge() {
        locked(() -> {
            messages.clear();
            return null;
        });
    }

    private <T> T locked(java.util.function.Supplier<T> body) {
        lock.lock();
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    public InMemoryQueue deadLetterQueue() {
        return deadLetterQueue;
    }

    @Override
    public void close() {
        closed = true;
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Defaults as in SQS: no delay, a 5-minute dedup window, no dead-letter queue. */
    public static final class Builder {
        private final String name;
        private boolean fifo;
        private boolean keyed;
        private boolean contentBasedDeduplication;
        private Duration delay = Duration.ZERO;
        private Duration deduplicationWindow = Duration.ofMinutes(5);
        private InMemoryQueue deadLetterQueue;
        private int maxReceiveCount = Integer.MAX_VALUE;
        private Clock clock = Clock.systemUTC();

        private Builder(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("queue name must be non-blank");
            }
            this.name = name;
            this.fifo = name.endsWith(".fifo");
        }

        public Builder fifo(boolean fifo) {
            if (fifo != name.endsWith(".fifo")) {
                throw new IllegalArgumentException("a FIFO queue's name must end with '.fifo' and only a FIFO queue's may; "
                        + "name was '" + name + "', fifo " + fifo);
            }
            this.fifo = fifo;
            return this;
        }

        /**
         * A standard queue standing in for a Kafka topic of one partition, for a test of ordering by key (SQS's standard
         * queues order by nothing). A sender's group id is each delivery's group key, held as Kafka holds a record's key:
         * while a message of the key is out or waits to come back (a Redeliver's delay), no later one of it is handed out;
         * while one without a group id waits to come back, none at all is, as Kafka holds the partition. Deliveries carry
         * {@code kafka.topic} (the queue's name), {@code kafka.partition} (0), {@code kafka.offset} (send order from 0) and
         * a Kafka source's ids: {@code topic-0@offset}, and for dedup id the record's incarnation or the identity a release
         * moved it back under, never a sender's. As a sink it writes what the Kafka sink writes: its key, any payload, its
         * headers ({@code ferry.event.id}, {@code .type}, {@code .source} "ferry", a trace context), not the event's
         * attributes; a record over a broker's default {@code message.max.bytes} is rejected. FIFO is keyed already.
         */
        public Builder keyed() { this.keyed = true; return this; }

        public Builder contentBasedDeduplication(boolean on) { this.contentBasedDeduplication = on; return this; }

        public Builder delay(Duration delay) { this.delay = Objects.requireNonNull(delay); return this; }

        public Builder deduplicationWindow(Duration window) {
            this.deduplicationWindow = Objects.requireNonNull(window);
            return this;
        }

        /** Redrive policy: after {@code maxReceiveCount} receives the next receive moves the message to {@code dlq}. */
        public Builder deadLetterQueue(InMemoryQueue dlq, int maxReceiveCount) {
            MessageStore.checkRedrivePolicy(fifo, dlq, maxReceiveCount); // or refused, as SQS refuses such a policy
            this.deadLetterQueue = dlq;
            this.maxReceiveCount = maxReceiveCount;
            return this;
        }

        /** A dead-letter queue without a receive limit: only explicit DeadLetter dispositions go there. */
        public Builder deadLetterQueue(InMemoryQueue dlq) {
            return deadLetterQueue(dlq, Integer.MAX_VALUE);
        }

        public Builder clock(Clock clock) { this.clock = Objects.requireNonNull(clock); return this; }

        public InMemoryQueue build() {
            return new InMemoryQueue(this);
        }
    }
}
