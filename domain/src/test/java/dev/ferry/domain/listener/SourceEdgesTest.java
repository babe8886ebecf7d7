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

    @Test
    void anInterruptAPluginLeavesSet_isNotInheritedByThePollsAndEventsAfterIt() {
        // a decoder (or handler) that left its thread interrupted: every later poll of an interruptible source came back
        // empty at once, for ever (SQS's does), and every later event of the runner met a sink answering Retry
        var queue = InMemoryQueue.standard("interrupts");
        Source interruptible = new Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return Thread.currentThread().isInterrupted() ? List.of() : queue.poll(request);
            }
        };
        var decoder = new LineDecoder();
        dev.ferry.domain.decode.Decoder leavesInterrupt = d -> {
            if (new String(d.body(), java.nio.charset.StandardCharsets.UTF_8).equals("m-0")) {
                Thread.currentThread().interrupt();
            }
            return decoder.decode(d);
        };
        var interruptedWhenHandled = new java.util.concurrent.CopyOnWriteArrayList<String>();
        Set<String> handled = ConcurrentHashMap.newKeySet();
        Handler handler = (event, delivery) -> {
            if (Thread.currentThread().isInterrupted()) {
                interruptedWhenHandled.add(event.key());
            }
            if (event.key().equals("m-1")) {
                Thread.currentThread().interrupt(); // a handler's own watchdog, landing as it returns
            }
            handled.add(event.key());
            return Outcome.done();
        };
        var listener = Listener.builder(interruptible, queue, leavesInterrupt, handler)
                .config(ListenerTest.fast().pollers(1).batchSize(1).concurrency(1).build()).build().start();
        try {
            for (int i = 0; i < 4; i++) {
                queue.send("m-" + i);
            }
            assertThat(Await.until(Duration.ofSeconds(10), () -> handled.size() == 4))
                    .as("every message received and handled: " + listener.stats().line()).isTrue();
            assertThat(interruptedWhenHandled).as("no handler met another's interrupt").isEmpty();
        } finally {
            listener.stop();
        }
    }

    @Test
    void aPollWithANullAmongItsDeliveries_givesTheOthersBack_atOnce() {
        var queue = InMemoryQueue.standard("nulls");
        var once = new java.util.concurrent.atomic.AtomicBoolean(true);
        Source withNull = new Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                var got = queue.poll(request);
                if (!got.isEmpty() && once.compareAndSet(true, false)) {
                    var broken = new java.util.ArrayList<Delivery>(got);
                    broken.add(null);
                    return broken;
                }
                return got;
            }
        };
        Set<String> handled = ConcurrentHashMap.newKeySet();
        var listener = Listener.builder(withNull, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }).config(ListenerTest.fast().lease(Duration.ofMinutes(5)).build()).build().start();
        try {
            queue.send("a");
            // left to its five-minute lease before; a source that does not hand out again would hold it for ever
            assertThat(Await.until(Duration.ofSeconds(10), () -> handled.contains("a")))
                    .as(listener.stats().line()).isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test
    void immutableListsFromASource_areTaken_polledAndAnswered() {
        // List.of and List.copyOf throw on contains(null): a poll answered with one threw after its window slots were
        // taken (the listener wedged once they were gone), and a settle answered List.of() - the HTTP source's "nothing
        // failed" - was counted as failed whole (its dead letters owed, nothing counted sent)
        var queue = InMemoryQueue.standard("immutable");
        Source copying = new Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return List.copyOf(queue.poll(request));
            }
        };
        dev.ferry.domain.transport.Acknowledger answeringListOf = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> s) {
                var failed = queue.settle(s);
                return failed.isEmpty() ? List.of() : List.copyOf(failed);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return List.copyOf(queue.extendLeases(deliveries, lease));
            }
        };
        Set<String> handled = ConcurrentHashMap.newKeySet();
        var listener = Listener.builder(copying, answeringListOf, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }).config(ListenerTest.fast().maxInFlight(2).batchSize(2).lease(Duration.ofMinutes(5)).build()).build().start();
        try {
            for (int i = 0; i < 6; i++) {
                queue.send("m-" + i);
            }
            assertThat(Await.until(Duration.ofSeconds(10), () -> handled.size() == 6 && queue.inFlightCount() == 0))
                    .as("all handled and acked: " + listener.stats().line()).isTrue();
            assertThat(listener.stats().settleFailures()).as("no settle counted failed").isZero();
        } finally {
            listener.stop();
        }
    }

    @Test
    void anAcknowledgerThatHangs_isAHealthProblem_andTheStopStillReturns() throws Exception {
        var queue = InMemoryQueue.standard("hangs");
        var release = new java.util.concurrent.CountDownLatch(1);
        dev.ferry.domain.transport.Acknowledger hanging = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> s) {
                try {
                    release.await(); // a client without a timeout
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return queue.settle(s);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        var listener = Listener.builder(queue, hanging, new LineDecoder(), (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().lease(Duration.ofSeconds(1)).shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start();
        try {
            queue.send("a");
            queue.send("b");
            assertThat(Await.until(Duration.ofSeconds(20), () -> !listener.health().ready()))
                    .as("the hang reported: " + listener.health().problems()).isTrue();
            assertThat(listener.health().problems()).anySatisfy(p -> assertThat(p).contains("acknowledgement call"));
            var stopping = java.util.concurrent.CompletableFuture.runAsync(listener::stop);
            assertThat(Await.until(Duration.ofSeconds(30), stopping::isDone)).as("stop returned").isTrue();
        } finally {
            release.countDown();
        }
    }

    @Test
    void aLeaseExtensionThatHangs_isAHealthProblem() throws Exception {
        // an extension call that never returned stopped every later extension, and health said nothing
        var queue = InMemoryQueue.standard("extension-hangs");
        var release = new java.util.concurrent.CountDownLatch(1);
        dev.ferry.domain.transport.Acknowledger hanging = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> s) {
                return queue.settle(s);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                try {
                    release.await(); // a client without a timeout
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return queue.extendLeases(deliveries, lease);
            }
        };
        var listener = Listener.builder(queue, hanging, new LineDecoder(), (event, delivery) -> {
            try {
                release.await(); // in hand long enough for its lease to be extended
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }).config(ListenerTest.fast().lease(Duration.ofSeconds(1)).shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start();
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(20), () -> !listener.health().ready()))
                    .as("the hang reported: " + listener.health().problems()).isTrue();
            assertThat(listener.health().problems()).anySatisfy(p -> assertThat(p).contains("lease extension call"));
        } finally {
            release.countDown();
            listener.stop();
        }
    }
}
