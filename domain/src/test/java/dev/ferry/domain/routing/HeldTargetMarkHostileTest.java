package dev.ferry.domain.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile cases of a fan-out target's mark held by another worker (HeldElsewhereException, waited for in
 * hand): several instances on one FIFO group, a short message lease the wait outlives, a second copy of
 * the event meeting the mark of a live writer. Each sink must have each event once, in the group's order,
 * nothing dead-lettered, no attempt spent, the intake never paused.
 */
class HeldTargetMarkHostileTest {

    private static final Duration LIMIT = Duration.ofSeconds(30);

    /** One write to a sink: the event's key and when. */
    private record Write(String key, Instant at) {
    }

    private final List<Listener> listeners = new ArrayList<>();
    private final List<CountDownLatch> toOpen = new ArrayList<>();

    @AfterEach
    void stopAll() {
        toOpen.forEach(l -> {
            while (l.getCount() > 0) {
                l.countDown();
            }
        });
        listeners.forEach(Listener::stop);
    }

    private static Sink sink(String name, List<Write> writes) {
        return sink(name, writes, e -> { });
    }

    private static Sink sink(String name, List<Write> writes, Consumer<Event> before) {
        return dev.ferry.domain.testing.TestSinks.of(name, event -> {
            before.accept(event);
            writes.add(new Write(event.key(), Instant.now()));
            return Outcome.done();
        });
    }

    private static List<String> keys(List<Write> writes) {
        return writes.stream().map(Write::key).toList();
    }

