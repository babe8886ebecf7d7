package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** What a source or a user's wiring may do that the listener must survive. */
class SourceEdgesTest {

    @Test
    void aSourceThatIgnoresThePollsMax_hasWhatItGaveBeyondReleased_notLeftToItsLease() {
        var queue = InMemoryQueue.standard("edges");
        Source greedy = new Source() { // always takes ten, whatever it is asked for
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return queue.poll(new PollRequest(10, request.maxWait(), request.lease()));
            }
        };
        Set<String> handled = ConcurrentHashMap.newKeySet();
        Handler slow = (event, delivery) -> {
            handled.add(event.key());
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        for (int i = 0; i < 30; i++) {
            queue.send("m-" + i);
        }
        var listener = Listener.builder(greedy, queue, new LineDecoder(), slow)
                .config(ListenerTest.fast().batchSize(10).maxInFlight(10).concurrency(1).lease(Duration.ofMinutes(1))
                        .build()).build().start();
        try {
            // dropped, they would be back only when their minute's lease ran out
            assertThat(Await.until(Duration.ofSeconds(20), () -> handled.size() == 30))
                    .as("all handled well within the lease: " + listener.stats().line()).isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test
    void anIdleTimeout_countsFromTheStart_notFromWhenTheListenerWasBuilt() throws Exception {
        var queue = InMemoryQueue.standard("idle");
        Set<String> handled = ConcurrentHashMap.newKeySet();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }).config(ListenerTest.fast().pollWait(Duration.ofMillis(100)).idleTimeout(Duration.ofSeconds(1)).build()).build();
        Thread.sleep(1_500); // wiring takes a while before the start
        listener.start();
        try {
            Thread.sleep(300);
            queue.send("late");
            assertThat(Await.until(Duration.ofSeconds(10), () -> handled.contains("late")))
                    .as("still running 300 ms after its start: " + listener.stats().line()).isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test
    void withLeaseExtensionOff_aBackoffLongerThanTheLease_isWaitedOutByTheTransport_notCutShortByTheCopy() {
        var queue = InMemoryQueue.standard("no-extend");
        var calls = new java.util.concurrent.CopyOnWriteArrayList<Long>();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            calls.add(System.nanoTime());
            return calls.size() == 1 ? Outcome.retry("downstream 503") : Outcome.done();
        }).config(ListenerTest.fast().lease(Duration.ofMillis(600)).extendLeases(false)
                .retry(dev.ferry.domain.retry.RetryPolicy.of(3, dev.ferry.domain.retry.Backoff.fixed(Duration.ofSeconds(2))))
                .build()).build().start();
        try {
            queue.send("flaky");
            assertThat(Await.until(Duration.ofSeconds(20), () -> calls.size() >= 2)).as(listener.stats().line()).isTrue();
            assertThat(Duration.ofNanos(calls.get(1) - calls.get(0))).as("the backoff was kept")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(1_800));
        } finally {
            listener.stop();
        }
    }

    @Test
    void aPollThatNeverReturns_isAHealthProblem_notAQuietlyIdleListener() {
        var release = new java.util.concurrent.CountDownLatch(1);
        Source stuck = new Source() {
            @Override
            public String name() {
                return "stuck";
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                try {
                    release.await(); // a plugin waiting on a lock, a client without a timeout
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return List.of();
            }
        };
        var queue = InMemoryQueue.standard("acks");
        var listener = Listener.builder(stuck, queue, new LineDecoder(), (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().pollWait(Duration.ofMillis(100)).pollers(1).build()).build().start();
        try {
            assertThat(listener.health().ready()).as("a fresh poll is no problem").isTrue();
            assertThat(Await.until(Duration.ofSeconds(15), () -> !listener.health().ready())).isTrue();
            assertThat(listener.health().problems()).anySatisfy(p -> assertThat(p).contains("has not returned"));
        } finally {
            release.countDown();
            listener.stop();
        }
    }
}
