package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A listener stopped from where its callers really stop it: an interrupted thread (a Ctrl-C
 * handler), its own handler, observer or poller, two threads at once, a thread racing its start —
 * and what is settled after it stopped. In each, nothing already done is put back, nothing is
 * lost, and no stop hangs.
 */
class ListenerStopTest {

    private static final Duration LIMIT = Duration.ofSeconds(15);

    private final InMemoryQueue queue = InMemoryQueue.standard("orders");
    private final List<Listener> listeners = new ArrayList<>();
    private final AtomicReference<Listener> self = new AtomicReference<>();

    @AfterEach
    void stopAll() throws Exception {
        for (var l : listeners) {
            // bounded: a stop that hangs fails the test instead of the run
            CompletableFuture.supplyAsync(l::stop).get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static ListenerConfig.Builder config() {
        return ListenerConfig.builder()
                .pollWait(Duration.ofMillis(50))
                .lease(Duration.ofSeconds(60))
                .concurrency(2)
                .shutdownDeadline(Duration.ofSeconds(5));
    }

    @Test // a review: the stop waited for the handler's settle to end — the very settle that called it
    void aStopAskedByTheObserver_whileAHandlerSettlesWhatItKept_doesNotWaitForThatSettle() throws Exception {
        var kept = new java.util.concurrent.ArrayBlockingQueue<Delivery>(1);
        var observer = new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                if (disposition instanceof Disposition.DeadLetter) {
                    self.get().stop(); // an embedder's "stop on the first dead letter"
                }
            }
        };
        var listener = start((event, delivery) -> {
            kept.add(delivery);
            return Outcome.done();
        }, config().skipDelete(true).shutdownDeadline(Duration.ofHours(1)).build(), observer);
        queue.send("kept");
        var delivery = kept.poll(LIMIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(delivery).isNotNull();
        var settle = CompletableFuture.runAsync(() -> listener.settle(delivery, Disposition.deadLetter("refused")));
        assertThat(Await.until(LIMIT, settle::isDone))
                .as("the settle returned (the stop it started waited for it, up to its deadline of an hour)").isTrue();
        assertThat(Await.until(LIMIT, () -> !listener.isRunning())).as("stopped: %s", listener.stats().line()).isTrue();
    }

    private Listener start(Handler handler, ListenerConfig config, ListenerObserver observer) {
        var l = Listener.builder(queue, queue, new LineDecoder(), handler).config(config).observer(observer).build();
        self.set(l);
        listeners.add(l);
        return l.start();
    }

    private static Handler done() {
        return (event, delivery) -> Outcome.done();
    }

    @Test
    void stopCalledFromTheStoppedObserver_returns_insteadOfWaitingForItself() throws Exception {
        var inner = new AtomicReference<ShutdownReport>();
        var observer = new ListenerObserver() {
            @Override
            public void stopped(ShutdownReport report) {
                inner.set(self.get().stop()); // e.g. an observer that closes what it watched
            }
        };
        var l = start(done(), config().build(), observer);

        var report = CompletableFuture.supplyAsync(l::stop).get(LIMIT.toSeconds(), TimeUnit.SECONDS);

        assertThat(inner.get()).as("the observer's own stop() got the report").isSameAs(report);
        assertThat(l.awaitStop(Duration.ofSeconds(1))).contains(report);
    }

    @Test
    void stopOnAnInterruptedThread_stillGivesARunningHandlerItsDeadline_andKeepsTheInterrupt() throws Exception {
        queue.send("slow");
        var started = new CountDownLatch(1);
        Handler slow = (event, delivery) -> {
            started.countDown();
            sleep(300);
            return Outcome.done();
        };
        var l = start(slow, config().build(), ListenerObserver.NONE);
        assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        Thread.currentThread().interrupt(); // as a Ctrl-C handler that was interrupted, then closes
        var report = l.stop();
        boolean stillInterrupted = Thread.interrupted();

        assertThat(report.releasedRunning()).as("put back although it finished in time").isZero();
        assertThat(report.finished()).isEqualTo(1);
        assertThat(queue.size()).as("acked").isZero();
        assertThat(stillInterrupted).as("the caller's interrupt is given back").isTrue();
    }

    @Test // a review: a handler that ended past the stop's deadline went on to its delivery's later events — the
          // handler called after stop() returned, and events the stop had given back run here and by the copy's receiver
    void aHandlerEndingPastTheStopsDeadline_runsNoLaterEventOfItsDelivery() throws Exception {
        queue.send("k1\nk2\nk3");
        var started = new CountDownLatch(1);
        var letGo = new CountDownLatch(1);
        var handled = new java.util.concurrent.CopyOnWriteArrayList<String>();
        Handler slowFirst = (event, delivery) -> {
            handled.add(event.key());
            if (event.key().equals("k1")) {
                started.countDown();
                while (true) { // deaf to the stop's interrupt
                    try {
                        if (letGo.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                            break;
                        }
                    } catch (InterruptedException ignored) {
                        // goes on
                    }
                }
            }
            return Outcome.done();
        };
        var l = start(slowFirst, config().shutdownDeadline(Duration.ofMillis(200)).build(), ListenerObserver.NONE);
        assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        var report = l.stop();
        assertThat(report.releasedRunning()).as("given back while its handler ran").isEqualTo(1);
        letGo.countDown();
        Thread.sleep(500);

        assertThat(handled).as("nothing of it run after stop() returned").containsExactly("k1");
        assertThat(queue.size()).as("given back whole").isEqualTo(1);
    }

    @Test // a review of the fix above: a claim that outlasted the stop's deadline (a ledger deaf to the interrupt) was
          // followed by the handler's call, the delivery given back meanwhile
    void aClaimEndingPastTheStopsDeadline_isNotFollowedByTheHandler() throws Exception {
        queue.send("k1\nk2");
        var inner = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var claiming = new CountDownLatch(1);
        var letGo = new CountDownLatch(1);
        var ledger = (dev.ferry.domain.idempotency.IdempotencyLedger) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {dev.ferry.domain.idempotency.IdempotencyLedger.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("claim") && String.valueOf(args[0]).contains("k2")) {
                        claiming.countDown();
                        deafWait(letGo);
                    }
                    try {
                        return method.invoke(inner, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        var handled = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var l = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }).ledger(ledger).config(config().shutdownDeadline(Duration.ofMillis(200)).build()).build();
        listeners.add(l);
        l.start();
        assertThat(claiming.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        assertThat(l.stop().releasedRunning()).as("given back while its claim was asked").isEqualTo(1);
        letGo.countDown();
        Thread.sleep(500);
        assertThat(handled).as("nothing of it run after stop() returned").containsExactly("k1");
    }

    @Test // a review of the fix above: a handler that acked its delivery itself (skip-delete) had its claims released, not
          // completed, when it ended past the stop's deadline: acked, yet its event not done in the ledger
    void aHandlersOwnAck_endingPastTheStopsDeadline_completesItsEvent() throws Exception {
        queue.send("k1\nk2");
        var ledger = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var started = new CountDownLatch(1);
        var letGo = new CountDownLatch(1);
        var self = new AtomicReference<Listener>();
        var l = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("k1")) {
                self.get().settle(delivery, Disposition.ACK); // the handler's own ack, before it ends
                started.countDown();
                deafWait(letGo);
            }
            return Outcome.done();
        }).ledger(ledger).config(config().skipDelete(true).shutdownDeadline(Duration.ofMillis(200)).build()).build();
        self.set(l);
        listeners.add(l);
        l.start();
        assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        l.stop();
        letGo.countDown();
        var k1 = dev.ferry.domain.idempotency.LedgerKeys.event("orders", "k1");
        assertThat(Await.until(Duration.ofSeconds(5), () -> ledger.peek(k1).filter(
                c -> c instanceof dev.ferry.domain.idempotency.Claim.Completed).isPresent()))
                .as("completed as its handler's ack said: %s", ledger.peek(k1)).isTrue();
    }

    @Test // thirty-sixth round: the same, its handle() returning Done past the deadline and its ack coming after: the
          // hand-over was refused (the stop had given the delivery back), its claim neither completed nor let go, and the
          // later ack found nothing to complete — the copy put back waited out the claim and ran the effect again
    void aHandlersAckAfterItsHandleEndedPastTheStopsDeadline_completesItsEvent() throws Exception {
        handleEndsPastTheStopsDeadline(false);
    }

    @Test // a review of the fix: the same, its ack coming before its handle() returned (its work done on another thread)
    void aHandlersAckBeforeItsHandleEndedPastTheStopsDeadline_completesItsEvent() throws Exception {
        handleEndsPastTheStopsDeadline(true);
    }

    @Test // a last review: a second settle, refused (settled twice), still decided the claims: a dead letter then a stray
          // ack completed the claims of an effect that never happened, and the copy put back was acked unrun
    void aRefusedSecondSettle_ofADeliveryTheStopGaveBack_decidesNothing() throws Exception {
        var k = keptPastTheStopsDeadline();
        var l = k.listener();
        var ledger = k.ledger();
        var captured = k.delivery();
        var letGo = k.letGo();
        l.settle(captured.get(), Disposition.deadLetter("its effect failed"));
        l.settle(captured.get(), Disposition.ACK); // a callback fired twice: refused
        letGo.countDown();
        var k1 = dev.ferry.domain.idempotency.LedgerKeys.event("orders", "k1");
        assertThat(Await.until(LIMIT, () -> !(ledger.peek(k1).orElse(null) instanceof dev.ferry.domain.idempotency.Claim
                .InProgress))).as("its claim decided: %s", ledger.peek(k1)).isTrue(); // handle() returned, its runner done
        assertThat(ledger.peek(k1).filter(c -> c instanceof dev.ferry.domain.idempotency.Claim.Completed))
                .as("not completed: its effect failed, %s", ledger.peek(k1)).isEmpty();
    }

    /** A listener stopped while its one handler (skip-delete, deaf to the interrupt) keeps k1 past the deadline. */
    private record Kept(Listener listener, dev.ferry.domain.idempotency.InMemoryLedger ledger,
                        AtomicReference<dev.ferry.domain.model.Delivery> delivery, CountDownLatch letGo,
                        CountDownLatch returning) { }

    private Kept keptPastTheStopsDeadline() throws InterruptedException {
        queue.send("k1");
        var ledger = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var started = new CountDownLatch(1);
        var letGo = new CountDownLatch(1);
        var returning = new CountDownLatch(1);
        var captured = new AtomicReference<dev.ferry.domain.model.Delivery>();
        var l = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            captured.set(delivery);
            started.countDown();
            deafWait(letGo);
            returning.countDown();
            return Outcome.done(); // kept: its work goes on, and it settles once done
        }).ledger(ledger).config(config().skipDelete(true).shutdownDeadline(Duration.ofMillis(200)).build()).build();
        listeners.add(l);
        l.start();
        assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        l.stop();
        return new Kept(l, ledger, captured, letGo, returning);
    }

    private void handleEndsPastTheStopsDeadline(boolean ackFirst) throws Exception {
        var k = keptPastTheStopsDeadline();
        var l = k.listener();
        var ledger = k.ledger();
        var captured = k.delivery();
        var letGo = k.letGo();
        if (ackFirst) {
            l.settle(captured.get(), Disposition.ACK);
        }
        letGo.countDown();
        assertThat(k.returning().await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).as("handle() returning").isTrue();
        Await.until(Duration.ofMillis(200), () -> false); // and its runner done with what it returned
        if (!ackFirst) {
            l.settle(captured.get(), Disposition.ACK);
        }
        var k1 = dev.ferry.domain.idempotency.LedgerKeys.event("orders", "k1");
        assertThat(Await.until(Duration.ofSeconds(5), () -> ledger.peek(k1).filter(
                c -> c instanceof dev.ferry.domain.idempotency.Claim.Completed).isPresent()))
                .as("completed as its handler's ack said: %s", ledger.peek(k1)).isTrue();
    }

    private static void deafWait(CountDownLatch latch) {
        while (true) { // deaf to the stop's interrupt
            try {
                if (latch.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException ignored) {
                // goes on
            }
        }
    }

    @Test // a review: an interrupt that came once the stop had begun ended every wait of it at once
    void anInterruptDuringTheStop_stillGivesARunningHandlerItsDeadline_andIsKept() throws Exception {
        queue.send("slow");
        var started = new CountDownLatch(1);
        var interruptedInHandler = new AtomicBoolean();
        Handler slow = sleeping(600, started, interruptedInHandler);
        var l = start(slow, config().build(), ListenerObserver.NONE);
        assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        var report = new AtomicReference<ShutdownReport>();
        var keptInterrupt = new AtomicBoolean();
        var stopping = Thread.ofPlatform().start(() -> {
            report.set(l.stop());
            keptInterrupt.set(Thread.interrupted());
        });
        assertThat(Await.until(LIMIT, () -> !l.isRunning())).isTrue();
        Thread.sleep(50);
        stopping.interrupt(); // an embedder's stop thread interrupted, with most of the 5 s deadline left
        stopping.join(LIMIT.toMillis());

        assertThat(report.get()).isNotNull();
        assertThat(interruptedInHandler).as("the handler ran to its end").isFalse();
        assertThat(report.get().releasedRunning()).as("put back although it finished in time").isZero();
        assertThat(report.get().finished()).isEqualTo(1);
        assertThat(queue.size()).as("acked").isZero();
        assertThat(keptInterrupt).as("the interrupt given back").isTrue();
    }

    /** The test's queue as a source of its own, doing {@code stopping} and {@code close} when told so. */
    private dev.ferry.domain.transport.Source queueSource(Runnable stopping, Runnable close) {
        return new dev.ferry.domain.transport.Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<dev.ferry.domain.model.Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
                return queue.poll(request);
            }

            @Override
            public void stopping() {
                stopping.run();
            }

            @Override
            public void close() {
                close.run();
            }
        };
    }

    @Test // a review: a source whose close() threw an Error left the stop's report unpublished; every later stop() waited
          // for it for ever (a shutdown hook's, beside a try-with-resources), and awaitStop saw no stop
    void aSourceWhoseCloseThrowsAnError_stillEndsTheStop_forEveryCaller() throws Exception {
        var source = queueSource(() -> { }, () -> {
            throw new NoClassDefFoundError("io/netty/channel/EventLoopGroup"); // a plugin's jar half there
        });
        var l = Listener.builder(source, queue, new LineDecoder(), (event, delivery) -> Outcome.done())
                .closeSourceOnClose(true).config(config().build()).build().start();

        var closed = CompletableFuture.runAsync(l::close);
        assertThat(Await.until(LIMIT, closed::isDone)).isTrue();
        var stopped = CompletableFuture.supplyAsync(l::stop);
        assertThat(Await.until(Duration.ofSeconds(5), stopped::isDone)).as("a later stop() returns").isTrue();
        assertThat(stopped.get()).isNotNull();
        assertThat(l.awaitStop(Duration.ofSeconds(1))).as("the stop is seen").isPresent();
        assertThat(closed).as("the close's Error is logged, not thrown at the caller").isNotCompletedExceptionally();
    }

    @Test // a review: a source whose stopping() left its caller interrupted ended the stop's waits the same way
    void aSourceThatLeavesTheStopInterrupted_stillGivesARunningHandlerItsDeadline() throws Exception {
        // a client that restores an interrupt it caused itself
        var source = queueSource(() -> Thread.currentThread().interrupt(), () -> { });
        queue.send("slow");
        var started = new CountDownLatch(1);
        var interruptedInHandler = new AtomicBoolean();
        Handler slow = sleeping(600, started, interruptedInHandler);
        var l = Listener.builder(source, queue, new LineDecoder(), slow).config(config().build()).build();
        listeners.add(l);
        l.start();
        assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        var report = CompletableFuture.supplyAsync(l::stop).get(LIMIT.toSeconds(), TimeUnit.SECONDS);

        assertThat(interruptedInHandler).as("the handler ran to its end").isFalse();
        assertThat(report.releasedRunning()).isZero();
        assertThat(queue.size()).as("acked").isZero();
    }

    @Test // a review: a source whose stopping() blocked (a push source that drains: a gRPC server's shutdown, then its
          // awaitTermination) held the stop for good — no deadline started, running handlers never released
    void aSourceWhoseStoppingNeverReturns_stillEndsTheStop_andReleasesTheRunningHandlerPastTheDeadline()
            throws Exception {
        var drained = new CountDownLatch(1); // never counted down but at the test's end
        var source = queueSource(() -> deafWait(drained), () -> { });
        queue.send("slow");
        var started = new CountDownLatch(1);
        var letGo = new CountDownLatch(1);
        Handler slow = (event, delivery) -> {
            started.countDown();
            deafWait(letGo); // past the deadline, and past the stop's wait for stopping()
            return Outcome.done();
        };
        var l = Listener.builder(source, queue, new LineDecoder(), slow)
                .config(config().shutdownDeadline(Duration.ofMillis(500)).build()).build();
        listeners.add(l);
        try (var log = new CapturedLog()) {
            l.start();
            assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            var stopped = CompletableFuture.supplyAsync(l::stop);

            assertThat(Await.until(LIMIT, stopped::isDone)).as("stop() returned").isTrue();
            assertThat(stopped.get().releasedRunning()).as("released past the deadline: %s", stopped.get())
                    .isEqualTo(1);
            assertThat(log.lines).as("said").anyMatch(line -> line.contains("has not returned from stopping()"));
        } finally {
            drained.countDown();
            letGo.countDown();
        }
    }

    @Test
    void aSecondStopOnAnInterruptedThread_returnsTheReport_notNull() throws Exception {
        queue.send("slow");
        var started = new CountDownLatch(1);
        Handler slow = (event, delivery) -> {
            started.countDown();
            sleep(500);
            return Outcome.done();
        };
        var l = start(slow, config().build(), ListenerObserver.NONE);
        assertThat(started.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        var first = CompletableFuture.supplyAsync(l::stop);
        assertThat(Await.until(LIMIT, () -> !l.isRunning())).isTrue();

        Thread.currentThread().interrupt();
        var second = l.stop();
        boolean stillInterrupted = Thread.interrupted();

        assertThat(second).as("the second caller's report").isNotNull()
                .isSameAs(first.get(LIMIT.toSeconds(), TimeUnit.SECONDS));
        assertThat(stillInterrupted).isTrue();
    }

    @Test
    void stopCalledFromInsideAHandler_doesNotPutItsOwnMessageBack_norWaitOutTheDeadline() throws Exception {
        queue.send("the-last-one");
        var interruptedInHandler = new AtomicBoolean();
        var fromHandler = new AtomicReference<ShutdownReport>();
        Handler stopping = (event, delivery) -> {
            fromHandler.set(self.get().stop());
            interruptedInHandler.set(Thread.currentThread().isInterrupted());
            return Outcome.done();
        };
        // a deadline longer than this test waits: a stop that waited for its own caller would fail it
        var l = start(stopping, config().shutdownDeadline(Duration.ofSeconds(60)).build(), ListenerObserver.NONE);

        var report = l.awaitStop(LIMIT);

        assertThat(report).as("stopped without waiting out the 60 s deadline").isPresent();
        assertThat(fromHandler.get()).as("the handler's stop() returned").isNotNull();
        assertThat(interruptedInHandler).as("the handler's own thread is not interrupted").isFalse();
        assertThat(report.get().releasedRunning()).isZero();
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as("its message acked, not put back").isTrue();
    }

    @Test
    void stopCalledFromTheReceivedObserver_onAPoller_putsBackWhatThatPollTook() throws Exception {
        for (int i = 0; i < 3; i++) {
            queue.send("m" + i);
        }
        var handled = new java.util.concurrent.atomic.AtomicInteger();
        var once = new AtomicBoolean();
        var observer = new ListenerObserver() {
            @Override
            public void received(Delivery delivery) {
                if (once.compareAndSet(false, true)) {
                    self.get().stop();
                }
            }
        };
        Handler counting = (event, delivery) -> {
            handled.incrementAndGet();
            return Outcome.done();
        };
        var l = start(counting, config().build(), observer);

        assertThat(l.awaitStop(LIMIT)).isPresent();

        // with a 60 s lease, a message the poller took but nobody settled would stay invisible
        assertThat(Await.until(LIMIT, () -> queue.inFlightCount() == 0)).as("nothing left invisible").isTrue();
        assertThat(queue.size() + handled.get()).as("each message handled or back in the queue").isEqualTo(3);
    }

    @Test
    void aHandlersSettlementMadeAfterTheListenerStopped_isStillSent() throws Exception {
        queue.send("kept");
        var kept = new AtomicReference<Delivery>();
        Handler keeping = (event, delivery) -> {
            kept.set(delivery);
            return Outcome.done();
        };
        var l = start(keeping, config().skipDelete(true).build(), ListenerObserver.NONE);
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();
        l.stop();

        l.settle(kept.get(), Disposition.ACK); // an async sink that flushes as it closes

        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as("the ack reached the queue").isTrue();
        assertThat(queue.inFlightCount()).isZero();
    }

    @Test
    void stopRacingStart_fromAnotherThread_endsTheListener_andNeverThrows() throws Exception {
        var race = InMemoryQueue.standard("stop-race");
        for (int i = 0; i < 50; i++) {
            var l = Listener.builder(race, race, new LineDecoder(), done()).config(config().build()).build();
            var barrier = new CyclicBarrier(2);
            var starting = CompletableFuture.runAsync(() -> {
                await(barrier);
                try {
                    l.start();
                } catch (IllegalStateException stoppedFirst) {
                    // stop() won the race: the listener never starts
                }
            });
            await(barrier);
            var report = CompletableFuture.supplyAsync(l::stop).get(LIMIT.toSeconds(), TimeUnit.SECONDS);
            starting.get(LIMIT.toSeconds(), TimeUnit.SECONDS);

            assertThat(report).isNotNull();
            assertThat(l.isRunning()).isFalse();
            assertThat(l.awaitStop(Duration.ofSeconds(1))).contains(report);
        }
        assertThat(Await.until(LIMIT, () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("ferry-stop-race-") && t.isAlive())))
                .as("no listener thread outlives its stop").isTrue();
    }

    /** Held because its completion could not be recorded, then acked by the stop: counted as finished, not put back. */
    @Test
    void aDeliveryAckedByTheStop_isCountedAsFinished_notAsReleased() throws Exception {
        queue.send("done-but-unrecorded");
        var completes = new java.util.concurrent.atomic.AtomicInteger();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(dev.ferry.domain.idempotency.InMemoryLedger.create()) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                completes.incrementAndGet();
                throw new IllegalStateException("ledger down");
            }
        };
        var handled = new CountDownLatch(1);
        Handler handler = (event, delivery) -> {
            handled.countDown();
            return Outcome.done();
        };
        var l = Listener.builder(queue, queue, new LineDecoder(), handler).config(config().build()).ledger(ledger).build();
        listeners.add(l);
        l.start();
        assertThat(handled.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(Await.until(LIMIT, () -> l.stats().held() >= 1)).as("held to record its completion later").isTrue();

        var report = l.stop();

        assertThat(queue.size()).as("its effect happened: acked, not handled again").isZero();
        assertThat(report.releasedWaiting()).isZero();
        assertThat(report.finished()).isEqualTo(1);
    }

    /** The shutdown settles on its caller's thread, and an observer there may stop (or close) the listener too. */
    @Test
    void stopCalledFromTheSettledObserver_whileAnotherThreadStops_returns_insteadOfWaitingForItself() throws Exception {
        queue.send("waiting-behind");
        queue.send("running");
        var running = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Handler blocking = (event, delivery) -> {
            running.countDown();
            await(release);
            return Outcome.done();
        };
        var inner = new AtomicReference<ShutdownReport>();
        var observer = stoppingOnceStopping(inner);
        var l = start(blocking, config().concurrency(1).shutdownDeadline(Duration.ofMillis(200)).build(), observer);
        assertThat(running.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        var report = CompletableFuture.supplyAsync(l::stop).get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        release.countDown();

        assertThat(inner.get()).as("the observer's stop() returned").isNotNull();
        assertThat(report.releasedRunning() + report.releasedWaiting()).isPositive();
    }

    /** A held delivery is given back on a thread of the stop's own: an observer there may stop the listener too. */
    @Test
    void stopCalledFromTheSettledObserver_forAHeldDelivery_returnsPromptly() throws Exception {
        queue.send("held");
        Handler retrying = (event, delivery) -> Outcome.retryAfter(Duration.ofSeconds(10), "later");
        var inner = new AtomicReference<ShutdownReport>();
        var observer = stoppingOnceStopping(inner);
        // a deadline longer than the wait below: a stop that waits it out fails the test
        var l = start(retrying, config().holdLimit(Duration.ofSeconds(30)).shutdownDeadline(Duration.ofSeconds(20)).build(),
                observer);
        assertThat(Await.until(LIMIT, () -> l.stats().held() >= 1)).as(l.stats().line()).isTrue();

        var report = CompletableFuture.supplyAsync(l::stop).get(LIMIT.toSeconds(), TimeUnit.SECONDS);

        assertThat(inner.get()).as("the observer's stop() returned").isNotNull();
        assertThat(report.releasedWaiting()).as("the held delivery went back, counted as such").isEqualTo(1);
        assertThat(queue.size()).isEqualTo(1);
    }

    /** An observer that, once the listener is stopping, stops it too (one that closes what it watched), keeping the report. */
    private ListenerObserver stoppingOnceStopping(AtomicReference<ShutdownReport> inner) {
        return new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                if (!self.get().isRunning() && inner.get() == null) {
                    inner.set(self.get().stop());
                }
            }
        };
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test // a review: close() on an interrupted thread closed the source interrupted (its waits for open polls cut short),
          // and a second close() returned while the first was still closing the source
    void close_closesTheSourceUninterrupted_andASecondCloseWaitsForTheFirst() throws Exception {
        var interruptedInClose = new AtomicBoolean();
        var closing = new CountDownLatch(1);
        var closed = new AtomicBoolean();
        var source = slowClosing(() -> {
            interruptedInClose.set(Thread.currentThread().isInterrupted());
            closing.countDown();
        }, closed);
        var l = Listener.builder(source, queue, new LineDecoder(), (e, d) -> Outcome.done()).config(config().build())
                .closeSourceOnClose(true).build().start();
        listeners.add(l);
        var first = CompletableFuture.runAsync(() -> {
            Thread.currentThread().interrupt(); // as a Ctrl-C handler that was interrupted, then closes
            l.close();
            Thread.interrupted();
        });
        assertThat(closing.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        l.close(); // a shutdown hook beside the try-with-resources
        assertThat(closed).as("the second close returned only once the source was closed").isTrue();
        first.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(interruptedInClose).as("the source closed without the caller's interrupt").isFalse();
    }

    @Test // a review: a handler's close() published the report before the source was closed; awaitStop's caller ended
          // the JVM with the source's close (a Kafka source's last commit) half done
    void closeFromAHandler_closesTheSource_beforeAwaitStopReturns() throws Exception {
        var closed = new AtomicBoolean();
        var source = slowClosing(() -> { }, closed);
        queue.send("poison");
        var l = Listener.builder(source, queue, new LineDecoder(), (e, d) -> {
            self.get().close(); // a poison condition: the handler stops its own listener
            return Outcome.done();
        }).config(config().build()).closeSourceOnClose(true).build();
        self.set(l);
        listeners.add(l.start());
        assertThat(l.awaitStop(LIMIT)).isPresent();
        assertThat(closed).as("the source closed before the stop was told ended").isTrue();
    }

    /** The queue as a source whose close runs {@code first}, waits 500 ms (for its open polls, as SQS and HTTP sources
     *  do), then sets {@code closed}. */
    private dev.ferry.domain.transport.Source slowClosing(Runnable first, AtomicBoolean closed) {
        return new dev.ferry.domain.transport.Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
                return queue.poll(request);
            }

            @Override
            public void close() {
                first.run();
                sleep(500);
                closed.set(true);
            }
        };
    }

    /** A transport whose client is gone once closed (a Kafka consumer, an SQS client): settlements after it fail. */
    private static final class ClosingTransport implements dev.ferry.domain.transport.Source, dev.ferry.domain.transport.Acknowledger {
        private final InMemoryQueue queue;
        private volatile boolean closed;

        ClosingTransport(InMemoryQueue queue) {
            this.queue = queue;
        }

        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public List<Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
            return queue.poll(request);
        }

        @Override
        public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> settlements) {
            if (closed) {
                throw new IllegalStateException("the client is closed");
            }
            return queue.settle(settlements);
        }

        @Override
        public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
            return queue.extendLeases(deliveries, lease);
        }

        @Override
        public void close() {
            closed = true;
            queue.close();
        }
    }

    @Test
    void closeCalledFromInsideAHandler_closesTheSourceOnlyOnceTheStopSentItsSettlements() throws Exception {
        queue.send("the-last-one");
        var transport = new ClosingTransport(queue);
        Handler closing = (event, delivery) -> {
            self.get().close();
            return Outcome.done();
        };
        var l = Listener.builder(transport, transport, new LineDecoder(), closing).config(config().build())
                .closeSourceOnClose(true).build();
        self.set(l);
        listeners.add(l);
        l.start();

        assertThat(l.awaitStop(LIMIT)).isPresent();

        assertThat(Await.until(LIMIT, () -> transport.closed)).as("the source is closed, after the stop").isTrue();
        assertThat(queue.size() + queue.inFlightCount()).as("the handled message acked before the source closed").isZero();
    }

    @Test
    void aShutdownDeadlineOfCenturies_meansWaitForThem_notAShutdownThatFails() {
        var l = start(done(), config().shutdownDeadline(Duration.ofDays(200_000)).build(), ListenerObserver.NONE);

        var report = l.stop();

        assertThat(report.reason()).isEqualTo("stop requested");
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A handler that counts {@code started} down, sleeps {@code millis}, and says whether it was interrupted. */
    private static Handler sleeping(long millis, CountDownLatch started, AtomicBoolean interrupted) {
        return (event, delivery) -> {
            started.countDown();
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                interrupted.set(true);
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
