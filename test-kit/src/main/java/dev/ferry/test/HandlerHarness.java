package dev.ferry.test;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.listener.ListenerStats;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that runs a {@link Handler} the way Ferry runs it in production — on a real
 * {@link Listener}, with its retries, ordering groups, ledger and dead letters — on an
 * {@link InMemoryQueue} instead of a transport. Each test gets a new queue, dead-letter queue and
 * listener; they are closed after it. Register one per test instance (an instance field), and do
 * not run its tests in parallel.
 *
 * <pre>{@code
 * class ShippingTest {
 *     final List<String> shipped = new CopyOnWriteArrayList<>();
 *
 *     @RegisterExtension
 *     final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
 *         shipped.add(event.payloadAsString());
 *         return Outcome.done();
 *     });
 *
 *     @Test
 *     void shipsEveryOrder() {
 *         ferry.send("order-1");
 *         ferry.awaitDrained();
 *         assertThat(shipped).containsExactly("order-1");
 *         assertThat(ferry.deadLetters()).isEmpty();
 *     }
 * }
 * }</pre>
 *
 * <p>Defaults suit a test, not production: one poller, polls of 100 ms, three attempts 20 ms apart,
 * no ledger, a standard queue, 10 s to drain. Each can be changed before the test starts.
 * A message body becomes one event (see {@link #bodyAsEvent()}) unless a {@link Decoder} is given.
 */
public final class HandlerHarness implements BeforeEachCallback, AfterEachCallback {

    /** What the listener made of one attempt at one event, in the order the attempts ended. */
    public record Handled(Event event, Outcome outcome) {
        public String payload() {
            return event.payloadAsString();
        }
    }

    /** A message in the dead-letter queue: its body, the reason Ferry gave, and every attribute. */
    public record DeadLetter(String body, String reason, String groupId, Map<String, String> attributes) {
    }

    private final Handler handler;
    private Decoder decoder = bodyAsEvent();
    private IdempotencyLedger ledger;
    private boolean fifo;
    private int maxAttempts = 3;
    private Duration retryDelay = Duration.ofMillis(20);
    private Duration timeout = Duration.ofSeconds(10);
    private UnaryOperator<ListenerConfig.Builder> tuning = UnaryOperator.identity();

    private final List<Handled> handled = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private InMemoryQueue queue;
    private Listener listener;

    private HandlerHarness(Handler handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** A harness for {@code handler}; register it with {@code @RegisterExtension}. */
    public static HandlerHarness of(Handler handler) {
        return new HandlerHarness(handler);
    }

    /**
     * The default decoder: each message is one event of type {@code raw} whose payload is the body,
     * keyed by its deduplication id when it has one, else its message id, grouped by its group id.
     */
    public static Decoder bodyAsEvent() {
        return delivery -> Decoded.of(List.of(new Event(
                delivery.deduplicationId() != null ? delivery.deduplicationId() : delivery.id(), "raw",
                delivery.sentAt(), delivery.groupKey(), delivery.body(), delivery.attributes())));
    }

    /** Reads bodies with {@code decoder} (for example {@code Codecs.raw()} or {@code Codecs.s3(...)}). */
    public HandlerHarness decoder(Decoder decoder) {
        notStarted();
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        return this;
    }

    /** Runs with an idempotency ledger (for example {@code InMemoryLedger.create()}). */
    public HandlerHarness ledger(IdempotencyLedger ledger) {
        notStarted();
        this.ledger = ledger;
        return this;
    }

    /**
     * A FIFO queue: messages of one group are handled one at a time, in order. On the default standard queue a group
     * id orders nothing, as on SQS: its messages run at once, and it reaches the handler as the delivery's
     * {@code MessageGroupId} attribute, not as the event's group key.
     */
    public HandlerHarness fifo() {
        notStarted();
        this.fifo = true;
        return this;
    }

    /** How many attempts an event gets before it is dead-lettered (default 3), and how far apart. */
    public HandlerHarness attempts(int maxAttempts, Duration apart) {
        notStarted();
        this.maxAttempts = maxAttempts;
        this.retryDelay = Objects.requireNonNull(apart, "apart");
        return this;
    }

    /** How long {@link #awaitDrained()} waits before it fails the test (default 10 s). */
    public HandlerHarness timeout(Duration timeout) {
        notStarted();
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        return this;
    }

    /** Changes the listener's settings, after the harness's own: {@code c -> c.concurrency(8)}. */
    public HandlerHarness config(UnaryOperator<ListenerConfig.Builder> tuning) {
        notStarted();
        this.tuning = Objects.requireNonNull(tuning, "tuning");
        return this;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (listener != null) {
            throw new IllegalStateException("this HandlerHarness is already running a test: register one per test instance "
                    + "(an instance field, not a static one) and do not run its tests in parallel");
        }
        handled.clear();
        errors.clear();
        var config = tuning.apply(ListenerConfig.builder()
                .pollers(1)
                .batchSize(10)
                .pollWait(Duration.ofMillis(100))
                .retry(RetryPolicy.of(maxAttempts, Backoff.fixed(retryDelay)))
                .shutdownDeadline(Duration.ofSeconds(5))).build();
        var dlq = InMemoryQueue.builder(fifo ? "dead-letters.fifo" : "dead-letters").fifo(fifo).build();
        // the queue's own redrive is a last resort far behind the listener's receive limit, as SQS's maxReceiveCount of
        // 1000 is: at the limit's 10 the queue moved a message first, and what the engine does there (a throttled one's
        // receives not counted) was never seen — a handler throttled past its hold limit was dead-lettered by the queue
        long redrive = Math.max(100L, 10L * config.deadLetter().maxReceives());
        queue = InMemoryQueue.builder(fifo ? "events.fifo" : "events").fifo(fifo)
                .deadLetterQueue(dlq, (int) Math.min(Integer.MAX_VALUE, redrive)).build(); // no wrap
        // an Error (an assertion inside the handler among them) is Ferry's to survive but the test's to see
        Handler recording = (event, delivery) -> {
            try {
                return handler.handle(event, delivery);
            } catch (Error e) {
                errors.add(e);
                throw e;
            }
        };
        var builder = Listener.builder(queue, decoder, recording)
                .config(config)
                .observer(new ListenerObserver() {
                    @Override
                    public void handled(Event event, Outcome outcome, long nanos) {
                        handled.add(new Handled(event, outcome));
                    }
                });
        if (ledger != null) {
            builder.ledger(ledger);
        }
        listener = builder.build().start();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            if (listener != null) {
                listener.close();
            }
        } finally {
            if (queue != null) {
                queue.deadLetterQueue().close();
            }
            listener = null;
            queue = null;
        }
    }

    /** Sends a body to the queue (on a FIFO queue, in group {@code "default"}); returns its message id. */
    public String send(String body) {
        return fifo ? send(body, "default") : send(InMemoryQueue.Message.of(body));
    }

    /** Sends a body in a group (a FIFO message group; on a standard queue only its MessageGroupId); returns its id. */
    public String send(String body, String groupId) {
        return send(InMemoryQueue.Message.of(body, groupId));
    }

    /**
     * Sends a message with attributes, a deduplication id or a delay; returns its message id. On a
     * FIFO queue a message without a deduplication id gets a new one, so that equal bodies are all
     * delivered; give one to see the queue's deduplication at work.
     */
    public String send(InMemoryQueue.Message message) {
        var queue = started();
        if (fifo && message.deduplicationId() == null) {
            message = message.withDeduplicationId(UUID.randomUUID().toString());
        }
        return queue.send(message).messageId();
    }

    /**
     * Waits until every message sent is settled — done, dead-lettered, or dropped as a duplicate —
     * and nothing is left in flight or waiting for a retry. Fails the test after the timeout, saying
     * what was left, and at once if the handler threw an {@link Error} (a failed assertion inside
     * it too): Ferry survives those, a test should not pass over them.
     */
    public HandlerHarness awaitDrained() {
        started();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (queue.size() > 0 || listener.stats().inFlight() > 0) {
            failOnErrors();
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not drained after " + Durations.text(timeout) + ": " + queue.size()
                        + " message(s) still in the queue (" + queue.inFlightCount() + " in flight); listener "
                        + listener.stats().line());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for the queue to drain", e);
            }
        }
        failOnErrors();
        return this;
    }

    private void failOnErrors() {
        if (!errors.isEmpty()) {
            var failure = new AssertionError("the handler threw " + errors.size() + " error(s); the first: " + errors.get(0),
                    errors.get(0));
            errors.stream().skip(1).forEach(failure::addSuppressed);
            throw failure;
        }
    }

    /** Every attempt the listener made, in the order they ended (a retried event appears once per attempt). */
    public List<Handled> handled() {
        synchronized (handled) {
            return List.copyOf(handled);
        }
    }

    /** The events an attempt ended {@code Done} for, in the order they were done. */
    public List<Event> done() {
        return handled().stream().filter(h -> h.outcome() instanceof Outcome.Done).map(Handled::event).toList();
    }

    /** The payloads of {@link #done()} as text. */
    public List<String> donePayloads() {
        return done().stream().map(Event::payloadAsString).toList();
    }

    /** What is in the dead-letter queue now, oldest first. */
    public List<DeadLetter> deadLetters() {
        return started().deadLetterQueue().messages().stream()
                .map(m -> new DeadLetter(m.body(), m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE), m.groupId(),
                        m.attributes()))
                .toList();
    }

    /** The queue the listener reads, to look inside or send to directly. */
    public InMemoryQueue queue() {
        return started();
    }

    /** The running listener. */
    public Listener listener() {
        started();
        return listener;
    }

    /** The listener's counters now. */
    public ListenerStats stats() {
        return listener().stats();
    }

    private void notStarted() {
        if (listener != null) {
            throw new IllegalStateException("set the harness up where it is declared: its test has started already");
        }
    }

    private InMemoryQueue started() {
        if (queue == null) {
            throw new IllegalStateException("the harness runs inside a test: register it with @RegisterExtension");
        }
        return queue;
    }
}
