package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.time.Clock;
import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * An SQS queue as Ferry's {@link Source} and {@link Acknowledger}.
 *
 * <p>Polls with long polling (up to 20 s), batches of up to 10, and the visibility timeout of each
 * poll's lease; asks for the system attributes Ferry uses and all message attributes (system
 * attributes win a name clash, so a message attribute cannot pose as the SenderId). Before a
 * message is handed out its MD5 digests are checked and, if an allowlist is set, its SenderId: a
 * message failing either is dead-lettered with the reason and never handled.
 *
 * <p>Settles in batches (DeleteMessageBatch, ChangeMessageVisibilityBatch, SendMessageBatch to the
 * DLQ), retrying entries that failed for reasons that may pass; a stale receipt handle is counted
 * and logged and reported as a failure, never thrown. A dead-lettered message is deleted only
 * after the DLQ confirmed its copy. Visibility changes are capped at what remains of SQS's 12 hours.
 *
 * <p>A poll interrupted while its receive call is in flight returns at once; messages that call
 * brings back later are made visible again straight away, so stopping Ferry leaves nothing
 * invisible for a whole timeout. Closing the source does not close the client. Thread-safe.
 *
 * <p>Verify digests here, not in the SDK: a client built with checksum validation on rejects a
 * whole receive when one message is damaged (see {@link SqsClients}, which turns it off).
 */
public final class SqsSource implements Source, Acknowledger {

    /** SQS's ceiling for a message's visibility, counted from its receive. */
    static final int MAX_VISIBILITY_SECONDS = 43_200;
    /** SQS's longest long-poll wait. */
    static final int MAX_WAIT_SECONDS = 20;
    /** Receives with an MD5 mismatch before a message is dead-lettered: damage in transit rarely repeats. */
    static final int MD5_RECEIVES = ReceivedMessages.MD5_RECEIVES;
    private static final Logger LOG = LoggerFactory.getLogger(SqsSource.class);
    private static final List<MessageSystemAttributeName> SYSTEM_ATTRIBUTES = List.of(
            MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT,
            MessageSystemAttributeName.APPROXIMATE_FIRST_RECEIVE_TIMESTAMP,
            MessageSystemAttributeName.SENT_TIMESTAMP,
            MessageSystemAttributeName.SENDER_ID,
            MessageSystemAttributeName.MESSAGE_GROUP_ID,
            MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID,
            MessageSystemAttributeName.SEQUENCE_NUMBER,
            MessageSystemAttributeName.AWS_TRACE_HEADER);

    private final SqsClient client;
    private final String queueUrl;
    private final String name;
    /** The queue's own name (what {@code ferry queues redrive --to} takes), whatever the source is called. */
    private final String queueName;
    private final boolean fifo;
    private final String deadLetterQueueUrl;
    /** Deletes, visibility changes and dead-letter copies. */
    private final SqsAcknowledgements acknowledgements;
    /** What a received message becomes, and whether it may be handled (MD5, allowed senders). */
    private final ReceivedMessages screening;
    private final int maxWaitSeconds;
    /** How long {@link #close()} waits for a receive still open, unless the builder says otherwise. */
    public static final Duration DEFAULT_CLOSE_WAIT = Duration.ofSeconds(5);

    private final Duration closeWait;
    private final int settleRetries;
    private final Clock clock;
    private final String throttleWarning;
    /** Runs receives (so a poll can be given up) and the extra chunks of a batch of acknowledgements. */
    private final ExecutorService calls;
    private volatile boolean closed;
    private final LongAdder received = new LongAdder();
    private final IdleShortPolls idleShortPolls = new IdleShortPolls();
    private final LongAdder releasedAfterInterrupt = new LongAdder();

