package dev.ferry.domain.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.ForwardingLedger;
import dev.ferry.domain.testing.TestSinks;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A fan-out's target written, then its mark not recorded: the ledger answered "no" (it no longer held the claim — an
 * MVStore reopened from disk after a failed write) or failed for a moment. The answer was not looked at and the mark
 * was gone: the event's next try (another target's ledger call failed) wrote the target again.
 */
class LostTargetMarkTest {

    private static final Delivery DELIVERY = new Delivery("m-1", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", null);
    private static final Event EVENT = new Event("order-1", "t", null, null, new byte[0], Map.of());

    /** A ledger that loses x's first mark as it is completed, fails x's second completion, and y's first claim. */
    private static class Blip extends ForwardingLedger {
        final AtomicInteger xCompletes = new AtomicInteger();
        final AtomicInteger yClaims = new AtomicInteger();
        private final boolean loses;

        Blip(boolean loses) {
            super(InMemoryLedger.create());
            this.loses = loses;
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            if (key.endsWith("x") && xCompletes.incrementAndGet() == 1) {
                if (loses) {
                    super.release(key, token); // reopened from disk without it
                    return false;
                }
                throw new IllegalStateException("ledger unreachable (injected)");
            }
            return super.complete(key, token, ttl);
        }

        @Override
        public Claim claim(String key, Duration lease) {
            if (key.endsWith("y") && yClaims.incrementAndGet() == 1) {
                throw new IllegalStateException("ledger unreachable (injected)");
            }
            return super.claim(key, lease);
        }
    }

    /** As {@link Blip} losing x's mark, and then failing the completion of the mark x is claimed anew under, once. */
    private static final class Flapping extends Blip {
        Flapping() {
            super(true);
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            if (key.endsWith("x") && xCompletes.get() == 1) {
                xCompletes.incrementAndGet();
                throw new IllegalStateException("ledger unreachable again (injected)");
            }
            return super.complete(key, token, ttl);
        }
    }

    @Test
    void aMarkClaimedAnewWhoseCompletionFails_isRecordedUnderItsNewClaim_notTakenForAnotherWorkers() throws Exception {
        // the second claim, ours, was found "in progress" by the retry and taken for another worker's: never recorded,
        // the event's retry waited a lease on it, then wrote the target again
        writesXOnce(new Flapping(), Duration.ofMillis(1_300), Duration.ofSeconds(1));
    }

    private static void writesXOnce(Blip ledger, Duration beforeTheRetry) throws InterruptedException {
        writesXOnce(ledger, beforeTheRetry, Duration.ofSeconds(30));
    }

    private static void writesXOnce(Blip ledger, Duration beforeTheRetry, Duration lease) throws InterruptedException {
        List<String> x = new CopyOnWriteArrayList<>();
        List<String> y = new CopyOnWriteArrayList<>();
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")),
                Map.of("x", TestSinks.of("x", e -> {
                    x.add(e.key());
                    return Outcome.done();
                }), "y", TestSinks.of("y", e -> {
                    y.add(e.key());
                    return Outcome.done();
                })), ledger, lease, Duration.ofHours(1));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> handler.handle(EVENT, DELIVERY))
                .as("y's claim failed: the ledger's failure, the event tried again")
                .isInstanceOf(dev.ferry.domain.handle.LedgerFailedException.class);
        Thread.sleep(beforeTheRetry.toMillis());
        assertThat(handler.handle(EVENT, DELIVERY)).isInstanceOf(Outcome.Done.class);

        assertThat(x).as("x written once").hasSize(1);
        assertThat(y).hasSize(1);
    }

    @Test
    void aMarkTheLedgerSaysItNoLongerHeld_isRecordedAnew_soTheRetryDoesNotWriteTheTargetAgain() throws Exception {
        writesXOnce(new Blip(true), Duration.ZERO);
    }

    @Test
    void aMarkTheLedgerFailedToRecord_isAskedAgainInTheBackground_beforeTheRetry() throws Exception {
        var ledger = new Blip(false);
        writesXOnce(ledger, Duration.ofMillis(600));
        assertThat(Await.until(Duration.ofSeconds(5), () -> ledger.xCompletes.get() >= 2)).isTrue();
    }
}
