package dev.ferry.domain.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.HeldElsewhereException;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A fan-out target's mark held by another worker — most often one that died while publishing, whose mark
 * outlives its message's lease by up to the time between the last extension and the publish — is waited for
 * in hand like an event's claim held elsewhere: no attempt spent, and the source's intake not paused. It
 * answered {@code Throttled(1s)}, and every such message (each of a dead instance's in-flight fan-outs)
 * paused the whole source, the pause doubling.
 */
class HeldTargetMarkTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private static Sink sink(String name, List<Instant> writes) {
        return dev.ferry.domain.testing.TestSinks.of(name, event -> {
            writes.add(Instant.now());
            return Outcome.done();
        });
    }

    /** A ledger whose claims of y's mark (order-1's) throw while {@code fails} says so, asked at each one. */
    private static dev.ferry.domain.testing.ForwardingLedger failingYsMark(java.util.function.BooleanSupplier fails) {
        var mark = LedgerKeys.target(LedgerKeys.SHARED, "order-1", "y");
        return new dev.ferry.domain.testing.ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public Claim claim(String key, Duration lease) {
                if (key.equals(mark) && fails.getAsBoolean()) {
                    throw new IllegalStateException("ProvisionedThroughputExceededException (injected)");
                }
                return super.claim(key, lease);
            }
        };
    }

    /** A listener on {@code q} whose first failed attempt dead-letters (an attempt spent shows), started. */
    private static Listener oneAttempt(InMemoryQueue q, dev.ferry.domain.handle.Handler handler,
                                       dev.ferry.domain.idempotency.IdempotencyLedger ledger) {
        var config = ListenerConfig.builder().pollWait(Duration.ofMillis(20)).lease(Duration.ofSeconds(30))
                .retry(RetryPolicy.of(1, Backoff.fixed(Duration.ofMillis(10)))).build();
        return Listener.builder(q, q, new LineDecoder(), handler).config(config).ledger(ledger)
                .ledgerScope(LedgerKeys.SHARED).build().start();
    }

    /** Every event to x and y, their marks in {@code ledger}. */
    private static RoutingHandler toXAndY(dev.ferry.domain.idempotency.IdempotencyLedger ledger, List<Instant> x,
                                          List<Instant> y) {
        return RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")),
                Map.of("x", sink("x", x), "y", sink("y", y)), ledger, Duration.ofSeconds(30), Duration.ofHours(1));
    }

    @Test
    void aTargetMarkLeftByADeadWorker_isWaitedForInHand_noAttemptSpent_intakeNotPaused() {
        var x = new CopyOnWriteArrayList<Instant>();
        var y = new CopyOnWriteArrayList<Instant>();
        var ledger = InMemoryLedger.create();
        var handler = toXAndY(ledger, x, y);
        // the dead worker's mark on y: it was publishing there when it died
        var dead = (Claim.Acquired) ledger.claim(LedgerKeys.target(LedgerKeys.SHARED, "order-1", "y"), Duration.ofMillis(1_500));
        var dlq = InMemoryQueue.standard("q-dlq");
        var q = InMemoryQueue.builder("q").deadLetterQueue(dlq).build();
        var listener = oneAttempt(q, handler, ledger);
        try {
            q.send("order-1");
            assertThat(Await.until(LIMIT, () -> !y.isEmpty() && q.size() == 0)).as("y written once its mark ended").isTrue();
            q.send("order-2"); // the source goes on taking messages
            assertThat(Await.until(LIMIT, () -> x.size() == 2 && y.size() == 2 && q.size() == 0)).isTrue();

            assertThat(y.getFirst()).as("y not written while the dead worker's mark held it").isAfterOrEqualTo(dead.leaseUntil());
            assertThat(dlq.size()).as("no attempt spent on the wait").isZero();
            var stats = listener.stats();
            assertThat(stats.throttled()).as("a mark held elsewhere is not a throttled downstream: intake not paused").isZero();
            assertThat(stats.failures()).isZero();
            assertThat(stats.held()).as("waited in hand").isPositive();
            assertThat(x).as("x written once for each event, not again while y waited").hasSize(2);
        } finally {
            listener.stop();
        }
    }

    @Test // the thirty-second round: answered Throttled(1s), a ledger failing the marks was reported as a sink throttling
          // (intake paused, "throttled by a sink" logged), the ledger's failures not counted, the source ready
    void aLedgerFailingATargetsMark_isTheLedgersFailure_notASinkThrottling_andNoAttemptIsSpent() {
        var x = new CopyOnWriteArrayList<Instant>();
        var y = new CopyOnWriteArrayList<Instant>();
        var markClaimsLeftToFail = new java.util.concurrent.atomic.AtomicInteger(3);
        var ledger = failingYsMark(() -> markClaimsLeftToFail.getAndDecrement() > 0);
        var handler = toXAndY(ledger, x, y);
        var dlq = InMemoryQueue.standard("q-dlq");
        var q = InMemoryQueue.builder("q").deadLetterQueue(dlq).build();
        var listener = oneAttempt(q, handler, ledger);
        try {
            q.send("order-1");
            assertThat(Await.until(LIMIT, () -> y.size() == 1 && q.size() == 0)).as(listener.stats().line()).isTrue();
            var stats = listener.stats();
            assertThat(stats.ledgerFailures()).as("the ledger's failures, counted as such").isEqualTo(3);
            assertThat(stats.throttled()).as("no sink throttled").isZero();
            assertThat(stats.failures()).isZero();
            assertThat(dlq.size()).as("no attempt spent").isZero();
            assertThat(x).as("x written once, its mark sparing it the retries").hasSize(1);
        } finally {
            listener.stop();
        }
    }

    @Test // a review of the fix: each try's claim taken up again reset the delivery's count of ledger failures, so a ledger
          // failing only the marks (a throttled table) was asked again every 100-200 ms for ever, never backed off
    void aLedgerFailingOnlyATargetsMark_isAskedLessOftenEachTime() {
        var y = new CopyOnWriteArrayList<Instant>();
        var failures = new CopyOnWriteArrayList<Long>();
        var ledger = failingYsMark(() -> failures.size() < 5 && failures.add(System.nanoTime()));
        var handler = toXAndY(ledger, new CopyOnWriteArrayList<>(), y);
        var q = InMemoryQueue.builder("q").build();
        var listener = Listener.builder(q, q, new LineDecoder(), handler).ledger(ledger).ledgerScope(LedgerKeys.SHARED)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(20)).build()).build().start();
        try {
            q.send("order-1");
            assertThat(Await.until(LIMIT, () -> y.size() == 1)).isTrue();
            long lastGap = failures.get(4) - failures.get(3);
            assertThat(lastGap).as("backed off: the fifth try %d ms after the fourth", lastGap / 1_000_000)
                    .isGreaterThan(Duration.ofMillis(600).toNanos());
        } finally {
            listener.stop();
        }
    }

    @Test // a review of the fix: a listener with no ledger of its own (the handler's alone) stayed not ready for good after
          // one failure of a target's mark: nothing of the listener's asks a ledger, so nothing said it ended
    void aListenerWithoutALedger_isReadyAgain_onceItsHandlersLedgerAnswers() {
        var y = new CopyOnWriteArrayList<Instant>();
        var failOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
        var handler = toXAndY(failingYsMark(() -> failOnce.getAndSet(false)), new CopyOnWriteArrayList<>(), y);
        var q = InMemoryQueue.builder("q").build();
        var listener = Listener.builder(q, q, new LineDecoder(), handler).ledgerScope(LedgerKeys.SHARED)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(20)).build()).build().start();
        try {
            q.send("order-1");
            assertThat(Await.until(LIMIT, () -> y.size() == 1 && q.size() == 0)).isTrue();
            assertThat(listener.stats().ledgerFailures()).isEqualTo(1);
            assertThat(Await.until(LIMIT, () -> listener.health().ready())).as("ready: " + listener.health()).isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test // a last review: cleared only by an event done, a listener whose next events were rejected (or that got none:
          // an HTTP endpoint out of rotation) stayed not ready for good
    void aListenerWithoutALedger_isReadyAgain_evenWithNoEventDoneSince() {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        dev.ferry.domain.handle.Handler handler = (event, delivery) -> {
            if (calls.incrementAndGet() == 1) {
                throw new dev.ferry.domain.handle.LedgerFailedException("a step's mark", new IllegalStateException("down"));
            }
            return Outcome.reject("not for us");
        };
        var dlq = InMemoryQueue.standard("q-dlq");
        var q = InMemoryQueue.builder("q").deadLetterQueue(dlq).build();
        var listener = Listener.builder(q, q, new LineDecoder(), handler)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(20)).build()).build().start();
        try {
            q.send("order-1");
            assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as(listener.stats().line()).isTrue();
            assertThat(listener.stats().ledgerFailures()).isEqualTo(1);
            // said for 20 s after the failure (SAID_WITHOUT_A_LEDGER_NANOS), then cleared by a lease keeper's round: a
            // bound of 20 s from here left a few hundred milliseconds, and a loaded machine missed them
            assertThat(Await.until(LIMIT.plusSeconds(20), () -> listener.health().ready())).as("ready: " + listener.health())
                    .isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test // a review of the fix: the event's claim was released to the ledger that was down; the release failed, and its
          // next try waited a whole lease on its own claim left behind
    void aLedgerDownAtATargetsMark_keepsTheEventsClaim_soTheEventGoesOnOnceTheLedgerIsBack() {
        var x = new CopyOnWriteArrayList<Instant>();
        var y = new CopyOnWriteArrayList<Instant>();
        var downUntil = new java.util.concurrent.atomic.AtomicLong();
        var yMark = LedgerKeys.target(LedgerKeys.SHARED, "order-1", "y");
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(InMemoryLedger.create()) {
            private void down(String key) {
                if (key.equals(yMark)) {
                    downUntil.compareAndSet(0, System.nanoTime() + Duration.ofSeconds(2).toNanos());
                }
                long until = downUntil.get();
                if (until != 0 && System.nanoTime() - until < 0) {
                    throw new IllegalStateException("DynamoDB unreachable (injected)");
                }
            }

            @Override
            public Claim claim(String key, Duration lease) {
                down(key);
                return super.claim(key, lease);
            }

            @Override
            public boolean release(String key, long token) {
                down(key);
                return super.release(key, token);
            }
        };
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")),
                Map.of("x", sink("x", x), "y", sink("y", y)), ledger, Duration.ofSeconds(60), Duration.ofHours(1));
        var q = InMemoryQueue.builder("q").build();
        var config = ListenerConfig.builder().pollWait(Duration.ofMillis(20)).lease(Duration.ofSeconds(60)).build();
        var listener = Listener.builder(q, q, new LineDecoder(), handler).config(config).ledger(ledger)
                .ledgerScope(LedgerKeys.SHARED).build().start();
        try {
            long sent = System.nanoTime();
            q.send("order-1");
            assertThat(Await.until(Duration.ofSeconds(20), () -> y.size() == 1 && q.size() == 0))
                    .as("written soon after the ledger is back, not a lease later: " + listener.stats().line()).isTrue();
            assertThat(System.nanoTime() - sent).isLessThan(Duration.ofSeconds(20).toNanos());
            assertThat(x).as("x written once").hasSize(1);
        } finally {
            listener.stop();
        }
    }

    @Test
    void theHandlerSaysHowLongTheMarkHolds_andADownstreamThrottleOrRetryStillComesFirst() {
        var ledger = InMemoryLedger.create();
        var writes = new CopyOnWriteArrayList<Instant>();
        Sink throttled = dev.ferry.domain.testing.TestSinks.of("t", event -> Outcome.throttled(Duration.ofSeconds(3)));
        var event = Event.of("order-9", "T", "order-9".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        var delivery = new Delivery("m-1", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", null);
        var scope = Listener.ledgerScopeOf(delivery);
        ledger.claim(LedgerKeys.target(scope, "order-9", "y"), Duration.ofSeconds(10));

        var plain = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")),
                Map.of("x", sink("x", writes), "y", sink("y", writes)), ledger, Duration.ofSeconds(30), Duration.ofHours(1));
        assertThatThrownBy(() -> plain.handle(event, delivery)).isInstanceOfSatisfying(HeldElsewhereException.class, e -> {
            assertThat(e.remaining()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(10));
            assertThat(e.getMessage()).contains("y");
        });
        assertThat(writes).as("x written, y not").hasSize(1);

        var withThrottle = RoutingHandler.tracked(Router.of(Route.of("all", EventMatcher.any(), "y", "t")),
                Map.of("y", sink("y", writes), "t", throttled), ledger, Duration.ofSeconds(30), Duration.ofHours(1));
        assertThat(withThrottle.handle(event, delivery)).isEqualTo(Outcome.throttled(Duration.ofSeconds(3)));
    }

    @Test // a review: a decorator that wraps what the handler throws spent an attempt on each wait
    void aWaitWrappedByADecorator_isStillAWait_andAMarkThatEndedMeanwhileIsAskedAgainAtOnce() {
        var ledger = InMemoryLedger.create();
        var y = new CopyOnWriteArrayList<Instant>();
        var routing = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")),
                Map.of("x", sink("x", new CopyOnWriteArrayList<>()), "y", sink("y", y)), ledger, Duration.ofSeconds(30),
                Duration.ofHours(1));
        dev.ferry.domain.handle.Handler decorated = (event, delivery) -> {
            try {
                return routing.handle(event, delivery);
            } catch (RuntimeException e) {
                throw new IllegalStateException("traced: " + e.getMessage(), e);
            }
        };
        ledger.claim(LedgerKeys.target(LedgerKeys.SHARED, "order-3", "y"), Duration.ofMillis(800));
        var dlq = InMemoryQueue.standard("w-dlq");
        var q = InMemoryQueue.builder("w").deadLetterQueue(dlq).build();
        var listener = Listener.builder(q, q, new LineDecoder(), decorated).ledger(ledger).ledgerScope(LedgerKeys.SHARED)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(20)).lease(Duration.ofSeconds(30))
                        .retry(RetryPolicy.of(1, Backoff.fixed(Duration.ofMillis(10)))).build()).build().start();
        try {
            q.send("order-3");
            assertThat(Await.until(LIMIT, () -> y.size() == 1 && q.size() == 0)).isTrue();
            assertThat(dlq.size()).as("the wrapped wait spent no attempt").isZero();
            assertThat(listener.stats().failures()).isZero();
        } finally {
            listener.stop();
        }
        var ended = new HeldElsewhereException("target z", Duration.ofMillis(-3));
        assertThat(ended.remaining()).isEqualTo(Duration.ZERO);
        assertThat(ended.getMessage()).doesNotContain("-");
        assertThat(new HeldElsewhereException("target z", Duration.ofSeconds(Long.MAX_VALUE)).remaining())
                .as("no overflow").isEqualTo(Duration.ofSeconds(Long.MAX_VALUE));
    }
}
