package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A ledger whose completions wait on I/O (MVStore's commit, DynamoDB's round trip) has them
 * recorded off the workers: other groups go on while a delivery is recorded (its own group's next
 * waits: a crash must not run it again after a later one), and that delivery is acknowledged only
 * once it is — never put back, since its effect happened.
 */
class DeferredCompletionTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final InMemoryQueue dlq = InMemoryQueue.builder("orders-dlq.fifo").build();
    private final InMemoryQueue fifo = InMemoryQueue.builder("orders.fifo").contentBasedDeduplication(true)
            .deadLetterQueue(dlq).build();
    private final List<String> effects = new CopyOnWriteArrayList<>();
    private final List<Listener> listeners = new ArrayList<>();

    @AfterEach
    void stopAll() {
        listeners.forEach(Listener::stop);
    }

    private final Handler recording = (event, delivery) -> {
        effects.add(event.key());
        return Outcome.done();
    };

    /**
     * Handles "o1" on {@code ledger} with a handler that ignores the stop's interrupts and answers Done just after the
     * stop's deadline gave its delivery back (the stop's settling going on meanwhile), and stops the listener.
     */
    private void stopAsTheHandlerAnswersAfterTheDeadline(IdempotencyLedger ledger) {
        var finish = new CountDownLatch(1);
        Handler stubborn = (event, delivery) -> {
            effects.add(event.key());
            while (true) {
                try {
                    if (finish.await(LIMIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        return Outcome.done(); // its effect happened after all
                    }
                } catch (InterruptedException ignoredAsHandlersDo) {
                    // a handler that does not stop when told
                }
            }
        };
        var observer = new ListenerObserver() {
            @Override
            public void settled(dev.ferry.domain.model.Delivery delivery, dev.ferry.domain.transport.Disposition disposition) {
                if (disposition instanceof dev.ferry.domain.transport.Disposition.Release) {
                    finish.countDown(); // the handler answers just after the stop gave its delivery back
                    Await.until(Duration.ofMillis(300), () -> false); // the stop's settling goes on meanwhile
                }
            }
        };
        fifo.send(InMemoryQueue.Message.of("o1", "customer-7"));
        var listener = Listener.builder(fifo, fifo, new LineDecoder(), stubborn).ledger(ledger).observer(observer)
                .config(ListenerTest.fast().shutdownDeadline(Duration.ofMillis(200)).build()).seed(7).build().start();
        listeners.add(listener);
        assertThat(Await.until(LIMIT, () -> effects.size() == 1)).isTrue();

        listener.stop();
    }

    private Listener start(IdempotencyLedger ledger, ListenerConfig config) {
        var listener = Listener.builder(fifo, fifo, new LineDecoder(), recording).ledger(ledger).config(config).seed(7)
                .build();
        listeners.add(listener);
        return listener.start();
    }

    @Test
    void aCompletionThatWaits_doesNotHoldOtherGroups_andItsDeliveryIsAcknowledgedOnlyOnceRecorded() {
        var ledger = new SlowLedger();
        ledger.gate("o1");
        fifo.send(InMemoryQueue.Message.of("o1", "customer-7"));
        fifo.send(InMemoryQueue.Message.of("p1", "customer-8"));
        start(ledger, ListenerTest.fast().batchSize(10).build());

        assertThat(Await.until(LIMIT, () -> effects.size() == 2))
                .as("another group's p1 handled while o1's completion waits: " + effects).isTrue();
        assertThat(Await.until(LIMIT, () -> fifo.size() == 1)).as("p1 recorded and acknowledged").isTrue();
        assertThat(fifo.messages()).extracting(InMemoryQueue.Stored::body).containsExactly("o1");

        ledger.open("o1");

        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as("o1 acknowledged once recorded").isTrue();
        assertThat(effects).containsExactlyInAnyOrder("o1", "p1");
        assertThat(dlq.size()).isZero();
    }

    @Test // a later delivery completed and acknowledged first: killed then, o1 came back and ran after o2
    void aGroupsNextDelivery_waitsUntilTheCompletionBeforeItIsRecorded() {
        var ledger = new SlowLedger();
        ledger.gate("o1");
        fifo.send(InMemoryQueue.Message.of("o1", "customer-7"));
        fifo.send(InMemoryQueue.Message.of("o2", "customer-7"));
        fifo.send(InMemoryQueue.Message.of("p1", "customer-8"));
        start(ledger, ListenerTest.fast().batchSize(10).concurrency(1).build()); // one worker: o2's wait must not take it

        assertThat(Await.until(LIMIT, () -> effects.contains("p1"))).as("another group goes on: " + effects).isTrue();
        Await.until(Duration.ofMillis(500), () -> false); // o2 would have run by now
        assertThat(effects).as("o2 waits for o1's completion").containsExactlyInAnyOrder("o1", "p1");
        assertThat(fifo.messages()).extracting(InMemoryQueue.Stored::body).as("nothing of o1's group acknowledged before it is "
                + "recorded").containsExactly("o1", "o2");

        ledger.open("o1");

        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as("both acknowledged").isTrue();
        assertThat(effects.stream().filter(e -> e.startsWith("o"))).containsExactly("o1", "o2");
        assertThat(dlq.size()).isZero();
    }

    @Test
    void aLedgerDownWhileACompletionIsRecorded_isAskedAgain_andTheEffectIsNotRepeated() {
        var ledger = new SlowLedger();
        ledger.failCompletions(3);
        fifo.send(InMemoryQueue.Message.of("o1", "customer-7"));
        var listener = start(ledger, ListenerTest.fast().build());

        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as("acknowledged once the ledger answered").isTrue();
        assertThat(effects).containsExactly("o1");
        assertThat(ledger.failed.get()).isEqualTo(3);
        assertThat(listener.stats().ledgerFailures()).isEqualTo(3);
        assertThat(listener.stats().redelivered() + listener.stats().released()).as("never put back").isZero();
        assertThat(ledger.inner.claim(LedgerKeys.event("orders.fifo", "o1"), Duration.ofSeconds(1)))
                .as("recorded as completed").isInstanceOf(Claim.Completed.class);
    }

    @Test
    void stoppingWhileACompletionIsStillRecorded_acknowledgesTheDelivery_ratherThanRunItAgain() {
        var ledger = new SlowLedger();
        ledger.gate("o1");
        fifo.send(InMemoryQueue.Message.of("o1", "customer-7"));
        var listener = start(ledger, ListenerTest.fast().shutdownDeadline(Duration.ofMillis(200)).build());
        assertThat(Await.until(LIMIT, () -> effects.size() == 1)).isTrue();

        var report = listener.stop();

        assertThat(report.releasedRunning()).isZero();
        assertThat(fifo.size()).as("acknowledged: put back, it would run again").isZero();
        assertThat(dlq.size()).isZero();
        assertThat(effects).containsExactly("o1");
    }

    @Test // thirty-sixth round: a handler that answered Done just after the stop's deadline gave its delivery back had its
          // completion dropped (the item was settled): its copy, put back, waited out the claim and ran the effect again
    void aHandlerThatAnswersAfterTheStopsDeadline_hasItsCompletionRecorded() {
        var ledger = new SlowLedger();
        stopAsTheHandlerAnswersAfterTheDeadline(ledger);

        var key = LedgerKeys.event("orders.fifo", "o1");
        assertThat(Await.until(Duration.ofSeconds(5), () -> ledger.inner.peek(key).orElse(null) instanceof Claim.Completed))
                .as("recorded: its copy, put back, finds it done, " + ledger.inner.peek(key)).isTrue();
    }

    @Test // a review: a completion made on the worker (every one, with a ledger held in memory) that failed just after the
          // stop gave its delivery back was held for the ledger — the hold dropped by the stop, or resumed to find the
          // delivery settled: the completion was owed to no one, and the copy put back ran the effect again
    void aCompletionOnTheWorker_thatFailsAfterTheStopGaveItsDeliveryBack_isOwed() {
        var failOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (failOnce.compareAndSet(true, false)) {
                    throw new FerryException("ledger throttled (injected)", true);
                }
                return super.complete(key, token, ttl);
            }

            @Override
            public java.util.Optional<Claim> peek(String key) {
                return ledger.peek(key);
            }
        };
        stopAsTheHandlerAnswersAfterTheDeadline(ledger);

        var key = LedgerKeys.event("orders.fifo", "o1");
        assertThat(Await.until(Duration.ofSeconds(5), () -> ledger.peek(key).orElse(null) instanceof Claim.Completed))
                .as("recorded: its copy, put back, finds it done, " + ledger.peek(key)).isTrue();
        assertThat(failOnce).as("the completion failed once, as the test means").isFalse();
    }

    @Test // a review: a handler that answered Done after the stop's interrupts kept the interrupt (as well-behaved code
          // does); the AWS SDK aborts a call on an interrupted thread, unsent: its completion and the owed one after it
          // failed on that thread, the stop's last pass over them long done — the copy put back ran the effect again
    void aHandlerThatAnswersAfterTheStopsInterrupts_keepingTheInterrupt_hasItsCompletionRecorded() {
        var ledger = new SlowLedger() {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (Thread.currentThread().isInterrupted()) { // as the AWS SDK does: the request never sent
                    throw new dev.ferry.domain.model.FerryException("AbortedException: thread was interrupted (injected)",
                            true);
                }
                return super.complete(key, token, ttl);
            }
        };
        var finish = new CountDownLatch(1);
        Handler stubborn = (event, delivery) -> {
            effects.add(event.key());
            boolean interrupted = false;
            while (true) {
                try {
                    if (finish.await(LIMIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        break; // its effect happened after all
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt(); // given back, as it should be
            }
            return Outcome.done();
        };
        fifo.send(InMemoryQueue.Message.of("o1", "customer-7"));
        var listener = Listener.builder(fifo, fifo, new LineDecoder(), stubborn).ledger(ledger)
                .config(ListenerTest.fast().shutdownDeadline(Duration.ofMillis(200)).build()).seed(7).build().start();
        listeners.add(listener);
        assertThat(Await.until(LIMIT, () -> effects.size() == 1)).isTrue();

        listener.stop(); // past the deadline: released, its worker interrupted
        finish.countDown();

        var key = LedgerKeys.event("orders.fifo", "o1");
        assertThat(Await.until(Duration.ofSeconds(5), () -> ledger.inner.peek(key).orElse(null) instanceof Claim.Completed))
                .as("recorded: its copy, put back, finds it done, " + ledger.inner.peek(key)).isTrue();
    }

    @Test
    void aLedgerThatThrowsWhenAskedHowItCompletes_keepsCompletionsOnTheWorkers_andTheEffectRunsOnce() {
        var ledger = new SlowLedger() {
            @Override
            public boolean completionWaits() {
                throw new NoSuchMethodError("an old plugin's ledger (injected)");
            }
        };
        fifo.send(InMemoryQueue.Message.of("o1", "customer-7"));
        start(ledger, ListenerTest.fast().build());

        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).isTrue();
        assertThat(effects).containsExactly("o1");
        assertThat(dlq.size()).isZero();
    }

    /** An in-memory ledger whose completions wait on I/O: some held at a gate, some failing. */
    static class SlowLedger extends dev.ferry.domain.testing.ForwardingLedger {
        final InMemoryLedger inner;
        final AtomicInteger failed = new AtomicInteger();
        private final java.util.Map<String, CountDownLatch> gates = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicInteger failuresLeft = new AtomicInteger();

        SlowLedger() {
            this(InMemoryLedger.create());
        }

        private SlowLedger(InMemoryLedger inner) {
            super(inner);
            this.inner = inner;
        }

        void gate(String eventKey) {
            gates.put(eventKey, new CountDownLatch(1));
        }

        void open(String eventKey) {
            gates.get(eventKey).countDown();
        }

        void failCompletions(int times) {
            failuresLeft.set(times);
        }

        @Override
        public boolean completionWaits() {
            return true;
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                failed.incrementAndGet();
                throw new FerryException("ledger unreachable (injected)", true);
            }
            var gate = gates.get(key.substring(key.lastIndexOf(':') + 1));
            if (gate != null) {
                try {
                    if (!gate.await(LIMIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        throw new FerryException("gate never opened", true);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new FerryException("interrupted while writing", true);
                }
            }
            return inner.complete(key, token, ttl);
        }
    }
}
