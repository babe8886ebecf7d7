package dev.ferry.adapters.sqs;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Propagation;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * An SQS queue as a {@link Sink}: each event's payload becomes a message body, its attributes
 * message attributes (see {@link MessageAttributes} for SQS's limits).
 *
 * <p>Sends in batches: events published at once by concurrent handlers are gathered into
 * SendMessageBatch calls of up to 10 entries and {@value #MAX_BATCH_BYTES} bytes by a few sender
 * threads, without waiting to fill a batch, so one event alone goes out at once. {@link #publish}
 * returns when SQS confirmed the event ({@code Done}) or did not: entries that failed for a reason
 * that may pass are sent again a few times first, then {@code Retry}; SQS throttling ends in
 * {@code Throttled}; an entry SQS refuses for its content in {@code Reject} with SQS's reason. SQS unreachable,
 * a call without an answer, or a refusal of every message until a setting is mended (the queue gone, a permission
 * or KMS key withdrawn) is waited out for the outage patience ({@code Throttled}), then {@code Retry}.
 *
 * <p>FIFO queues: the event's group key is the MessageGroupId (an event without one is rejected);
 * the deduplication id is the event's idempotency key, or left to the queue's content-based
 * deduplication when asked. Standard queues take a per-message delay. Thread-safe.
 */
public final class SqsSink implements Sink {

    /** SQS's limit for one message and for one batch call. */
    static final int MAX_BATCH_BYTES = 1_048_576;
    private static final Logger LOG = LoggerFactory.getLogger(SqsSink.class);

    /** How a FIFO queue's MessageDeduplicationId is set. */
    public enum Deduplication {
        /** The event's idempotency key (hashed when SQS would refuse it as an id). */
        EVENT_KEY,
        /** None: the queue's content-based deduplication (SHA-256 of the body) decides. */
        CONTENT_BASED
    }

    private record Pending(String key, SendMessageBatchRequestEntry.Builder entry, int bytes, CompletableFuture<Outcome> result) {
    }

    private final SqsClient client;
    private final String queueUrl;
    private final String name;
    private final boolean fifo;
    private final Deduplication deduplication;
    private final String messageGroup;
    private final int delaySeconds;
    private final int maxBatchBytes;
    private final int retries;
    private final Duration throttleDelay;
    /** SQS unreachable, failing or refusing until mended: waited out, then attempts spent ({@link dev.ferry.domain.transport.Outage}). */
    private final dev.ferry.domain.transport.Outage outage;
    private final Duration timeout;
    private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    /** Events a FIFO queue stored altered: sent again under a deduplication id of their own. */
    private final AlteredCopies altered = new AlteredCopies();
    private final List<Thread> senders = new ArrayList<>();
    private volatile boolean closed;

    private SqsSink(Builder b, SqsQueues.QueueInfo info) {
        this.client = b.client;
        this.queueUrl = info.url();
        this.name = b.name != null ? b.name : info.name();
        this.fifo = info.fifo();
        this.deduplication = b.deduplication;
        this.messageGroup = b.messageGroup;
        this.delaySeconds = (int) b.delay.toSeconds();
        this.maxBatchBytes = b.maxBatchBytes;
        this.retries = b.retries;
        this.throttleDelay = b.throttleDelay;
        this.outage = new dev.ferry.domain.transport.Outage(b.outagePatience);
        this.timeout = b.timeout;
        for (int i = 0; i < b.senders; i++) {
            senders.add(Thread.ofPlatform().daemon().name("ferry-sqs-sink-" + name + "-" + i).start(this::sendLoop));
        }
    }

    /** A sink on {@code queue}: its URL, ARN or name. */
    public static Builder builder(SqsClient client, String queue) {
        return new Builder(client, queue);
    }

    @Override
    public String name() {
        return name;
    }

    public String queueUrl() {
        return queueUrl;
    }

    @Override
    public Outcome publish(Event event) {
        return await(enqueue(event));
    }

    /** Publishes several events at once; the outcomes are in the events' order. */
    public List<Outcome> publishAll(List<Event> events) {
        var queued = events.stream().map(this::enqueue).toList();
        return queued.stream().map(this::await).toList();
    }

    /** An outcome known without sending anything. */
    private static Pending answered(Outcome outcome) {
        return new Pending(null, null, 0, CompletableFuture.completedFuture(outcome));
    }

    private Pending enqueue(Event event) {
        if (closed) {
            return answered(Outcome.retry("SQS sink '" + name + "' is closed"));
        }
        var entry = SendMessageBatchRequestEntry.builder();
        String body = SqsText.of(event.payload());
        String refused = SendRefusals.refused(event, body, name);
        if (refused != null) {
            return answered(Outcome.reject(refused));
        }
        Map<String, MessageAttributeValue> attributes = MessageAttributes.fromEvent(event.attributes(), Propagation.current());
        entry.messageBody(body).messageAttributes(attributes);
        if (fifo) {
            if (messageGroup != null) {
                entry.messageGroupId(messageGroup);
            } else if (event.groupKey() == null) {
                return answered(Outcome.reject("FIFO queue '" + name
                        + "' needs a MessageGroupId, but event " + event.key() + " has no group key"));
            } else {
                entry.messageGroupId(SqsIds.of(event.groupKey()));
            }
            Integer times = altered.times(event.key());
            if (deduplication == Deduplication.EVENT_KEY || times != null) { // content-based too: the body may be intact
                entry.messageDeduplicationId(AlteredCopies.eventDedupId(event.key(), times));
            }
        } else if (delaySeconds > 0) {
            entry.delaySeconds(delaySeconds);
        }
        int bytes = event.payload().length + MessageAttributes.bytes(attributes);
        if (bytes > maxBatchBytes) {
            return answered(Outcome.reject("event " + event.key() + " is " + bytes
                    + " bytes with its attributes; SQS queue '" + name + "' takes at most " + maxBatchBytes));
        }
        var p = new Pending(event.key(), entry, bytes, new CompletableFuture<>());
        pending.add(p);
        if (closed && pending.remove(p)) {
            // close() may have drained the queue before this was added. Answered only if still queued: a sender
            // that took it sends it and answers (a Retry for an event also sent would publish it twice)
            p.result().complete(Outcome.retry("SQS sink '" + name + "' is closed"));
        }
        return p;
    }

    /**
     * The outcome of {@code p}, waited for up to the timeout. Given up on while still queued, it is taken
     * out of the queue first: a Retry for an event still to be sent would publish it twice.
     */
    private Outcome await(Pending p) {
        var result = p.result();
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return pending.remove(p) ? Outcome.retry("interrupted before sending to SQS queue '" + name + "'")
                    : Outcome.retry("interrupted while sending to SQS queue '" + name + "'; it may still arrive");
        } catch (TimeoutException e) { // SQS hanging, the senders held by it: an outage too
            return outage.failed(p.key(), pending.remove(p) ? "not sent to SQS queue '" + name + "' within " + timeout
                    + " (its senders are busy)" : "no answer from SQS queue '" + name + "' within " + timeout
                    + "; it may still arrive", throttleDelay);
        } catch (ExecutionException e) {
            return Outcome.retry("sending to SQS queue '" + name + "' failed: " + e.getCause());
        }
    }

    private void sendLoop() {
        var batch = new ArrayList<Pending>(Batches.MAX_ENTRIES);
        while (!closed || !pending.isEmpty()) {
            try {
                var first = pending.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                int bytes = first.bytes();
                Pending next;
                while (batch.size() < Batches.MAX_ENTRIES && (next = pending.peek()) != null
                        && bytes + next.bytes() <= maxBatchBytes && pending.remove(next)) {
                    batch.add(next);
                    bytes += next.bytes();
                }
                send(batch);
            } catch (InterruptedException e) { // the close does not interrupt senders: a client interceptor left the
                continue; // flag set, and ending here left every publish waiting its timeout, "senders busy", until a restart
            } catch (Throwable e) { // an Error too (a plugin's, a serialiser's): this batch fails, the thread goes on —
                String failure = dev.ferry.domain.model.Thrown.describe(e); // whatever its text does (thrown, it ended the sender)
                batch.forEach(p -> p.result().complete(Outcome.retry("SQS sink '" + name + "' failed: " + failure)));
                LOG.error("SQS sink '" + name + "': unexpected failure", dev.ferry.domain.model.Thrown.loggable(e));
            } finally {
                batch.clear();
            }
        }
    }

    private void send(List<Pending> batch) {
        var errors = Batches.run(batch, p -> 0, Integer.MAX_VALUE, retries, chunk -> {
            var entries = new ArrayList<SendMessageBatchRequestEntry>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                entries.add(chunk.get(i).entry().id(Integer.toString(i)).build());
            }
            var unconfirmed = SendAnswers.unconfirmed(entries, client.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries)
                    .overrideConfiguration(SqsTimeouts.CALLS)));
            for (var e : fifo ? unconfirmed : List.<software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry>of()) {
                if (SendAnswers.ALTERED.equals(e.code())) { // sent again (now or by a later publish) under an id of its own
                    var p = chunk.get(Integer.parseInt(e.id()));
                    altered.altered(p.key());
                    p.entry().messageDeduplicationId(AlteredCopies.eventDedupId(p.key(), altered.times(p.key())));
                }
            }
            return unconfirmed;
        });
        for (var p : batch) {
            var error = errors.get(p);
            if (error != null && (error.unavailable() || error.needsMending())) {
                // not the outage's end; answered Retry, a queue or key mended in minutes dead-lettered the events meanwhile
                p.result().complete(outage.failed(p.key(), "SQS queue '" + name + "': " + error, "SQS queue '" + name
                        + "': " + error.code(), throttleDelay)); // in brief without SQS's words: they name the account
            } else { // SQS answered for it, whatever it said
                if (error == null || !SqsErrors.CALL_FAILED.equals(error.code())) { // not when its call failed unanswered
                    outage.worked(p.key());
                }
                p.result().complete(error == null ? Outcome.done() : SqsErrors.outcome(error, name, throttleDelay));
            }
        }
    }

    @Override
    public java.util.Optional<String> holdingBack() {
        return outage.holdingBack();
    }

    @Override
    public java.util.Optional<String> holdingBackInBrief() {
        return outage.holdingBackInBrief();
    }

    /** Stops the sender threads after what is queued has been sent (waiting up to the send timeout). */
    @Override
    public void close() {
        closed = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        for (var t : senders) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Pending p;
        while ((p = pending.poll()) != null) {
            p.result().complete(Outcome.retry("SQS sink '" + name + "' is closed"));
        }
    }

    /** Builds an {@link SqsSink}; {@link #build()} looks the queue up, so a missing queue fails here. */
    public static final class Builder {
        private final SqsClient client;
        private final String queue;
        private String name;
        private Deduplication deduplication = Deduplication.EVENT_KEY;
        private String messageGroup;
        private Duration delay = Duration.ZERO;
        private int senders = 4;
        private int maxBatchBytes = MAX_BATCH_BYTES;
        private int retries = 3;
        private Duration throttleDelay = Duration.ofSeconds(1);
        private Duration outagePatience = dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE;
        private Duration timeout = SqsTimeouts.SINK_PUBLISH;

        private Builder(SqsClient client, String queue) {
            this.client = Objects.requireNonNull(client, "client");
            this.queue = Objects.requireNonNull(queue, "queue");
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** FIFO queues only: where the MessageDeduplicationId comes from (the event key by default). */
        public Builder deduplication(Deduplication deduplication) {
            this.deduplication = Objects.requireNonNull(deduplication, "deduplication");
            return this;
        }

        /**
         * FIFO queues only: one MessageGroupId for every message (one ordered stream), instead of
         * each event's group key.
         */
        public Builder messageGroup(String group) {
            if (group != null && !SqsIds.valid(group)) {
                throw new IllegalArgumentException("messageGroup must be 1-128 letters, digits or punctuation, was '"
                        + group + "'");
            }
            this.messageGroup = group;
            return this;
        }

        /** Standard queues only: every message is delivered this long after it is sent (0..15 min). */
        public Builder delay(Duration delay) {
            if (delay.isNegative() || delay.toSeconds() > 900 || delay.getNano() != 0) {
                throw new IllegalArgumentException("delay must be whole seconds 0..900, was " + delay);
            }
            this.delay = delay;
            return this;
        }

        /** Threads sending batches at once (4 by default). */
        public Builder senders(int senders) {
            if (senders < 1) {
                throw new IllegalArgumentException("senders must be >= 1, was " + senders);
            }
            this.senders = senders;
            return this;
        }

        /** The most bytes in one batch call (1 MiB, SQS's limit, by default). */
        public Builder maxBatchBytes(int bytes) {
            if (bytes < 1024 || bytes > MAX_BATCH_BYTES) {
                throw new IllegalArgumentException("maxBatchBytes must be 1024.." + MAX_BATCH_BYTES + ", was " + bytes);
            }
            this.maxBatchBytes = bytes;
            return this;
        }

        /** How often an entry that failed for a passing reason is sent again before {@code Retry} (3 by default). */
        public Builder retries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must be >= 0, was " + retries);
            }
            this.retries = retries;
            return this;
        }

        /** How long to hold an event back when SQS throttles the sends (1 s by default). */
        public Builder throttleDelay(Duration delay) {
            this.throttleDelay = Objects.requireNonNull(delay, "throttleDelay");
            return this;
        }

        /**
         * How long SQS unreachable, failing (5xx, no answer) or refusing every message until a queue, permission or
         * KMS key is mended is waited out ({@code Throttled}) before attempts are spent (15 min by default).
         */
        public Builder outagePatience(Duration patience) {
            this.outagePatience = Objects.requireNonNull(patience, "outagePatience");
            return this;
        }

        /** The longest {@link #publish} waits for SQS's answer (2 min by default). */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        public SqsSink build() {
            var queues = SqsQueues.of(client);
            var info = queues.describe(queues.url(queue));
            if (info.fifo() && !delay.isZero()) {
                throw new IllegalArgumentException("SQS queue '" + info.name() + "' is FIFO: FIFO queues take no "
                        + "per-message delay (set the queue's DelaySeconds instead), was " + delay);
            }
            if (info.fifo() && deduplication == Deduplication.CONTENT_BASED && !info.contentBasedDeduplication()) {
                throw new IllegalArgumentException("SQS queue '" + info.name() + "' does not have content-based "
                        + "deduplication on; turn it on (ContentBasedDeduplication=true) or deduplicate by EVENT_KEY");
            }
            return new SqsSink(this, info);
        }
    }
}
