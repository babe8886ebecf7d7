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
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A claim at the very end of a delivery's lease, and an extension that meets a completion: the first ran a handler
 * under a claim nobody could extend (the copy handed out a moment later claimed the event beside it), the second
 * said a claim was lost on ordinary traffic.
 */
class ClaimAtLeaseEndTest {

    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void aClaimAnsweredAsTheLeaseEnds_isLetGo_andTheHandlerLeftToTheCopy() {
        var queue = InMemoryQueue.standard("lease-end");
        var clock = MutableClock.startingNow();
        var slowOnce = new AtomicBoolean(true);
        // the ledger answers the first claim as the delivery's lease ends (a slow lookup before it, a throttled call)
        var ledger = new ForwardingLedger(InMemoryLedger.of(clock, 10_000)) {
            @Override
            public Claim claim(String key, Duration lease) {
                if (slowOnce.getAndSet(false)) {
                    clock.advance(Duration.ofSeconds(3)); // past the 2 s lease
                }
                return super.claim(key, lease);
            }
        };
        var handled = new CopyOnWriteArrayList<String>();
        var droppedWhenHandled = new CopyOnWriteArrayList<Long>();
        var self = new java.util.concurrent.atomic.AtomicReference<Listener>();
        Handler handler = (event, delivery) -> {
            handled.add(event.key());
            droppedWhenHandled.add(self.get().stats().staleDropped());
            return Outcome.done();
        };
        listener = Listener.builder(queue, queue, new LineDecoder(), handler).ledger(ledger).clock(clock)
                .config(ListenerTest.fast().extendLeases(false).build()).build();
        self.set(listener);
        listener.start();

        queue.send("a");
        assertThat(Await.until(Duration.ofSeconds(15), () -> listener.stats().acked() == 1)).as(listener.stats().line()).isTrue();

        assertThat(handled).as("handled once, by the copy").containsExactly("a");
        assertThat(droppedWhenHandled).as("the stale delivery was dropped before any handler ran").containsExactly(1L);
    }

    @Test
    void anExtensionThatMeetsTheCompletion_isNotALostClaim() {
        var queue = InMemoryQueue.standard("extension-race");
        var completed = new CountDownLatch(1);
        var refused = new AtomicInteger();
        // the keeper's extension reaches the ledger only after the handler's completion: every ledger refuses it then
        var ledger = new ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean extend(String key, long token, Duration lease) {
                try {
                    completed.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                boolean kept = super.extend(key, token, lease);
                if (!kept) {
                    refused.incrementAndGet();
                }
                return kept;
            }

            @Override
            public boolean complete(String key, long token, Duration ttl) {
                boolean done = super.complete(key, token, ttl);
                completed.countDown();
                return done;
            }
        };
        Handler outlastsExtendAfter = (event, delivery) -> {
            try {
                // past extend-after (half the 6 s lease, 3 s) and the keeper's next round (0.75 s later): it asks for the
                // claim while this still runs, with time to spare on a busy machine
                Thread.sleep(4_500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        listener = Listener.builder(queue, queue, new LineDecoder(), outlastsExtendAfter).ledger(ledger)
                .config(ListenerTest.fast().lease(Duration.ofSeconds(6)).build()).build().start();

        queue.send("a");
        assertThat(Await.until(Duration.ofSeconds(15), () -> listener.stats().acked() == 1 && refused.get() > 0))
                .as("handled, and an extension refused after the completion: " + listener.stats().line()).isTrue();

        assertThat(listener.stats().claimsLost()).as("nothing was lost: the claim had been completed").isZero();
    }
}
