package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.FlakyLedger;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An effect that happened while the ledger was down, on a delivery that could not wait in hand for
 * the ledger to come back (a source whose client waits for the answer, a hold limit of zero): the
 * delivery goes back, and the completion it owes is recorded once the ledger answers again — so the
 * copy that comes back finds the event done instead of running it a second time.
 */
class OwedCompletionTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final InMemoryQueue queue = InMemoryQueue.standard("owed");
    private final List<Listener> listeners = new ArrayList<>();

    @AfterEach
    void stopAll() {
        listeners.forEach(Listener::stop);
    }

    @Test
    void aCompletionThatFailed_withNoWaitInHand_isAcked_andRecordedLater_andTheEffectHappenedOnce() {
        // put back, the delivery came again and its copy waited out the claim (an HTTP client, told to retry, sent it anew
        // and it ran twice): every effect happened, so it is acked, its completion owed
        queue.send("pay-invoice-7");
        var inner = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var ledger = new FlakyLedger(inner);
        var effects = new CopyOnWriteArrayList<String>();
        Handler handler = (event, delivery) -> {
            effects.add(event.key());
            if (effects.size() == 1) {
                downFor(ledger, 500); // this effect's completion fails, and the ledger is back half a second later
            }
            return Outcome.done();
        };
        var config = ListenerTest.fast().holdLimit(Duration.ZERO).lease(Duration.ofSeconds(2)).build();
        var l = Listener.builder(queue, queue, new LineDecoder(), handler).config(config).ledger(ledger).build();
        listeners.add(l);
        l.start();

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                .as("drained; stats " + l.stats()).isTrue();
        assertThat(effects).as("the effect happened once").hasSize(1);
        assertThat(l.stats().redelivered() + l.stats().released()).as("not put back: " + l.stats()).isZero();
        assertThat(Await.until(LIMIT, () -> inner.peek(ledger.keys.getFirst()).orElse(null)
                instanceof dev.ferry.domain.idempotency.Claim.Completed)).as("its completion recorded once the ledger is back")
                .isTrue();
    }

    @Test // a last look: the owed completion's next try, started from the timer, found no thread to be had (thrown into
          // the timer's task, dropped unlogged): never asked again, its claim ran out, and a later copy ran the effect again
    void anOwedCompletionWhoseNextTryFindsNoThread_isAskedAgain_whileTheListenerRuns() throws Exception {
        queue.send("pay-invoice-10");
        var inner = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var ledger = new FlakyLedger(inner);
        Handler handler = (event, delivery) -> {
            downFor(ledger, 500); // this effect's completion fails, and the ledger is back half a second later
            return Outcome.done();
        };
        var config = ListenerTest.fast().holdLimit(Duration.ZERO).lease(Duration.ofSeconds(30)).build();
        var l = Listener.builder(queue, queue, new LineDecoder(), handler).config(config).ledger(ledger).build();
        listeners.add(l);
        var processor = Listener.class.getDeclaredField("processor");
        processor.setAccessible(true);
        var stepsField = Processor.class.getDeclaredField("ledger");
        stepsField.setAccessible(true);
        var owedField = LedgerSteps.class.getDeclaredField("owed");
        owedField.setAccessible(true);
        var owed = (OwedCompletions) owedField.get(stepsField.get(processor.get(l)));
        var made = new AtomicInteger();
        var virtual = owed.threads;
        owed.threads = task -> {
            if (made.incrementAndGet() == 1) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory (injected)");
            }
            return virtual.newThread(task);
        };
        l.start();

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                .as("acknowledged, its completion owed; stats " + l.stats()).isTrue();
        assertThat(Await.until(LIMIT, () -> !ledger.keys.isEmpty() && inner.peek(ledger.keys.getFirst()).orElse(null)
                instanceof dev.ferry.domain.idempotency.Claim.Completed))
                .as("asked again after the thread that could not be had, before any stop; threads asked " + made).isTrue();
        assertThat(made.get()).as("the first try found no thread").isGreaterThanOrEqualTo(2);
    }

    @Test
    void aDeferredCompletionThatFailed_asTheLeaseRanOut_isOwed_andTheCopyIsNotHandledAgain() {
        // a ledger whose completion waits on I/O (MVStore, DynamoDB) has it recorded off the worker; failing as the lease
        // ran out, the delivery was dropped as stale with the completion neither recorded nor owed
        // leases extended (completions are deferred only then), but the transport refuses: the lease runs out in hand
        dev.ferry.domain.transport.Acknowledger refusing = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> s) {
                return queue.settle(s);
            }

            @Override
            public List<dev.ferry.domain.model.Delivery> extendLeases(List<dev.ferry.domain.model.Delivery> deliveries,
                                                                     Duration lease) {
                return deliveries;
            }
        };
        effectRunsOnce_whenItsCompletionFailsAsTheLeaseRunsOut(refusing, true, ListenerTest.fast());
    }

    @Test
    void aCompletionThatFailed_onADeliveryWhoseLeaseRanOutWhileHeld_isOwed_andTheCopyIsNotHandledAgain() {
        // held for the ledger to come back, the delivery's lease ran out: on resuming it was dropped as stale with its
        // completion neither recorded nor owed, and the transport's copy claimed the event again and ran it twice
        effectRunsOnce_whenItsCompletionFailsAsTheLeaseRunsOut(queue, false, ListenerTest.fast().extendLeases(false));
    }

    /**
     * One message whose handler runs past its 2 s lease (the clock moved on) and whose completion then
     * fails for a moment: dropped as stale, its copy must find the effect done. {@code deferred}: a
     * ledger whose completions wait on I/O (recorded off the worker).
     */
    private void effectRunsOnce_whenItsCompletionFailsAsTheLeaseRunsOut(dev.ferry.domain.transport.Acknowledger acks,
                                                                     boolean deferred, ListenerConfig.Builder config) {
        queue.send("refund-order-3");
        var clock = dev.ferry.domain.testing.MutableClock.startingNow();
        var flaky = new FlakyLedger(dev.ferry.domain.idempotency.InMemoryLedger.of(clock, 10_000));
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(flaky) {
            @Override
            public boolean completionWaits() {
                return deferred;
            }
        };
        var effects = new CopyOnWriteArrayList<String>();
        Handler handler = (event, delivery) -> {
            effects.add(event.key());
            if (effects.size() == 1) {
                clock.advance(Duration.ofSeconds(3)); // past the 2 s lease
                downFor(flaky, 300); // and the completion fails, until the ledger is back a moment later
            }
            return Outcome.done();
        };
        var l = Listener.builder(queue, acks, new LineDecoder(), handler).config(config.lease(Duration.ofSeconds(2)).build())
                .ledger(ledger).clock(clock).build();
        listeners.add(l);
        l.start();

        assertThat(Await.until(LIMIT, () -> l.stats().staleDropped() >= 1 && l.stats().duplicatesDropped() >= 1
                        || effects.size() > 1))
                .as("dropped stale, then its copy found done; stats " + l.stats()).isTrue();
        assertThat(effects).as("the effect happened once").hasSize(1);
    }

    @Test
    void aCompletionStillOwedWhenTheListenerStops_isTriedOnceMore_beforeTheStopEnds() {
        queue.send("ship-order-9");
        var inner = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var ledger = new FlakyLedger(inner);
        Handler handler = (event, delivery) -> {
            ledger.fault(FlakyLedger.Fault.STORE_DOWN); // this effect's completion fails
            return Outcome.done();
        };
        // a long lease: the owed completion is asked again after the store's backoff, so the stop may be first to record it
        var config = ListenerTest.fast().holdLimit(Duration.ZERO).lease(Duration.ofSeconds(30)).build();
        var l = Listener.builder(queue, queue, new LineDecoder(), handler).config(config).ledger(ledger).build();
        listeners.add(l);
        l.start();
        assertThat(Await.until(LIMIT, () -> l.stats().acked() >= 1))
                .as("acked without its completion; stats " + l.stats()).isTrue();

        ledger.fault(FlakyLedger.Fault.NONE); // back before the first retry is due
        l.stop();

        var key = ledger.keys.getFirst();
        assertThat(inner.peek(key)).as("recorded by the stop").containsInstanceOf(dev.ferry.domain.idempotency.Claim.Completed.class);
    }

    @Test
    void aHeldCompletionThatFailsOnceMoreAtTheStop_isOwed_andRecordedBeforeTheStopEnds() {
        // a ledger down for a while: the delivery held for its completion is given back by the stop, which tries the
        // completion once more; failing, the delivery was acked with the completion neither recorded nor owed — the
        // claim ran out with its lease and a later copy ran the effect again
        queue.send("refund-order-3");
        var inner = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var stopping = new java.util.concurrent.atomic.AtomicBoolean();
        var failuresWhileStopping = new AtomicInteger();
        var completing = new CopyOnWriteArrayList<String>();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                completing.add(key);
                if (!stopping.get() || failuresWhileStopping.getAndIncrement() == 0) {
                    throw new dev.ferry.domain.model.FerryException("ledger unreachable (injected)", true);
                }
                return super.complete(key, token, ttl);
            }
        };
        var config = ListenerTest.fast().lease(Duration.ofSeconds(30)).build();
        var l = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.done()).config(config)
                .ledger(ledger).build();
        listeners.add(l);
        l.start();
        assertThat(Await.until(LIMIT, () -> l.stats().held() >= 1)).as("held for its completion; " + l.stats()).isTrue();

        stopping.set(true);
        l.stop();

        assertThat(queue.size()).as("acknowledged: its effect happened").isZero();
        assertThat(inner.peek(completing.getFirst())).as("recorded after the stop's first try failed")
                .containsInstanceOf(dev.ferry.domain.idempotency.Claim.Completed.class);
    }

    @Test
    void aHeldDeliveryResumed_andWaitingForAWorkerAtTheStop_hasItsCompletionRecorded_notPutBackWithout() {
        // held for its completion, resumed into its lane while the one worker was busy: the stop released it straight
        // from the lane, the completion neither recorded nor owed — the copy put back ran the effect a second time
        var inner = dev.ferry.domain.idempotency.InMemoryLedger.create();
        var ledgerUp = new java.util.concurrent.atomic.AtomicBoolean();
        var completing = new CopyOnWriteArrayList<String>();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (!ledgerUp.get()) {
                    completing.add(key);
                    throw new dev.ferry.domain.model.FerryException("ledger unreachable (injected)", true);
                }
                return super.complete(key, token, ttl);
            }
        };
        var slowStarted = new java.util.concurrent.CountDownLatch(1);
        Handler handler = (event, delivery) -> {
            if (event.payloadAsString().equals("slow")) {
                slowStarted.countDown();
                sleep(60_000); // the one worker busy until the stop interrupts it
            }
            return Outcome.done();
        };
        var config = ListenerTest.fast().concurrency(1).lease(Duration.ofSeconds(30)).shutdownDeadline(Duration.ofMillis(300))
                .build();
        var l = Listener.builder(queue, queue, new LineDecoder(), handler).config(config).ledger(ledger).build();
        listeners.add(l);
        queue.send("pay-1");
        l.start();
        assertThat(Await.until(LIMIT, () -> l.stats().held() >= 1)).as("held for its completion; " + l.stats()).isTrue();
        queue.send("slow");
        assertThat(Await.until(LIMIT, () -> slowStarted.getCount() == 0)).as("the worker taken").isTrue();
        // pay-1's next try is due within its backoff (200 ms doubling per failure, at most 10 s): resumed, it waits in its
        // lane for the worker
        sleep(Math.min(10_000, 200L << completing.size()) + 500);
        ledgerUp.set(true);
        l.stop();

        assertThat(queue.messages()).extracting(InMemoryQueue.Stored::body).as("only the unfinished one put back")
                .containsExactly("slow");
        assertThat(inner.peek(completing.getFirst())).as("pay-1's completion recorded by the stop")
                .containsInstanceOf(dev.ferry.domain.idempotency.Claim.Completed.class);
    }

    @Test
    void aLedgerThatHangs_doesNotHoldTheStopPastItsDeadline_andTheHeldDeliveryIsStillAcknowledged() throws Exception {
        // at the stop, a delivery held for its completion had it recorded on the stopping thread, and every owed
        // completion after it, one by one: a ledger that stopped answering held stop() for ever (an orchestrator then
        // kills the process, and what was owed is lost)
        queue.send("charge-card-4");
        var hang = new java.util.concurrent.CountDownLatch(1);
        var completes = new AtomicInteger();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(dev.ferry.domain.idempotency.InMemoryLedger.create()) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (completes.incrementAndGet() == 1) {
                    throw new dev.ferry.domain.model.FerryException("ledger unreachable (injected)", true);
                }
                try {
                    hang.await(); // a client without a timeout
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.complete(key, token, ttl);
            }
        };
        var config = ListenerTest.fast().shutdownDeadline(Duration.ofMillis(200)).lease(Duration.ofSeconds(30)).build();
        var l = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.done()).config(config)
                .ledger(ledger).build();
        listeners.add(l);
        l.start();
        try {
            assertThat(Await.until(LIMIT, () -> l.stats().held() >= 1)).as("held for its completion; " + l.stats()).isTrue();
            var stopping = Thread.ofVirtual().start(l::stop);
            assertThat(stopping.join(Duration.ofSeconds(15))).as("the stop returned").isTrue();
            assertThat(queue.size()).as("acknowledged, not put back: its effect happened").isZero();
            assertThat(queue.inFlightCount()).isZero();
        } finally {
            hang.countDown();
        }
    }

    @Test
    void aDeferredCompletionAskedAgain_withNoThreadToBeHad_isAcknowledged_andItsCompletionOwed() throws Exception {
        // the ledger failed the completion, and when it was asked again the completer could not start a thread (an
        // OutOfMemoryError, "unable to create native thread"): the error ended, unlogged, in the timer's task, and the
        // delivery stayed in hand, neither held nor recorded: its lease extended, nothing took it up till the stop
        queue.send("pay-invoice-8");
        var ledger = new FailingFirstCompletion();
        var l = deferring(ledger);
        var executes = new AtomicInteger();
        completerFailingItsSecondTask(l, executes); // the completion asked again after the ledger's failure
        l.start();

        assertThat(Await.until(LIMIT, () -> executes.get() >= 2)).as("asked again; stats " + l.stats()).isTrue();
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                .as("acknowledged, not left in hand; stats " + l.stats()).isTrue();
        assertThat(l.stats().acked()).as(l.stats().line()).isEqualTo(1);
        assertThat(Await.until(LIMIT, ledger::firstCompleted)).as("its completion owed, then recorded").isTrue();
    }

    @Test
    void aCompletionOwedAsNoThreadWasToBeHad_thatFailsToBeOwedToo_isAskedAgain_andAcknowledged() throws Exception {
        // as above, and owing the completion failed too (no memory: owing it allocates): thrown on, the error left the
        // delivery taken, neither held nor asked again — in hand, its lease extended, its group waiting, till the stop
        queue.send("pay-invoice-9");
        var ledger = new FailingFirstCompletion();
        var l = deferring(ledger);
        var executes = new AtomicInteger();
        // the completion asked again after the ledger's failure finds no thread to be had ...
        var steps = completerFailingItsSecondTask(l, executes);
        // ... and owing it fails once: the first completion owed, as it is added to those owed
        var owedField = LedgerSteps.class.getDeclaredField("owed");
        owedField.setAccessible(true);
        var owedSet = OwedCompletions.class.getDeclaredField("owed");
        owedSet.setAccessible(true);
        var owes = new AtomicInteger();
        var owed = java.util.concurrent.ConcurrentHashMap.<InFlight.HeldClaim>newKeySet();
        owedSet.set(owedField.get(steps), new java.util.AbstractSet<InFlight.HeldClaim>() {
            @Override
            public boolean add(InFlight.HeldClaim claim) {
                if (owes.incrementAndGet() == 1) {
                    throw new OutOfMemoryError("Java heap space (injected)");
                }
                return owed.add(claim);
            }

            @Override
            public boolean remove(Object claim) {
                return owed.remove(claim);
            }

            @Override
            public boolean contains(Object claim) {
                return owed.contains(claim);
            }

            @Override
            public java.util.Iterator<InFlight.HeldClaim> iterator() {
                return owed.iterator();
            }

            @Override
            public int size() {
                return owed.size();
            }
        });
        l.start();

        assertThat(Await.until(LIMIT, () -> owes.get() >= 1)).as("owing it failed; stats " + l.stats()).isTrue();
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0
                && l.stats().inFlight() == 0)).as("asked again and acknowledged, not left in hand till the stop; stats "
                + l.stats()).isTrue();
        assertThat(executes.get()).as("asked again after the failures").isGreaterThanOrEqualTo(3);
        assertThat(l.stats().acked()).as(l.stats().line()).isEqualTo(1);
        assertThat(Await.until(LIMIT, ledger::firstCompleted)).as("its completion recorded").isTrue();
    }

    /** A ledger whose completions wait (recorded on the completer), the first of which fails for a moment. */
    private static final class FailingFirstCompletion extends dev.ferry.domain.testing.ForwardingLedger {
        private final dev.ferry.domain.idempotency.InMemoryLedger inner;
        private final AtomicInteger completes = new AtomicInteger();
        private final CopyOnWriteArrayList<String> completing = new CopyOnWriteArrayList<>();

        FailingFirstCompletion() {
            this(dev.ferry.domain.idempotency.InMemoryLedger.create());
        }

        private FailingFirstCompletion(dev.ferry.domain.idempotency.InMemoryLedger inner) {
            super(inner);
            this.inner = inner;
        }

        @Override
        public boolean completionWaits() {
            return true; // recorded on the completer, off the worker
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            completing.add(key);
            if (completes.incrementAndGet() == 1) {
                throw new dev.ferry.domain.model.FerryException("ledger unreachable (injected)", true);
            }
            return super.complete(key, token, ttl);
        }

        /** Whether the first completion asked for is recorded by now. */
        boolean firstCompleted() {
            return !completing.isEmpty() && inner.peek(completing.getFirst()).orElse(null)
                    instanceof dev.ferry.domain.idempotency.Claim.Completed;
        }
    }

    /** A listener, not started, of a no-op handler over {@code ledger}, with a lease no wait here outlasts. */
    private Listener deferring(dev.ferry.domain.idempotency.IdempotencyLedger ledger) {
        var config = ListenerTest.fast().lease(Duration.ofSeconds(30)).build();
        var l = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.done()).config(config)
                .ledger(ledger).build();
        listeners.add(l);
        return l;
    }

    /**
     * Makes {@code l}'s completer, before it starts, throw as a thread cannot be had on its second task, each counted
     * in {@code executes}; its ledger steps, whose completer that is.
     */
    private static LedgerSteps completerFailingItsSecondTask(Listener l, AtomicInteger executes) throws Exception {
        var threads = Listener.class.getDeclaredField("threads");
        threads.setAccessible(true);
        var completer = ((OwnThreads) threads.get(l)).completer;
        var processor = Listener.class.getDeclaredField("processor");
        processor.setAccessible(true);
        var stepsField = Processor.class.getDeclaredField("ledger");
        stepsField.setAccessible(true);
        var steps = (LedgerSteps) stepsField.get(processor.get(l));
        steps.completer = task -> {
            if (executes.incrementAndGet() == 2) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory (injected)");
            }
            completer.execute(task);
        };
        return steps;
    }

    /** The ledger's store down from now, back {@code millis} later. */
    private static void downFor(FlakyLedger ledger, long millis) {
        ledger.fault(FlakyLedger.Fault.STORE_DOWN);
        Thread.ofVirtual().start(() -> {
            sleep(millis);
            ledger.fault(FlakyLedger.Fault.NONE);
        });
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