    /** Counters since the source was built; {@code refusedUnsettled}: screening's dead letters and releases that failed. */
    public record Stats(long received, long deadLettered, long md5Mismatches, long foreignSenders,
                        long invalidReceipts, long settleFailures, long releasedAfterInterrupt, long refusedUnsettled) {
        public Stats(long received, long deadLettered, long md5Mismatches, long foreignSenders, // as before the last one
                     long invalidReceipts, long settleFailures, long releasedAfterInterrupt) {
            this(received, deadLettered, md5Mismatches, foreignSenders, invalidReceipts, settleFailures, releasedAfterInterrupt, 0);
        }
    }

    private SqsSource(Builder b, SqsQueues.QueueInfo info, String deadLetterQueueUrl) {
        this.client = b.client;
        this.queueUrl = info.url();
        this.name = b.name != null ? b.name : info.name();
        this.queueName = info.name();
        this.fifo = info.fifo();
        this.deadLetterQueueUrl = deadLetterQueueUrl;
        this.screening = new ReceivedMessages(this.name, info.name(), info.arn(), b.clock, b.verifyMd5, Set.copyOf(b.allowedSenders));
        this.maxWaitSeconds = (int) b.maxWait.toSeconds();
        this.closeWait = b.closeWait;
        this.settleRetries = b.settleRetries;
        this.clock = b.clock;
        this.throttleWarning = ThrottleWarnings.of(info, b.ferryMaxReceives).orElse(null);
        // reused platform threads, not a virtual thread per call: the SDK keeps per-thread state (its
        // signing Mac) that a fresh thread builds again for every call, a fifth of a receive's CPU
        this.calls = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("ferry-sqs-" + name + "-", 0).factory());
        this.refusedCopies = new RefusedCopies(calls, 2);
        this.acknowledgements = new SqsAcknowledgements(client, queueUrl, name, settleRetries, calls,
                new DeadLetterCopies(client, deadLetterQueueUrl, queueName, name, settleRetries, calls));
    }

    /** A source on {@code queue}: its URL, ARN or name. */
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

    public boolean fifo() {
        return fifo;
    }

    /** Where dead letters go; empty when the queue has no DLQ and none was configured. */
    public Optional<String> deadLetterQueueUrl() {
        return Optional.ofNullable(deadLetterQueueUrl);
    }

    /** The start-up warning about the queue's own redrive policy, if it would dead-letter throttled messages. */
    public Optional<String> throttleWarning() {
        return Optional.ofNullable(throttleWarning);
    }

    public Stats stats() {
        return new Stats(received.sum(), acknowledgements.deadLettersCopied(), screening.md5Mismatches(),
                screening.foreignSenders(), acknowledgements.invalidReceipts(), acknowledgements.settleFailures(),
                releasedAfterInterrupt.sum(), acknowledgements.refusedUnsettled());
    }

    @Override // SQS's longest visibility timeout: a longer lease was cut to it unsaid, a copy ran beside its handler
    public Duration longestLease() {
        return Duration.ofSeconds(MAX_VISIBILITY_SECONDS);
    }

    @Override
    public List<Delivery> poll(PollRequest request) {
        if (closed) {
            throw new FerryException("SQS source '" + name + "' is closed", false);
        }
        if (Thread.currentThread().isInterrupted()) {
            return List.of();
        }
        int wait = waitSeconds(request.maxWait(), maxWaitSeconds);
        var receive = ReceiveMessageRequest.builder().queueUrl(queueUrl)
                .maxNumberOfMessages(Math.min(Batches.MAX_ENTRIES, request.maxMessages()))
                .waitTimeSeconds(wait).overrideConfiguration(SqsTimeouts.receive(wait))
                .visibilityTimeout(visibilitySeconds(request.lease()))
                .messageSystemAttributeNames(SYSTEM_ATTRIBUTES)
                .messageAttributeNames("All");
        if (fifo) {
            // the SDK's own retries of this call reuse it, so a receive lost to a network error is returned again
            receive.receiveRequestAttemptId(UUID.randomUUID().toString());
        }
        var call = receive.build();
        long receivedAt = System.nanoTime(); // the ask: SQS's 12 hours count from no earlier
        var response = CompletableFuture.supplyAsync(() -> client.receiveMessage(call), calls);
        try {
            var messages = response.get().messages();
            idleShortPolls.after(messages.isEmpty() && wait == 0, request.maxWait()); // max-wait 0s: no spin when idle
            return accept(messages, receivedAt, System.nanoTime(), request.lease()); // answered: SQS leased them ~then
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.thenAccept(this::releaseOrphans);
            return List.of();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re
                    ? SqsErrors.translate("ReceiveMessage", name, re)
                    : new FerryException("SQS ReceiveMessage on '" + name + "' failed", e.getCause(), true);
        }
    }

    static int waitSeconds(Duration wait, int maxWaitSeconds) {
        return (int) Math.max(0, Math.min(maxWaitSeconds, Durations.ceilSeconds(wait)));
    }

    static int visibilitySeconds(Duration lease) {
        return (int) Math.max(1, Math.min(MAX_VISIBILITY_SECONDS, Durations.ceilSeconds(lease)));
    }

    /** Refused messages' copies slower than this hand the accepted ones out with their lease made whole again. */
    private static final long SLOW_SETTLE_NANOS = 1_000_000_000L;

    /** Copies of refused messages to the DLQ under way beside the polls (standard queues): two at most. */
    private final RefusedCopies refusedCopies;

    private List<Delivery> accept(List<Message> messages, long receivedAt, long answeredAt, Duration lease) {
        if (messages.isEmpty()) {
            return List.of();
        }
        if (fifo && messages.stream().anyMatch(m -> m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID) == null)) {
            // a server that does not read MessageSystemAttributeNames (ElasticMQ, LocalStack, moto before 2024): taken
            // without their groups, one group's messages ran at once, out of order. Left to come back, said loudly
            throw new FerryException("SQS FIFO queue '" + name + "' answered a message without its MessageGroupId: the server "
                    + "does not return the system attributes Ferry asks for (MessageSystemAttributeNames), and the group's order "
                    + "cannot be kept; nothing is handled (what was received comes back when its visibility runs out, a receive "
                    + "counted) — use a server that does", false);
        }
        received.add(messages.size());
        var sorted = screening.sort(messages, receivedAt, fifo);
        if (!sorted.refused().isEmpty()) {
            if (fifo) {
                long began = System.nanoTime();
                acknowledgements.settleRefused(sorted.refused()); // before its group's later messages go out: in order
                if (System.nanoTime() - began > SLOW_SETTLE_NANOS && !sorted.accepted().isEmpty()) {
                    // the listener counts the lease from the poll's end: after copies that took a while, SQS is told so
                    return acknowledgements.renewed(sorted.accepted(), lease, answeredAt);
                }
            } else {
                refusedCopies.start(() -> acknowledgements.settleRefused(sorted.refused())); // or copied by a later receive
            }
        }
        return sorted.accepted();
    }

    private void releaseOrphans(ReceiveMessageResponse response) {
        if (response.messages().isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        releasedAfterInterrupt.add(acknowledgements.releaseOrphans(
                response.messages().stream().map(m -> screening.toDelivery(m, now, fifo)).toList()));
    }

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        return acknowledgements.settle(settlements);
    }

    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        return acknowledgements.extendLeases(deliveries, lease);
    }

    /**
     * Stops receiving and waits, at most {@link Builder#closeWait} (5 s by default), for receives still open to end and
     * what they brought to be released, so that the client can be closed after. A receive still open after that keeps
     * what it may yet bring invisible until its lease runs out: late, never lost. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        calls.shutdown();
        try {
            if (!calls.awaitTermination(closeWait.toMillis(), TimeUnit.MILLISECONDS) && closeWait.isPositive()) {
                LOG.info("SQS '{}': a receive or acknowledgement call was still open {} after close; what it may "
                        + "bring, or had yet to settle, comes back when its lease runs out", name, Durations.text(closeWait));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Builds an {@link SqsSource}; {@link #build()} looks the queue up (a missing queue fails here), and warns of a
     *  dead-letter queue that keeps messages less than 14 days (SQS deletes them after it, unsaid). */
    public static final class Builder {
        private final SqsClient client;
        private final String queue;
        private String name;
        private Duration maxWait = Duration.ofSeconds(MAX_WAIT_SECONDS);
        private Collection<String> allowedSenders = Set.of();
        private boolean verifyMd5 = true;
        private String deadLetterQueue;
        private boolean noDeadLetterQueue;
        private Duration closeWait = DEFAULT_CLOSE_WAIT;
        private int ferryMaxReceives = DeadLetterPolicy.defaults().maxReceives();
        private int settleRetries = 3;
        private Clock clock = Clock.systemUTC();

        private Builder(SqsClient client, String queue) {
            this.client = Objects.requireNonNull(client, "client");
            this.queue = Objects.requireNonNull(queue, "queue");
        }

        /** The name in logs and statistics; the queue's name by default. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** The longest long-poll wait per receive (0..20 s; 20 s by default); a poll's own wait is capped by it. */
        public Builder maxWait(Duration maxWait) {
            if (maxWait.isNegative() || maxWait.toSeconds() > MAX_WAIT_SECONDS || maxWait.getNano() != 0) {
                throw new IllegalArgumentException("maxWait must be whole seconds 0..20, was " + maxWait);
            }
            this.maxWait = maxWait;
            return this;
        }

        /** Accept only messages whose SenderId is one of these; others are dead-lettered. Empty = everyone. */
        public Builder allowedSenders(Collection<String> senderIds) {
            this.allowedSenders = Set.copyOf(senderIds);
            return this;
        }

        /** Check MD5OfBody and MD5OfMessageAttributes of every message (on by default). */
        public Builder verifyMd5(boolean verify) {
            this.verifyMd5 = verify;
            return this;
        }

        /** The dead-letter queue (URL, ARN or name); by default the one in the queue's RedrivePolicy. */
        public Builder deadLetterQueue(String queue) {
            this.deadLetterQueue = queue;
            this.noDeadLetterQueue = false;
            return this;
        }

        /**
         * How long {@link SqsSource#close()} waits for receives still open (5 s by default; up to the
         * long-poll wait makes sure whatever they bring is released at once, at the cost of a slower stop).
         */
        public Builder closeWait(Duration wait) {
            if (wait == null || wait.isNegative()) {
                throw new IllegalArgumentException("closeWait must be >= 0, was " + wait);
            }
            this.closeWait = wait;
            return this;
        }

        /**
         * None, on purpose: no warning at {@link #build()}; a message Ferry would dead-letter stays in the
         * queue (SQS's own redrive policy, if any, moves it after its receives), with the reason logged.
         */
        public Builder noDeadLetterQueue() {
            this.noDeadLetterQueue = true;
            this.deadLetterQueue = null;
            return this;
        }

        /** The listener's own dead-letter limit, to judge whether the queue's redrive policy is safe. */
        public Builder ferryMaxReceives(int maxReceives) {
            this.ferryMaxReceives = maxReceives;
            return this;
        }

        /** How often a batch entry that failed for a passing reason is sent again (3 by default). */
        public Builder settleRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("settleRetries must be >= 0, was " + retries);
            }
            this.settleRetries = retries;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public SqsSource build() {
            var queues = SqsQueues.of(client);
            var info = queues.describe(queues.url(queue));
            String dlq = noDeadLetterQueue ? null : deadLetterQueue != null ? queues.url(deadLetterQueue)
                    : info.redrive().map(p -> queues.url(p.deadLetterTargetArn())).orElse(null);
            var source = new SqsSource(this, info, dlq);
            if (dlq != null) {
                source.acknowledgements.deadLetterLargest(DeadLetterRetention.check(client, dlq, source.name(), info.fifo(),
                        info.url()));
            } else if (!noDeadLetterQueue) {
                LOG.warn("SQS queue '{}' has no dead-letter queue: messages Ferry dead-letters stay in "
                        + "the queue. Give it a RedrivePolicy or configure one.", info.name());
            }
            source.throttleWarning().ifPresent(w -> LOG.warn(w));
            return source;
        }
    }
}
