package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ListenerTest {

    private static final Duration LIMIT = Duration.ofSeconds(15);

    private final InMemoryQueue dlq = InMemoryQueue.standard("orders-dlq");
    private final InMemoryQueue queue = InMemoryQueue.builder("orders").deadLetterQueue(dlq).build();
    private final List<Listener> listeners = new ArrayList<>();
    private final List<String> effects = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopAll() {
        listeners.forEach(Listener::stop);
    }

    static ListenerConfig.Builder fast() {
        return ListenerConfig.builder()
                .pollWait(Duration.ofMillis(50))
                .lease(Duration.ofSeconds(2))
                .concurrency(4)
                .throttlePause(Duration.ofMillis(1))
                .maxThrottlePause(Duration.ofMillis(5))
                .retry(RetryPolicy.of(3, Backoff.fixed(Duration.ofMillis(1))))
                .shutdownDeadline(Duration.ofSeconds(5));
    }

    private Listener start(InMemoryQueue q, Handler handler, ListenerConfig config) {
        return start(Listener.builder(q, q, new LineDecoder(), handler).config(config).seed(7));
    }

    private Listener start(Listener.Builder builder) {
        var l = builder.build();
        listeners.add(l);
        return l.start();
    }

    private Handler recording() {
        return (event, delivery) -> {
            effects.add(event.key());
            return Outcome.done();
        };
    }

    @Test
    void aListenerOnASourceThatSettlesItself_ownsIt_andClosesIt_theFourArgumentOneDoesNot() throws Exception {
        var owned = InMemoryQueue.standard("owned");
        var handled = new CountDownLatch(1);
        var listener = Listener.builder(owned, new LineDecoder(), (event, delivery) -> {
            handled.countDown();
            return Outcome.done();
        }).build().start();
        owned.send("one");
        assertThat(handled.await(10, TimeUnit.SECONDS)).isTrue();
        listener.close();
        assertThat(listener.isRunning()).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> owned.send("after close"))
                .as("the source was closed with the listener").hasMessageContaining("closed");

        var shared = InMemoryQueue.standard("shared");
        var other = Listener.builder(shared, shared, new LineDecoder(), (event, delivery) -> Outcome.done()).build().start();
        other.close();
        assertThat(shared.send("still open").messageId()).as("today's builder keeps today's close()").isNotNull();
    }

    @Test
    void handledMessages_areAcked_andCounted() {
        for (int i = 0; i < 25; i++) {
            queue.send("e" + i);
        }
        var l = start(queue, recording(), fast().build());
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(effects).hasSize(25).doesNotHaveDuplicates();
        assertThat(Await.until(LIMIT, () -> l.stats().acked() == 25)).isTrue();
        var stats = l.stats();
        assertThat(stats.received()).isEqualTo(25);
        assertThat(stats.inFlight()).isZero();
        assertThat(stats.lastReceiveTime()).isPresent();
    }

    @Test
    void malformedBody_isDeadLetteredOnFirstReceive_withItsReason() {
        queue.send("!garbage");
        var l = start(queue, recording(), fast().build());
        assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).isTrue();
        var dead = dlq.messages().getFirst();
        assertThat(dead.body()).isEqualTo("!garbage");
        assertThat(dead.attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .isEqualTo("malformed: line 1, offset 0: expected an event key, found '!'");
        assertThat(dead.attributes()).containsEntry(InMemoryQueue.RECEIVE_COUNT_ATTRIBUTE, "1");
        assertThat(effects).isEmpty();
        assertThat(l.stats().decodeFailures()).isEqualTo(1);
        assertThat(queue.size()).isZero();
    }

    @Test
    void throttledFiftyTimes_isNeverDeadLettered_andSucceedsAfterwards() {
        queue.send("busy");
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (calls.incrementAndGet() <= 50) {
                return Outcome.throttled(Duration.ofMillis(1));
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(queue, handler, fast().deadLetter(DeadLetterPolicy.maxReceives(5)).build());
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(dlq.size()).isZero();
        assertThat(effects).containsExactly("busy");
        assertThat(l.stats().throttled()).isEqualTo(50);
        assertThat(l.stats().failures()).isZero();
    }

    @Test
    void retriesUsedUp_deadLetterTheMessage_withTheLastReason() {
        queue.send("flaky");
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> Outcome.retry("HTTP 503 #" + calls.incrementAndGet());
        var l = start(queue, handler, fast().build());
        assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).isTrue();
        assertThat(calls).hasValue(3);
        assertThat(dlq.messages().getFirst().attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .isEqualTo("failed 3 time(s), the retry policy allows 3; last failure: HTTP 503 #3");
        assertThat(l.stats().failures()).isEqualTo(3);
        assertThat(l.stats().deadLettered()).isEqualTo(1);
    }

    @Test
    void handlerThatThrows_isRetried_andTheListenerGoesOn() {
        queue.send("boom");
        queue.send("fine");
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("boom") && calls.incrementAndGet() == 1) {
                throw new IllegalStateException("database down");
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(queue, handler, fast().build());
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(effects).containsExactlyInAnyOrder("boom", "fine");
        assertThat(l.stats().failures()).isEqualTo(1);
        assertThat(l.isRunning()).isTrue();
    }

    @Test
    void leaseExtension_keepsALongHandlerFromRunningTwice() throws Exception {
        queue.send("slow");
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            calls.incrementAndGet();
            sleep(Duration.ofMillis(1500));
            effects.add(event.key() + "#" + delivery.receiveCount());
            return Outcome.done();
        };
        var config = fast().lease(Duration.ofMillis(500)).extendAt(0.5).build();
        var l = start(queue, handler, config);
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(calls).as("3x the lease, extended: handled once").hasValue(1);
        assertThat(effects).containsExactly("slow#1");
        long extensions = l.stats().leaseExtensions();
        assertThat(extensions).isGreaterThanOrEqualTo(2);
        Thread.sleep(600);
        assertThat(l.stats().leaseExtensions()).as("no extension after the message was settled").isEqualTo(extensions);
    }

    @Test
    void extensionOff_aLongHandlerRunsTwice_andTheLedgerFencesTheFirstCompletion() {
        queue.send("slow");
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (calls.incrementAndGet() == 1) {
                sleep(Duration.ofMillis(1500)); // 3x the lease, not extended
            }
            effects.add(event.key() + "#" + delivery.receiveCount());
            return Outcome.done();
        };
        var config = fast().lease(Duration.ofMillis(500)).extendLeases(false).pollers(2).build();
        var l = start(Listener.builder(queue, queue, new LineDecoder(), handler).config(config).ledger(InMemoryLedger.create()));
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().fenced() == 1)).as(l.stats().line()).isTrue();
        assertThat(calls).as("the lease ran out: handed out again").hasValue(2);
        assertThat(effects).containsExactly("slow#2", "slow#1");
        assertThat(l.stats().leaseExtensions()).isZero();
    }

    @Test
    void withoutTheLedger_aLeaseThatRunsOutMeansASecondRun_withTheLedgerItIsDropped() {
        var fifoDlq = InMemoryQueue.builder("d.fifo").build();
        var ledger = InMemoryLedger.create();
        queue.send("once");
        queue.send("once");
        var l = start(Listener.builder(queue, queue, new LineDecoder(), recording()).config(fast().build()).ledger(ledger));
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(effects).containsExactly("once");
        assertThat(l.stats().duplicatesDropped()).isEqualTo(1);
        assertThat(l.stats().acked()).isEqualTo(2);
        assertThat(fifoDlq.size()).isZero();
    }

    @Test
    void failureInAGroup_withAWaitPastTheHoldLimit_releasesItsTail_inOrder_whileOtherGroupsGoOn() {
        var fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true).build();
        for (int i = 1; i <= 5; i++) {
            fifo.send(InMemoryQueue.Message.of("A" + i, "A"));
            fifo.send(InMemoryQueue.Message.of("B" + i, "B"));
        }
        var failedOnce = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A2") && failedOnce.getAndIncrement() == 0) {
                return Outcome.retry("first try of A2 fails");
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(fifo, handler, fast().holdLimit(Duration.ZERO).build());
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).isTrue();
        assertThat(effects.stream().filter(k -> k.startsWith("A"))).containsExactly("A1", "A2", "A3", "A4", "A5");
        assertThat(effects.stream().filter(k -> k.startsWith("B"))).containsExactly("B1", "B2", "B3", "B4", "B5");
        assertThat(l.stats().released()).as("A3..A5 were in hand behind A2").isGreaterThanOrEqualTo(1);
    }

    @Test
    void failureInAGroup_isRetriedInHand_itsTailWaiting_whileOtherGroupsGoOn() { // #15
        var fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true).build();
        for (int i = 1; i <= 5; i++) {
            fifo.send(InMemoryQueue.Message.of("A" + i, "A"));
            fifo.send(InMemoryQueue.Message.of("B" + i, "B"));
        }
        var failedOnce = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A2") && failedOnce.getAndIncrement() == 0) {
                return Outcome.retry("first try of A2 fails");
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(fifo, handler, fast().build());
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).isTrue();
        assertThat(effects.stream().filter(k -> k.startsWith("A"))).containsExactly("A1", "A2", "A3", "A4", "A5");
        assertThat(effects.stream().filter(k -> k.startsWith("B"))).containsExactly("B1", "B2", "B3", "B4", "B5");
        assertThat(l.stats().held()).as("A2 waited out its backoff in hand").isEqualTo(1);
        assertThat(l.stats().released()).as("nothing handed back: A3..A5 waited behind A2").isZero();
        assertThat(l.stats().redelivered()).isZero();
    }

    @Test
    void aGroupsTail_handedBackBehindAFailingHead_isNotDeadLetteredForItsReceives() {
        var fifoDlq = InMemoryQueue.builder("trades-dlq.fifo").build();
        var fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true).deadLetterQueue(fifoDlq).build();
        for (int i = 1; i <= 4; i++) {
            fifo.send(InMemoryQueue.Message.of("A" + i, "A"));
        }
        var headFailures = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A1") && headFailures.getAndIncrement() < 4) {
                return Outcome.throttled(Duration.ofMillis(1)); // the sink says 429: not A1's fault either
            }
            effects.add(event.key());
            return Outcome.done();
        };
        // the head is throttled 4 times; its tail is received with it each time and handed back unhandled
        var config = fast().deadLetter(DeadLetterPolicy.maxReceives(3)).holdLimit(Duration.ZERO).build();
        var l = start(fifo, handler, config);
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1", "A2", "A3", "A4");
        assertThat(fifoDlq.size()).as("the tail was never at fault").isZero();
        assertThat(l.stats().released()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aThrottledHead_waitsInHand_withItsTail_andNoReceiveIsSpent() { // #15
        var fifoDlq = InMemoryQueue.builder("trades-dlq.fifo").build();
        var fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true).deadLetterQueue(fifoDlq).build();
        for (int i = 1; i <= 4; i++) {
            fifo.send(InMemoryQueue.Message.of("A" + i, "A"));
        }
        var headFailures = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A1") && headFailures.getAndIncrement() < 4) {
                return Outcome.throttled(Duration.ofMillis(1)); // the sink says 429: not A1's fault either
            }
            effects.add(event.key());
            return Outcome.done();
        };
        // the head is throttled 4 times; its tail is received with it each time and handed back unhandled
        var config = fast().deadLetter(DeadLetterPolicy.maxReceives(3)).build();
        var l = start(fifo, handler, config);
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1", "A2", "A3", "A4");
        assertThat(fifoDlq.size()).as("the tail was never at fault").isZero();
        assertThat(l.stats().released()).as("nothing handed back").isZero();
        assertThat(l.stats().held()).as("the head waited in hand 4 times").isEqualTo(4);
        assertThat(l.stats().received()).as("each message received once: no receive spent").isEqualTo(4);
    }

    @Test
    void shutdown_releasesWorkNotStarted_andWorkPastTheDeadline_andReportsIt() throws Exception {
        var block = new CountDownLatch(1);
        var started = new CountDownLatch(1);
        Handler handler = (event, delivery) -> {
            started.countDown();
            try {
                block.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        for (int i = 0; i < 10; i++) {
            queue.send("w" + i);
        }
        var config = fast().concurrency(1).lease(Duration.ofSeconds(60)).shutdownDeadline(Duration.ofMillis(300)).build();
        var l = start(queue, handler, config);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Await.until(LIMIT, () -> l.stats().received() == 10)).isTrue();

        var report = l.stop();
        block.countDown();

        assertThat(report.releasedWaiting()).isEqualTo(9);
        assertThat(report.releasedRunning()).isEqualTo(1);
        assertThat(report.clean()).isFalse();
        assertThat(report.stats().released()).isEqualTo(10);
        assertThat(report.flushed()).isEqualTo(10);
        assertThat(queue.size()).isEqualTo(10);
        assertThat(queue.inFlightCount()).as("nothing left invisible for a 60 s lease").isZero();
        assertThat(queue.poll(new PollRequest(10, Duration.ZERO, Duration.ofSeconds(1)))).hasSize(10);
    }

    @Test
    void shutdown_letsRunningHandlersFinish_withinTheDeadline() throws Exception {
        for (int i = 0; i < 4; i++) {
            queue.send("f" + i);
        }
        var running = new AtomicInteger();
        var gate = new CountDownLatch(1);
        Handler handler = (event, delivery) -> {
            running.incrementAndGet();
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(queue, handler, fast().concurrency(4).build());
        assertThat(Await.until(LIMIT, () -> running.get() == 4)).isTrue();
        var stopping = java.util.concurrent.CompletableFuture.supplyAsync(l::stop);
        assertThat(Await.until(LIMIT, () -> !l.isRunning())).isTrue();
        gate.countDown();
        var report = stopping.get(15, TimeUnit.SECONDS);
        assertThat(report.clean()).isTrue();
        assertThat(report.finished()).isEqualTo(4);
        assertThat(report.releasedWaiting()).isZero();
        assertThat(effects).hasSize(4);
        assertThat(queue.size()).isZero();
    }

    /**
     * Handlers that finish the moment the listener stops running (as a caller sees it) finished during
     * the shutdown, and its report says so: the report once counted from a moment after the state had
     * turned, and missed what settled in between.
     */
    @org.junit.jupiter.api.RepeatedTest(50)
    void shutdown_countsAsFinished_whatSettlesAsSoonAsTheListenerStopsRunning() throws Exception {
        for (int i = 0; i < 4; i++) {
            queue.send("s" + i);
        }
        var running = new AtomicInteger();
        var listener = new AtomicReference<Listener>();
        Handler handler = (event, delivery) -> {
            running.incrementAndGet();
            long deadline = System.nanoTime() + LIMIT.toNanos();
            while ((listener.get() == null || listener.get().isRunning()) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(queue, handler, fast().concurrency(4).build());
        listener.set(l);
        assertThat(Await.until(LIMIT, () -> running.get() == 4)).isTrue();
        var report = l.stop();
        assertThat(effects).hasSize(4);
        assertThat(report.releasedWaiting() + report.releasedRunning()).isZero();
        assertThat(report.finished()).as("every handler finished after the stop was asked for").isEqualTo(4);
        assertThat(queue.size()).isZero();
    }

    /**
     * A settlement under way when the listener stops (its delivery out of hand, here its observer held
     * up — told after the ack is queued since) is sent: the shutdown once saw nothing in hand, sent
     * what was queued and finished, and the ack came after — lost, the message redelivered when its
     * lease ran out (seen as a flaky {@code beforePollHook_canStopTheListener}).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "shutdown deadline {0} ms")
    @org.junit.jupiter.params.provider.ValueSource(longs = {5_000, 0})
    void shutdown_sendsASettlementThatWasUnderWay_whenItStopped(long deadlineMillis) throws Exception {
        queue.send("under-way");
        var inSettled = new CountDownLatch(1);
        var observer = new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                inSettled.countDown();
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        var l = start(Listener.builder(queue, queue, new LineDecoder(), recording())
                .config(fast().shutdownDeadline(Duration.ofMillis(deadlineMillis)).build()).observer(observer));
        assertThat(inSettled.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        var report = l.stop();
        assertThat(report.releasedWaiting() + report.releasedRunning()).isZero();
        // queued before the observer is told (so that what telling it throws cannot keep it from going): sent by the
        // settler or by the shutdown's flush, whichever comes first — never lost
        assertThat(report.flushed()).as("sent once at most by the shutdown").isBetween(0L, 1L);
        assertThat(queue.size()).as("the ack reached the queue").isZero();
    }

    /** An observer that throws an Error while a delivery is being settled costs neither the ack nor the slot. */
    @Test
    void anObserverThrowingAnError_whileSettling_losesNoAck_andFreesTheSlot() throws Exception {
        queue.send("observed");
        var threw = new AtomicInteger();
        var observer = new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                threw.incrementAndGet();
                throw new AssertionError("an observer that breaks");
            }
        };
        var l = start(Listener.builder(queue, queue, new LineDecoder(), recording()).config(fast().build()).observer(observer));
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as("the ack reached the queue").isTrue();
        // the ack is queued before the observer is told: it may reach the queue first
        assertThat(Await.until(LIMIT, () -> threw.get() == 1 && l.stats().inFlight() == 0)).as("told once; its slot is free")
                .isTrue();
        var report = l.stop();
        assertThat(report.clean()).isTrue();
    }

    @Test
    void idleTimeout_stopsTheListener() throws Exception {
        var l = start(queue, recording(), fast().idleTimeout(Duration.ofMillis(300)).build());
        var report = l.awaitStop(LIMIT);
        assertThat(report).hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo("idle for PT0.3S"));
        assertThat(l.isRunning()).isFalse();
    }

    @Test
    void beforePollHook_canStopTheListener() throws Exception {
        for (int i = 0; i < 30; i++) {
            queue.send("p" + i);
        }
        var l = start(Listener.builder(queue, queue, new LineDecoder(), recording())
                .config(fast().batchSize(5).build())
                .beforePoll(stats -> stats.received() < 10));
        var report = l.awaitStop(LIMIT);
        assertThat(report).hasValueSatisfying(r -> assertThat(r.reason()).contains("before-poll hook"));
        assertThat(l.stats().received()).isBetween(10L, 15L);
        assertThat(queue.inFlightCount()).isZero();
    }

    @Test
    void skipDelete_leavesTheMessage_untilTheHandlerSettlesIt() {
        queue.send("later");
        var kept = new AtomicReference<Delivery>();
        Handler handler = (event, delivery) -> {
            kept.set(delivery);
            return Outcome.done();
        };
        var l = start(queue, handler, fast().skipDelete(true).lease(Duration.ofSeconds(30)).build());
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();
        assertThat(queue.size()).isEqualTo(1);
        l.settle(kept.get(), Disposition.ACK);
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(l.stats().acked()).isEqualTo(1);
    }

    @Test // #8: a crashed worker's claim runs out no later than its message becomes visible again
    void ledgerClaim_endsWithTheMessagesVisibility_notAFullLeaseAfterTheClaim() {
        var clock = new dev.ferry.domain.testing.MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var claimLeases = new java.util.concurrent.CopyOnWriteArrayList<Duration>();
        var inner = dev.ferry.domain.idempotency.InMemoryLedger.of(clock, 1000);
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) {
            @Override
            public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
                claimLeases.add(lease);
                return inner.claim(key, lease);
            }
        };
        var lineDecoder = new LineDecoder();
        // 10 s pass between the receive and the claim (a slow decode)
        dev.ferry.domain.decode.Decoder slowDecoder = d -> {
            clock.advance(Duration.ofSeconds(10));
            return lineDecoder.decode(d);
        };
        queue.send("k1");
        var l = start(Listener.builder(queue, queue, slowDecoder, recording()).clock(clock).ledger(ledger)
                .config(fast().lease(Duration.ofSeconds(30)).build()));
        assertThat(Await.until(LIMIT, () -> l.stats().acked() == 1)).isTrue();
        assertThat(claimLeases).containsExactly(Duration.ofSeconds(20));
    }

    @Test // a handler that settles its own delivery before handle() returns: its claim is completed, nothing kept
    void skipDelete_aHandlerSettlingBeforeItReturns_hasItsClaimCompleted_andTheDeliveryIsNotKept() {
        var ledger = dev.ferry.domain.idempotency.InMemoryLedger.of(java.time.Clock.systemUTC(), 1000);
        var self = new AtomicReference<Listener>();
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            calls.incrementAndGet();
            self.get().settle(delivery, Disposition.ACK); // settled at once, from inside the handler
            return Outcome.done();
        };
        var l = start(Listener.builder(queue, queue, new LineDecoder(), handler).ledger(ledger)
                .config(fast().skipDelete(true).lease(Duration.ofMillis(300)).extendAt(0.5).build()));
        self.set(l);
        queue.send("early");
        assertThat(Await.until(LIMIT, () -> l.stats().acked() == 1 && queue.size() == 0)).isTrue();
        sleep(Duration.ofMillis(900));
        assertThat(l.stats().leaseExtensions()).as("a settled delivery's lease is not extended for ever").isZero();

        queue.send("early"); // the same event again (a publisher's retry): the ledger has it done
        assertThat(Await.until(LIMIT, () -> l.stats().duplicatesDropped() == 1)).isTrue();
        assertThat(calls.get()).as("handled once").isEqualTo(1);
    }

    @Test // one extension round refused for a passing reason (throttled) must not end a kept delivery's extensions
    void skipDelete_oneRefusedExtensionRound_doesNotStopTheKeptDeliverysExtensions() {
        var ledger = dev.ferry.domain.idempotency.InMemoryLedger.of(java.time.Clock.systemUTC(), 1000);
        var refuseOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
        dev.ferry.domain.transport.Acknowledger throttledOnce = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<dev.ferry.domain.transport.Settlement.Failure> settle(
                    List<dev.ferry.domain.transport.Settlement> settlements) {
                return queue.settle(settlements);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return refuseOnce.getAndSet(false) ? deliveries : queue.extendLeases(deliveries, lease);
            }
        };
        var kept = new AtomicReference<Delivery>();
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            calls.incrementAndGet();
            kept.set(delivery);
            return Outcome.done();
        };
        var l = start(Listener.builder(queue, throttledOnce, new LineDecoder(), handler).ledger(ledger)
                .config(fast().skipDelete(true).lease(Duration.ofMillis(400)).extendAt(0.5).build()));
        queue.send("kept");
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();
        sleep(Duration.ofMillis(1600)); // four leases
        assertThat(calls.get()).as("not handed out again: its lease was extended after the refused round").isEqualTo(1);
        l.settle(kept.get(), Disposition.ACK);
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(l.stats().settleFailures()).isZero();
    }

    @Test // #4: async listeners get their leases extended too
    void skipDelete_keepsExtendingTheLease_untilTheHandlerSettles() {
        queue.send("async");
        var kept = new AtomicReference<Delivery>();
        Handler handler = (event, delivery) -> {
            kept.set(delivery);
            return Outcome.done();
        };
        var l = start(queue, handler, fast().skipDelete(true).lease(Duration.ofMillis(300)).extendAt(0.5).build());
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();
        sleep(Duration.ofMillis(1200));
        assertThat(l.stats().received()).as("not received again: four leases later, still extended").isEqualTo(1);
        assertThat(queue.inFlightCount()).isEqualTo(1);
        long extensions = l.stats().leaseExtensions();
        assertThat(extensions).isGreaterThanOrEqualTo(2);

        l.settle(kept.get(), Disposition.ACK);
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        sleep(Duration.ofMillis(600));
        assertThat(l.stats().leaseExtensions()).as("extension stops once settled").isLessThanOrEqualTo(extensions + 1);
    }

    @Test
    void inFlightWork_isBounded_byMaxInFlight() {
        var block = new CountDownLatch(1);
        var concurrent = new AtomicInteger();
        var maxSeen = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            maxSeen.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            try {
                block.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            concurrent.decrementAndGet();
            return Outcome.done();
        };
        for (int i = 0; i < 40; i++) {
            queue.send("b" + i);
        }
        var l = start(queue, handler, fast().maxInFlight(6).batchSize(4).concurrency(16).lease(Duration.ofSeconds(30)).build());
        assertThat(Await.until(LIMIT, () -> l.stats().received() >= 6)).isTrue();
        sleep(Duration.ofMillis(300));
        assertThat(l.stats().received()).isEqualTo(6);
        assertThat(queue.inFlightCount()).isEqualTo(6);
        block.countDown();
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(maxSeen.get()).isLessThanOrEqualTo(6);
    }

    @Test
    void throttling_pausesPolling() {
        queue.send("first");
        var throttledAt = new AtomicReference<Long>();
        var l = new AtomicReference<Listener>();
        Handler handler = (event, delivery) -> {
            if (throttledAt.get() == null) {
                throttledAt.set(1L);
                return Outcome.throttled(Duration.ofMillis(1));
            }
            return Outcome.done();
        };
        l.set(start(queue, handler, fast().throttlePause(Duration.ofSeconds(3)).maxThrottlePause(Duration.ofSeconds(3)).build()));
        assertThat(Await.until(LIMIT, () -> l.get().stats().throttled() == 1)).isTrue();
        sleep(Duration.ofMillis(200));
        long polls = l.get().stats().polls();
        sleep(Duration.ofMillis(1000));
        assertThat(l.get().stats().polls()).as("no polls while throttled").isEqualTo(polls);
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as("polling resumes after the pause").isTrue();
    }

    @Test
    void tooManyReceives_areDeadLettered_evenWithoutARecordedFailure() {
        queue.send("crasher");
        // Two earlier consumers received it and died without a word.
        for (int i = 0; i < 2; i++) {
            assertThat(queue.poll(new PollRequest(1, Duration.ZERO, Duration.ofMillis(1)))).hasSize(1);
            sleep(Duration.ofMillis(5));
        }
        var l = start(queue, recording(), fast().deadLetter(DeadLetterPolicy.maxReceives(2)).build());
        assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).isTrue();
        assertThat(dlq.messages().getFirst().attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .isEqualTo("received 3 times (0 throttled, 0 handed back unhandled), more than maxReceives 2");
        assertThat(effects).isEmpty();
        assertThat(l.stats().deadLettered()).isEqualTo(1);
    }

    @Test
    void aDeliveryWithSeveralEvents_isAckedOnlyWhenAllAreDone_andDoneOnesAreNotRepeated() {
        var ledger = InMemoryLedger.create();
        queue.send("doc-1#0 HITReviewable\ndoc-1#1 AssignmentSubmitted");
        var attempts = new ConcurrentHashMap<String, AtomicInteger>();
        Handler handler = (event, delivery) -> {
            int n = attempts.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            if (event.key().endsWith("#1") && n == 1) {
                return Outcome.retry("second event fails once");
            }
            effects.add(event.key());
            return Outcome.done();
        };
        start(Listener.builder(queue, queue, new LineDecoder(), handler).config(fast().build()).ledger(ledger));
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(effects).containsExactly("doc-1#0", "doc-1#1");
        assertThat(attempts.get("doc-1#0")).hasValue(1);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