    private static RoutingHandler fanOut(InMemoryLedger ledger, Sink x, Sink y) {
        return RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")), Map.of("x", x, "y", y),
                ledger, Duration.ofSeconds(30), Duration.ofHours(1));
    }

    private Listener start(InMemoryQueue q, dev.ferry.domain.handle.Handler handler, InMemoryLedger ledger,
                           ListenerConfig config) {
        var builder = Listener.builder(q, q, new LineDecoder(), handler).config(config).ledgerScope(LedgerKeys.SHARED);
        if (ledger != null) {
            builder.ledger(ledger);
        }
        var listener = builder.build();
        listeners.add(listener);
        return listener.start();
    }

    private static boolean drained(InMemoryQueue... queues) {
        for (var q : queues) {
            if (q.size() + q.inFlightCount() != 0) {
                return false;
            }
        }
        return true;
    }

    /** One attempt: an attempt spent on a wait dead-letters the message, and the test sees it. */
    private static ListenerConfig.Builder oneAttempt() {
        return ListenerConfig.builder().pollWait(Duration.ofMillis(20))
                .retry(RetryPolicy.of(1, Backoff.fixed(Duration.ofMillis(10))));
    }

    @Test
    void aDeadInstancesMarkOnTheHeadOfAFifoGroup_twoLiveInstances_eachSinkOnceInOrder_noAttemptSpent_noThrottle() {
        var x = new CopyOnWriteArrayList<Write>();
        var y = new CopyOnWriteArrayList<Write>();
        var ledger = InMemoryLedger.create();
        var handler = fanOut(ledger, sink("x", x), sink("y", y));
        // the dead instance was publishing m1 to y when it died: its mark outlives it by 1.5 s
        var dead = (Claim.Acquired) ledger.claim(LedgerKeys.target(LedgerKeys.SHARED, "m1", "y"), Duration.ofMillis(1_500));
        var dlq = InMemoryQueue.builder("hostile-dlq.fifo").build();
        var q = InMemoryQueue.builder("hostile.fifo").contentBasedDeduplication(true).deadLetterQueue(dlq).build();
        for (int i = 1; i <= 5; i++) {
            q.send(InMemoryQueue.Message.of("m" + i, "G"));
        }
        // one message a poll, so the group's messages are spread over the two instances; a lease of 1 s, so the wait
        // (1.5 s) outlives it: the head must be kept (extended) in hand, not handed to the other instance behind its back
        var config = oneAttempt().batchSize(1).lease(Duration.ofSeconds(1)).build();
        var one = start(q, handler, ledger, config);
        var two = start(q, handler, ledger, config);

        assertThat(Await.until(LIMIT, () -> y.size() >= 5 && x.size() >= 5 && drained(q)))
                .as("every message reached both sinks; x " + keys(x) + ", y " + keys(y) + ", queue " + q.messages())
                .isTrue();
        assertThat(keys(x)).as("x: each once, in the group's order").containsExactly("m1", "m2", "m3", "m4", "m5");
        assertThat(keys(y)).as("y: each once, the group's order kept across the wait")
                .containsExactly("m1", "m2", "m3", "m4", "m5");
        assertThat(y.getFirst().at()).as("y not written while the dead instance's mark held it")
                .isAfterOrEqualTo(dead.leaseUntil());
        assertThat(dlq.size()).as("nothing dead-lettered: no attempt spent on the wait, " + dlq.messages()).isZero();
        for (var l : List.of(one, two)) {
            var stats = l.stats();
            assertThat(stats.throttled()).as("a mark held elsewhere is not a throttle (intake paused): " + stats).isZero();
            assertThat(stats.failures()).as("no attempt spent: " + stats).isZero();
            assertThat(stats.deadLettered()).as(stats.toString()).isZero();
        }
        assertThat(one.stats().held() + two.stats().held()).as("the head waited in hand").isPositive();
    }

    @Test
    void whileAFifoGroupsHeadWaitsForAMark_anotherGroupFlows_theIntakeIsNotPaused() {
        var x = new CopyOnWriteArrayList<Write>();
        var y = new CopyOnWriteArrayList<Write>();
        var ledger = InMemoryLedger.create();
        var handler = fanOut(ledger, sink("x", x), sink("y", y));
        var dead = (Claim.Acquired) ledger.claim(LedgerKeys.target(LedgerKeys.SHARED, "g1", "y"), Duration.ofSeconds(4));
        var dlq = InMemoryQueue.builder("flow-dlq.fifo").build();
        var q = InMemoryQueue.builder("flow.fifo").contentBasedDeduplication(true).deadLetterQueue(dlq).build();
        // a throttle pauses the intake for 10 s: far past the mark's 4 s, so a wait taken for a throttle shows
        var config = oneAttempt().lease(Duration.ofSeconds(30)).throttlePause(Duration.ofSeconds(10))
                .maxThrottlePause(Duration.ofSeconds(10)).build();
        var listener = start(q, handler, ledger, config);
        q.send(InMemoryQueue.Message.of("g1", "G"));
        assertThat(Await.until(LIMIT, () -> listener.stats().held() > 0)).as("g1 waits in hand for y's mark").isTrue();

        q.send(InMemoryQueue.Message.of("h1", "H"));
        assertThat(Await.until(LIMIT, () -> keys(y).contains("h1"))).as("h1 of another group reached y").isTrue();
        var h1 = y.stream().filter(w -> w.key().equals("h1")).findFirst().orElseThrow();
        assertThat(h1.at()).as("h1 handled while g1 waited, not after: the intake went on").isBefore(dead.leaseUntil());

        assertThat(Await.until(LIMIT, () -> y.size() >= 2 && drained(q))).isTrue();
        assertThat(keys(y)).containsExactly("h1", "g1");
        assertThat(keys(x)).containsExactlyInAnyOrder("g1", "h1");
        assertThat(dlq.size()).isZero();
        assertThat(listener.stats().throttled()).isZero();
        assertThat(listener.stats().failures()).isZero();
    }

    @Test
    void aSecondCopyOnAnotherSourceSharingTheScope_whileYIsSlow_eachSinkOnce_nothingDeadLettered() {
        var x = new CopyOnWriteArrayList<Write>();
        var y = new CopyOnWriteArrayList<Write>();
        var ledger = InMemoryLedger.create();
        var handler = fanOut(ledger, sink("x", x), sink("y", y, e -> sleep(300)));
        var dlqA = InMemoryQueue.standard("a-dlq");
        var dlqB = InMemoryQueue.standard("b-dlq");
        var a = InMemoryQueue.builder("a").deadLetterQueue(dlqA).build();
        var b = InMemoryQueue.builder("b").deadLetterQueue(dlqB).build();
        var config = oneAttempt().lease(Duration.ofSeconds(30)).build();
        var onA = start(a, handler, ledger, config);
        var onB = start(b, handler, ledger, config);

        a.send("order-7"); // the same event on both sources at once
        b.send("order-7");

        assertThat(Await.until(LIMIT, () -> !y.isEmpty() && drained(a, b))).as("both copies settled").isTrue();
        sleep(300); // a second write to y, were one under way, has time to show
        assertThat(keys(y)).as("y once").containsExactly("order-7");
        assertThat(keys(x)).as("x once").containsExactly("order-7");
        assertThat(dlqA.size() + dlqB.size()).as("nothing dead-lettered").isZero();
        assertThat(onA.stats().duplicatesDropped() + onB.stats().duplicatesDropped()).as("one copy dropped as a duplicate")
                .isEqualTo(1);
        for (var l : List.of(onA, onB)) {
            assertThat(l.stats().failures()).as(l.stats().toString()).isZero();
            assertThat(l.stats().throttled()).as(l.stats().toString()).isZero();
        }
    }

    /**
     * The second copy meets y's mark itself, not the event's claim: its source deduplicates no events (no ledger
     * on its listener) but shares the fan-out marks. The first copy's y is kept writing until the second copy
     * has been seen waiting; it must wait, not write y again, nor spend an attempt, nor be throttled.
     */
    @Test
    void aSecondCopyMeetsTheMarkOfALiveWriter_waitsForIt_andWritesNothingTwice() throws InterruptedException {
        var x = new CopyOnWriteArrayList<Write>();
        var y = new CopyOnWriteArrayList<Write>();
        var yStarted = new CountDownLatch(1);
        var yGo = new CountDownLatch(1);
        toOpen.add(yGo);
        var ledger = InMemoryLedger.create();
        var handler = fanOut(ledger, sink("x", x), sink("y", y, e -> {
            yStarted.countDown();
            try {
                yGo.await(LIMIT.toSeconds(), TimeUnit.SECONDS); // bounded: opened by the test (or @AfterEach)
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }));
        var dlqA = InMemoryQueue.standard("live-a-dlq");
        var dlqB = InMemoryQueue.standard("live-b-dlq");
        var a = InMemoryQueue.builder("live-a").deadLetterQueue(dlqA).build();
        var b = InMemoryQueue.builder("live-b").deadLetterQueue(dlqB).build();
        var config = oneAttempt().lease(Duration.ofSeconds(30)).build();
        var onA = start(a, handler, ledger, config);
        var onB = start(b, handler, null, config); // marks only: the event itself is not claimed here

        a.send("order-8");
        assertThat(yStarted.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).as("the first copy is writing y").isTrue();
        b.send("order-8");
        boolean waited = Await.until(LIMIT, () -> onB.stats().held() > 0);
        yGo.countDown();
        assertThat(waited).as("the second copy waits in hand for y's mark: " + onB.stats() + ", y " + keys(y)).isTrue();

        assertThat(Await.until(LIMIT, () -> drained(a, b))).as("both copies settled").isTrue();
        assertThat(keys(y)).as("y once: the live writer's mark kept the second copy off").containsExactly("order-8");
        assertThat(keys(x)).as("x once").containsExactly("order-8");
        assertThat(dlqA.size() + dlqB.size()).as("nothing dead-lettered").isZero();
        assertThat(onB.stats().failures()).as("no attempt spent on the wait: " + onB.stats()).isZero();
        assertThat(onB.stats().throttled()).as("not a throttle: " + onB.stats()).isZero();
        assertThat(onB.stats().acked()).as("the second copy acknowledged once its wait was over").isEqualTo(1);
        assertThat(onA.stats().failures()).isZero();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
