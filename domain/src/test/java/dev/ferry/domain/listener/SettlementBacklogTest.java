package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A settlement frees its delivery's place in the window as it is queued for the settler: with deletes slow (a
 * dead-letter queue throttled, a silent connection), nothing held the pollers back. They took in the whole backlog
 * at receive speed, every message held in memory behind the settler, its lease lapsing unextended while it waited:
 * each came back and was handled again, and a stop sent the whole backlog past its deadline.
 */
class SettlementBacklogTest {

    @Test
    void slowSettlements_holdThePollersBack_insteadOfQueueingTheWholeBacklog() throws Exception {
        var queue = InMemoryQueue.standard("orders");
        for (int i = 0; i < 3_000; i++) {
            queue.send("m" + i);
        }
        var slow = new CountDownLatch(1);
        // the acknowledgement path stalls until let go
        Acknowledger stalled = settlingAfter(queue, () -> Await.until(Duration.ofSeconds(20), () -> slow.getCount() == 0));
        var config = ListenerTest.fast().maxInFlight(20).batchSize(10).lease(Duration.ofMinutes(1)).build();
        var listener = Listener.builder(queue, stalled, new LineDecoder(), (event, delivery) -> Outcome.done())
                .config(config).build().start();
        try (var log = new CapturedLog()) {
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().received() >= 20)).isTrue();
            Thread.sleep(1_000); // time enough for the pollers to take in thousands, were nothing to hold them
            assertThat(listener.stats().received())
                    .as("taken in while the settler is stalled: a window's worth, the batch it sends and as many queued, "
                            + "not the queue")
                    .isLessThanOrEqualTo(config.maxInFlight() + 2 * Settler.BATCH + config.batchSize() * config.pollers());
            // a review: held unsaid, a listener that took nothing in for minutes looked idle
            assertThat(Await.until(Duration.ofSeconds(5), () -> log.lines.stream().anyMatch(l -> l.contains("wait: more "
                    + "settlements are queued")))).as("said: " + log.lines).isTrue();
        } finally {
            slow.countDown();
        }
        assertThat(Await.until(Duration.ofSeconds(30), () -> queue.size() == 0))
                .as("once settlements go again, the queue drains: " + listener.stats().line()).isTrue();
        listener.stop();
        assertThat(listener.stats().received()).as("none handled twice").isEqualTo(3_000);
    }

    @Test // a review: held behind the settler, each poller asked the before-poll hook every 10 ms, no poll made
    void pollersHeldBehindTheSettler_askTheBeforePollHookOncePerPoll() throws Exception {
        var queue = InMemoryQueue.standard("hooked");
        for (int i = 0; i < 500; i++) {
            queue.send("m" + i);
        }
        var slow = new CountDownLatch(1);
        Acknowledger stalled = settlingAfter(queue, () -> Await.until(Duration.ofSeconds(20), () -> slow.getCount() == 0));
        var asked = new java.util.concurrent.atomic.AtomicLong();
        var config = ListenerTest.fast().maxInFlight(20).batchSize(10).lease(Duration.ofMinutes(1)).build();
        var listener = Listener.builder(queue, stalled, new LineDecoder(), (event, delivery) -> Outcome.done())
                .beforePoll(stats -> asked.incrementAndGet() > 0).config(config).build().start();
        try {
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().received() >= 20)).isTrue();
            Await.until(Duration.ofSeconds(1), () -> false); // held: a hundred rounds of 10 ms per poller
            assertThat(asked.get()).as("asked before each poll, not each wait: " + listener.stats().line())
                    .isLessThanOrEqualTo(listener.stats().polls() + 10); // held a second: a hundred asks a poller before
        } finally {
            slow.countDown();
            listener.stop();
        }
    }

    @Test // a review of the fix: a handler's own settlements (skip-delete) still waited in the queue unleased
    void aHandlersOwnSettlementsQueuedLongerThanALease_keepTheirMessagesLeased_untilSent() throws Exception {
        var queue = InMemoryQueue.standard("kept-wide");
        for (int i = 0; i < 1_000; i++) {
            queue.send("m" + i);
        }
        // 100 a call: the last of a thousand waits two seconds
        Acknowledger slow = settlingAfter(queue, () -> Await.until(Duration.ofMillis(200), () -> false));
        var kept = new java.util.concurrent.ConcurrentLinkedQueue<Delivery>();
        var config = ListenerTest.fast().skipDelete(true).maxInFlight(1_000).batchSize(10).lease(Duration.ofSeconds(1))
                .build();
        var listener = Listener.builder(queue, slow, new LineDecoder(), (event, delivery) -> {
            kept.add(delivery); // a batching handler: settles them all at once, later
            return Outcome.done();
        }).config(config).build().start();
        try {
            assertThat(Await.until(Duration.ofSeconds(20), () -> kept.size() >= 1_000)).as(listener.stats().line()).isTrue();
            for (var d : kept) {
                listener.settle(d, dev.ferry.domain.transport.Disposition.ACK);
            }
            assertThat(Await.until(Duration.ofSeconds(30), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("drained: " + listener.stats().line()).isTrue();
        } finally {
            listener.stop();
        }
        assertThat(listener.stats().received()).as("each received once: " + listener.stats().line()).isEqualTo(1_000);
    }

    @Test // a review of the fix: behind a settle call that never returns, queued messages were kept leased for good
    void behindASendThatHangs_queuedMessagesAreLetGo_andComeBack() throws Exception {
        var queue = InMemoryQueue.standard("hung");
        for (int i = 0; i < 50; i++) {
            queue.send("m" + i);
        }
        var hung = new CountDownLatch(1);
        // a plugin's call without a timeout
        Acknowledger hanging = settlingAfter(queue, () -> Await.until(Duration.ofSeconds(60), () -> hung.getCount() == 0));
        var handled = new java.util.concurrent.ConcurrentHashMap<String, Integer>();
        var config = ListenerTest.fast().lease(Duration.ofSeconds(1)).build();
        var listener = Listener.builder(queue, hanging, new LineDecoder(), (event, delivery) -> {
            handled.merge(event.key(), 1, Integer::sum);
            return Outcome.done();
        }).config(config).build().start();
        try {
            // the batch under the hung call was never leased on; those queued behind it were, until the call counted as
            // hung: then let go, each came back to be handled again (held until SQS's 12 hours, or for good, before)
            assertThat(Await.until(Duration.ofSeconds(20), () -> handled.size() == 50
                    && handled.values().stream().allMatch(n -> n >= 2)))
                    .as("each came back: " + handled + " " + listener.stats().line()).isTrue();
        } finally {
            hung.countDown();
            listener.stop();
        }
    }

    @Test // a review: held back by a count, a wide window's queued settlements still waited past their leases, unextended
    void settlementsQueuedLongerThanALease_keepTheirMessagesLeased_untilSent() throws Exception {
        var queue = InMemoryQueue.standard("wide");
        for (int i = 0; i < 3_000; i++) {
            queue.send("m" + i);
        }
        var extendedWhileQueued = new java.util.concurrent.atomic.AtomicInteger();
        // a throttled dead-letter queue, a slow link: 200 ms a call
        Acknowledger slow = settlingAfter(queue, () -> Await.until(Duration.ofMillis(200), () -> false),
                extendedWhileQueued);
        var runs = new java.util.concurrent.atomic.AtomicInteger();
        var config = ListenerTest.fast().maxInFlight(1_000).batchSize(10).lease(Duration.ofSeconds(1)).build();
        var listener = Listener.builder(queue, slow, new LineDecoder(), (event, delivery) -> {
            runs.incrementAndGet();
            return Outcome.done();
        }).config(config).build().start();
        try {
            assertThat(Await.until(Duration.ofSeconds(60), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("drained: " + listener.stats().line()).isTrue();
        } finally {
            listener.stop();
        }
        // 100 settled per 200 ms call, a thousand queued: the last waited two seconds, twice its lease
        assertThat(runs).as("each message handled once (its lease kept while its ack waited): " + listener.stats().line())
                .hasValue(3_000);
        assertThat(extendedWhileQueued).as("leases extended").hasPositiveValue();
    }

    @Test // a review of the fix: the batch inside a settle call slower than its leases' rest was never extended
    void aSettleCallSlowerThanTheLeasesRest_keepsItsBatchLeased_untilAnswered() throws Exception {
        var queue = InMemoryQueue.standard("slow-call");
        for (int i = 0; i < 50; i++) {
            queue.send("m" + i);
        }
        // 1.5 s a call, under the 5 s a call counts as hung: a throttled dead-letter queue's copies, then the deletes
        Acknowledger slow = settlingAfter(queue, () -> Await.until(Duration.ofMillis(1_500), () -> false));
        var runs = new java.util.concurrent.ConcurrentHashMap<String, Integer>();
        var config = ListenerTest.fast().lease(Duration.ofSeconds(1)).build();
        var listener = Listener.builder(queue, slow, new LineDecoder(), (event, delivery) -> {
            runs.merge(event.key(), 1, Integer::sum);
            return Outcome.done();
        }).config(config).build().start();
        try {
            assertThat(Await.until(Duration.ofSeconds(30), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("drained: " + listener.stats().line()).isTrue();
        } finally {
            listener.stop();
        }
        assertThat(runs).as("each handled once, its lease kept through the call that deleted it").hasSize(50)
                .allSatisfy((key, n) -> assertThat(n).as(key).isEqualTo(1));
    }

    @Test // a review of the fix: at a stop the lease keeper ended first, and what waited behind the settler lapsed
    void atAStop_settlementsStillQueued_keepTheirMessagesLeased_untilSent() throws Exception {
        var queue = InMemoryQueue.standard("stopping");
        for (int i = 0; i < 1_000; i++) {
            queue.send("m" + i);
        }
        var runsA = new java.util.concurrent.atomic.AtomicInteger();
        var config = ListenerTest.fast().maxInFlight(1_000).batchSize(10).lease(Duration.ofSeconds(1)).build();
        // 100 a call of 200 ms: at the stop most of a thousand acks wait, two seconds' worth, twice what a lease has left
        var a = Listener.builder(queue, settlingAfter(queue, () -> Await.until(Duration.ofMillis(200), () -> false)),
                new LineDecoder(), (event, delivery) -> {
                    runsA.incrementAndGet();
                    return Outcome.done();
                }).config(config).build().start();
        var runsB = new java.util.concurrent.atomic.AtomicInteger();
        Listener b = null;
        try {
            assertThat(Await.until(Duration.ofSeconds(20), () -> runsA.get() == 1_000)).as(a.stats().line()).isTrue();
            b = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
                runsB.incrementAndGet(); // another instance
                return Outcome.done();
            }).config(ListenerTest.fast().lease(Duration.ofSeconds(1)).build()).build().start();
        } finally {
            a.stop();
        }
        try {
            assertThat(Await.until(Duration.ofSeconds(20), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("drained: " + a.stats().line()).isTrue();
        } finally {
            b.stop();
        }
        assertThat(runsB).as("none ran again on another instance while the stop sent its acks").hasValue(0);
    }

    @Test // a review of the fix: the stop interrupted the lease keeper once its 5 s wait for the settler ended, though the
          // settle call under way went on: its batch's leases lapsed, and another instance ran the message again
    void atAStop_aSettleCallOutlastingTheSettlersJoin_keepsItsBatchLeased_untilAnswered() throws Exception {
        var queue = InMemoryQueue.standard("long-call");
        queue.send("m0");
        var inCall = new CountDownLatch(1);
        var first = new java.util.concurrent.atomic.AtomicBoolean(true);
        Acknowledger slowFirst = settlingAfter(queue, () -> {
            if (first.getAndSet(false)) {
                inCall.countDown();
                Await.until(Duration.ofSeconds(18), () -> false); // past the stop's 5 s join, under the 20 s a call hangs
            }
        });
        var a = Listener.builder(queue, slowFirst, new LineDecoder(), (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().lease(Duration.ofSeconds(10)).build()).build().start();
        var runsB = new java.util.concurrent.atomic.AtomicInteger();
        Listener b = null;
        try {
            assertThat(inCall.await(10, java.util.concurrent.TimeUnit.SECONDS)).as(a.stats().line()).isTrue();
            b = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
                runsB.incrementAndGet(); // another instance
                return Outcome.done();
            }).config(ListenerTest.fast().build()).build().start();
            a.stop();
            assertThat(Await.until(Duration.ofSeconds(25), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("acked when the call answered: " + a.stats().line()).isTrue();
        } finally {
            if (b != null) {
                b.stop();
            }
        }
        assertThat(runsB).as("not run again on another instance while the call went on").hasValue(0);
    }

    /** The queue's own settlements and lease extensions, each settle call made after {@code wait}; extensions counted. */
    private static Acknowledger settlingAfter(InMemoryQueue queue, Runnable wait,
            java.util.concurrent.atomic.AtomicInteger extended) {
        return new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                wait.run();
                return queue.settle(settlements);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                extended.addAndGet(deliveries.size());
                return queue.extendLeases(deliveries, lease);
            }
        };
    }

    private static Acknowledger settlingAfter(InMemoryQueue queue, Runnable wait) {
        return settlingAfter(queue, wait, new java.util.concurrent.atomic.AtomicInteger());
    }
}
