package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.ForwardingLedger;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A downstream answering 429 for a while: every wait released the event's claim and claimed it again — two ledger
 * writes per message per Retry-After, on every instance, until the ledger throttled in turn. The claim is kept while
 * the delivery waits in hand, and let go when it leaves.
 */
class PausedClaimTest {

    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    private static final class CountingLedger extends ForwardingLedger {
        final AtomicInteger claims = new AtomicInteger();
        final AtomicInteger releases = new AtomicInteger();

        CountingLedger() {
            super(InMemoryLedger.create());
        }

        @Override
        public Claim claim(String key, Duration lease) {
            claims.incrementAndGet();
            return super.claim(key, lease);
        }

        @Override
        public boolean release(String key, long token) {
            releases.incrementAndGet();
            return super.release(key, token);
        }
    }

    @Test // a review: a fan-out's retries in hand asked the ledger again for every target at each wait — a failed
          // conditional write for the one written already, a claim and a release for the throttled one: three instances
          // in a 429 storm made some 850 ledger writes a second, and a provisioned DynamoDB table throttled them all
    void aFanOutThrottledFiveTimes_claimsEachMarkOnce_andNeverLetsTheThrottledOneGoInBetween() {
        var queue = InMemoryQueue.standard("fan-storm");
        var ledger = new CountingLedger();
        var fine = new AtomicInteger();
        var throttled = new AtomicInteger();
        var handler = dev.ferry.domain.routing.RoutingHandler.tracked(
                dev.ferry.domain.routing.Router.of(dev.ferry.domain.routing.Route.of("both",
                        dev.ferry.domain.routing.EventMatcher.any(), "fine", "storm")),
                java.util.Map.of("fine", dev.ferry.domain.testing.TestSinks.of("fine", e -> {
                    fine.incrementAndGet();
                    return Outcome.done();
                }), "storm", dev.ferry.domain.testing.TestSinks.of("storm", e -> throttled.incrementAndGet() <= 5
                        ? Outcome.throttled(Duration.ofMillis(20)) : Outcome.done())),
                ledger, Duration.ofSeconds(30), Duration.ofHours(1));
        listener = Listener.builder(queue, queue, new LineDecoder(), handler).ledger(ledger)
                .config(ListenerTest.fast().holdLimit(Duration.ofMinutes(1)).build()).build().start();

        queue.send("a");

        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).as(listener.stats().line())
                .isTrue();
        assertThat(fine).as("the fine target written once").hasValue(1);
        assertThat(throttled).hasValue(6);
        assertThat(ledger.claims).as("the event's claim and each target's mark, once each").hasValue(3);
        assertThat(ledger.releases).as("the throttled target's mark kept across its waits").hasValue(0);
    }

    @Test
    void anEventThrottledFiveTimes_isClaimedOnce_andItsClaimNeverLetGoInBetween() {
        var queue = InMemoryQueue.standard("storm");
        var ledger = new CountingLedger();
        var calls = new AtomicInteger();
        Handler throttledFiveTimes = (event, delivery) -> calls.incrementAndGet() <= 5
                ? Outcome.throttled(Duration.ofMillis(20)) : Outcome.done();
        listener = Listener.builder(queue, queue, new LineDecoder(), throttledFiveTimes).ledger(ledger)
                .config(ListenerTest.fast().holdLimit(Duration.ofMinutes(1)).build()).build().start();

        queue.send("a");

        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).as(listener.stats().line())
                .isTrue();
        assertThat(calls).hasValue(6);
        assertThat(ledger.claims).as("claimed once, taken up again at each try").hasValue(1);
        assertThat(ledger.releases).as("never let go in between").hasValue(0);
    }

    @Test
    void aWaitLongerThanItsClaimLasts_letsTheClaimGo_andClaimsAgain() {
        // kept, a five-minute Retry-After would be a claim extension every half lease: more writes than a release and a claim
        var queue = InMemoryQueue.standard("long-wait");
        var ledger = new CountingLedger();
        var calls = new AtomicInteger();
        Handler throttledOnce = (event, delivery) -> calls.incrementAndGet() == 1
                ? Outcome.throttled(Duration.ofMillis(1_500)) : Outcome.done();
        listener = Listener.builder(queue, queue, new LineDecoder(), throttledOnce).ledger(ledger)
                .config(ListenerTest.fast().holdLimit(Duration.ofMinutes(1)).build()).build().start();

        queue.send("a");

        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).as(listener.stats().line())
                .isTrue();
        assertThat(ledger.claims).as("1.5 s against a 2 s lease: let go and claimed again").hasValue(2);
        assertThat(ledger.releases).hasValue(1);
    }

    @Test
    void aWaitingDeliveryGivenBackToTheQueue_letsItsClaimGo_soItsNextReceiveRunsAtOnce() {
        // kept past the delivery, the claim would hold its own next receive back as "claimed elsewhere" for a lease
        var queue = InMemoryQueue.standard("given-back");
        var ledger = new CountingLedger();
        var calls = new AtomicInteger();
        Handler retriesOnce = (event, delivery) -> calls.incrementAndGet() == 1
                ? Outcome.retry("downstream busy") : Outcome.done();
        listener = Listener.builder(queue, queue, new LineDecoder(), retriesOnce).ledger(ledger)
                .config(ListenerTest.fast().holdLimit(Duration.ZERO).lease(Duration.ofSeconds(30)).build()).build().start();

        queue.send("a");

        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1))
                .as("handled on its next receive, not a 30 s lease later: " + listener.stats().line()).isTrue();
        assertThat(calls).hasValue(2);
        assertThat(ledger.releases).as("let go when it was given back").hasValue(1);
    }
}
