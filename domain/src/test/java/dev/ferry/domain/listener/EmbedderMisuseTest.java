package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What an embedder does that the engine did not expect: settling a delivery from inside its own
 * handler, the same event twice in one message, waiting for a stop from a handler, an interrupt left
 * set between one message's events, a null disposition.
 */
class EmbedderMisuseTest {

    private static final Duration LIMIT = Duration.ofSeconds(15);

    private final InMemoryQueue queue = InMemoryQueue.builder("orders")
            .deadLetterQueue(InMemoryQueue.builder("orders-dlq").build()).build();
    private final List<Listener> listeners = new ArrayList<>();

    @AfterEach
    void stopAll() {
        listeners.forEach(Listener::stop);
    }

    private Listener start(Listener.Builder builder) {
        var listener = builder.build();
        listeners.add(listener);
        return listener.start();
    }

    /** Two events per line, keyed {@code line/a} and {@code line/b}; or both the same key. */
    private static Decoder twoEvents(boolean sameKey) {
        return delivery -> {
            String line = new String(delivery.body(), StandardCharsets.UTF_8);
            return Decoded.of(List.of(event(line + "/a"), event(line + (sameKey ? "/a" : "/b"))));
        };
    }

    private static Event event(String key) {
        return new Event(key, "t", null, null, key.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    @Test // a review: a handler that put its own delivery back (settle RELEASE), then failed, let its group's next run first
    void aGroupsHeadPutBackByItsHandler_isHandledBeforeTheGroupsNext() {
        var fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true).build();
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        fifo.send(InMemoryQueue.Message.of("B2", "G"));
        var listener = new AtomicReference<Listener>();
        var effects = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var first = new java.util.concurrent.atomic.AtomicBoolean(true);
        Handler handler = (e, d) -> {
            if (e.key().equals("A1") && first.getAndSet(false)) {
                listener.get().settle(d, Disposition.RELEASE); // the javadoc allows it
                return Outcome.retry("put back by its handler");
            }
            effects.add(e.key());
            return Outcome.done();
        };
        var l = Listener.builder(fifo, new LineDecoder(), handler).config(ListenerTest.fast().build()).build();
        listener.set(l);
        listeners.add(l.start());

        assertThat(Await.until(LIMIT, () -> effects.size() >= 2 && fifo.size() == 0 && fifo.inFlightCount() == 0))
                .as(effects + " " + l.stats().line()).isTrue();
        assertThat(effects).as("the group in its order").containsExactly("A1", "B2");
    }

    @Test // a review: acked by its handler's callback while held for a retry, a group's head ended as a failure on
          // resume, and its group's next was released (a receive spent, back after a delay) instead of run
    void aGroupsHeadAckedByItsHandlerWhileHeld_letsTheGroupsNextRunInTurn() {
        var fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true).build();
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        fifo.send(InMemoryQueue.Message.of("B2", "G"));
        var listener = new AtomicReference<Listener>();
        var handled = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var first = new java.util.concurrent.atomic.AtomicBoolean(true);
        Handler handler = (e, d) -> {
            if (e.key().equals("A1") && first.getAndSet(false)) {
                Thread.ofPlatform().start(() -> { // its work goes on elsewhere; the callback acks it, held by then
                    Await.until(Duration.ofMillis(50), () -> false);
                    listener.get().settle(d, Disposition.ACK);
                });
                return Outcome.retry("acked later by its callback");
            }
            handled.add(e.key() + " receive " + d.receiveCount());
            return Outcome.done();
        };
        var config = ListenerTest.fast().retry(RetryPolicy.of(3, Backoff.fixed(Duration.ofMillis(300)))).build();
        var l = Listener.builder(fifo, new LineDecoder(), handler).config(config).build();
        listener.set(l);
        listeners.add(l.start());

        assertThat(Await.until(LIMIT, () -> !handled.isEmpty() && fifo.size() == 0 && fifo.inFlightCount() == 0))
                .as(handled + " " + l.stats().line()).isTrue();
        assertThat(handled).as("A1 acked, not run again; B2 run in turn, on its first receive")
                .containsExactly("B2 receive 1");
        assertThat(l.stats().released()).as(l.stats().line()).isZero();
    }

    @Test // the javadoc allows it: acked twice (the second refused and counted a failure), or handled and dead-lettered
    void aHandlerThatSettlesItsOwnDelivery_andReturnsDone_isSettledOnce() {
        var listener = new AtomicReference<Listener>();
        Handler handler = (e, d) -> {
            listener.get().settle(d, Disposition.ACK);
            return Outcome.done();
        };
        var builder = Listener.builder(queue, new LineDecoder(), handler).config(ListenerTest.fast().build());
        var l = builder.build();
        listener.set(l);
        listeners.add(l.start());
        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        Await.until(Duration.ofMillis(300), () -> false); // a second settlement would be on its way by now
        assertThat(l.stats().acked()).as(l.stats().line()).isEqualTo(1);
        assertThat(l.stats().settleFailures()).isZero();
    }

    @Test // a review: the handler's settlement stood, and the completion the ledger failed to record was dropped with it
    void aDeliverySettledByItsHandler_whoseCompletionFails_hasItRecordedLater() {
        var failOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
        var inner = InMemoryLedger.create();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (failOnce.getAndSet(false)) {
                    throw new IllegalStateException("the store hiccups (injected)");
                }
                return super.complete(key, token, ttl);
            }
        };
        var listener = new AtomicReference<Listener>();
        Handler handler = (e, d) -> {
            listener.get().settle(d, Disposition.ACK);
            return Outcome.done();
        };
        var l = Listener.builder(queue, new LineDecoder(), handler).ledger(ledger).config(ListenerTest.fast().build()).build();
        listener.set(l);
        listeners.add(l.start());
        queue.send("order-1");

        var key = dev.ferry.domain.idempotency.LedgerKeys.event("orders", "order-1");
        assertThat(Await.until(LIMIT, () -> inner.peek(key).orElse(null) instanceof dev.ferry.domain.idempotency.Claim.Completed))
                .as("owed, and recorded once the ledger answers: " + inner.peek(key)).isTrue();
        assertThat(l.stats().acked()).isEqualTo(1);
    }

    @Test // a review: settled by its handler while /b waited in hand for a retry, it was handled again on resume — on a
          // deleted message. An ack while a later event is still to run settles the events taken so far, not the message:
          // /b runs on resume, and the message leaves at the handler's next ack (EarlyAckTest)
    void aKeptDeliveryAckedWhileALaterEventWaitsInHand_runsThatEventOnce_andLeavesAtTheNextAck() {
        var listener = new AtomicReference<Listener>();
        var kept = new AtomicReference<Delivery>();
        var secondCalls = new AtomicInteger();
        Handler handler = (e, d) -> {
            if (e.key().endsWith("/a")) {
                kept.set(d);
                return Outcome.done(); // kept: settled later by the async work
            }
            if (secondCalls.incrementAndGet() == 1) {
                Thread.ofVirtual().start(() -> { // the async work for /a ends while /b waits in hand to be tried again
                    Await.until(Duration.ofMillis(100), () -> false);
                    listener.get().settle(kept.get(), Disposition.ACK);
                });
                return Outcome.retryAfter(Duration.ofMillis(400), "not yet");
            }
            return Outcome.done();
        };
        var l = Listener.builder(queue, twoEvents(false), handler).ledger(InMemoryLedger.create())
                .config(ListenerTest.fast().skipDelete(true).build()).build();
        listener.set(l);
        listeners.add(l.start());
        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> secondCalls.get() == 2)).as(l.stats().line()).isTrue();
        Await.until(Duration.ofMillis(800), () -> false); // past another retry's 400 ms, were it handled again
        assertThat(secondCalls).as("handled once more, not again after").hasValue(2);
        assertThat(queue.inFlightCount()).as("kept: waiting for its handler's ack").isEqualTo(1);

        l.settle(kept.get(), Disposition.ACK);

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        assertThat(queue.inFlightCount()).isZero();
        assertThat(l.stats().deadLettered()).isZero();
    }

    @Test // settled, then it threw: handled again on an acked message, and in the end dead-lettered after the ack
    void aKeptDeliverySettledByItsHandler_whichThenThrows_isNotHandledAgain() {
        var listener = new AtomicReference<Listener>();
        var calls = new AtomicInteger();
        Handler handler = (e, d) -> {
            calls.incrementAndGet();
            listener.get().settle(d, Disposition.ACK);
            throw new IllegalStateException("after the ack");
        };
        var l = Listener.builder(queue, new LineDecoder(), handler).ledger(InMemoryLedger.create())
                .config(ListenerTest.fast().skipDelete(true).build()).build();
        listener.set(l);
        listeners.add(l.start());
        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        Await.until(Duration.ofMillis(300), () -> false); // the retries' backoff is 1 ms
        assertThat(calls).hasValue(1);
        assertThat(l.stats().deadLettered()).isZero();
        assertThat(queue.deadLetterQueue().size()).isZero();
    }

    @Test // the second claim met the first, kept for the handler: asked again every second, for ever
    void aKeptDeliveryWithTheSameEventTwice_isHandedOver_theSecondADuplicate() {
        var kept = new AtomicReference<Delivery>();
        var handled = new AtomicInteger();
        var l = start(Listener.builder(queue, twoEvents(true), (e, d) -> {
            handled.incrementAndGet();
            kept.set(d);
            return Outcome.done();
        }).ledger(InMemoryLedger.create()).config(ListenerTest.fast().skipDelete(true).build()));
        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).as(l.stats().line()).isTrue();
        assertThat(handled).hasValue(1);
        assertThat(l.stats().duplicatesDropped()).isEqualTo(1);
        l.settle(kept.get(), Disposition.ACK);
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
    }

    @Test // a review: on a handler's thread it returned at once while running, and "wait unless stopping" spun
    void aHandlerWaitingForAStop_whileNoneIsUnderWay_waitsUntilOneBegins() throws Exception {
        var stopAsked = new java.util.concurrent.atomic.AtomicBoolean();
        var listener = new AtomicReference<Listener>();
        var sawStop = new AtomicReference<Boolean>();
        Handler handler = (e, d) -> {
            try {
                var waited = listener.get().awaitStop(Duration.ofSeconds(20));
                sawStop.set(waited.isEmpty() && stopAsked.get());
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        var l = Listener.builder(queue, new LineDecoder(), handler)
                .config(ListenerTest.fast().shutdownDeadline(Duration.ofSeconds(30)).build()).build();
        listener.set(l);
        listeners.add(l.start());
        queue.send("order-1");
        Await.until(Duration.ofMillis(500), () -> false); // the handler is waiting
        assertThat(sawStop.get()).as("still waiting: no stop is under way").isNull();
        stopAsked.set(true);
        l.stop();
        assertThat(sawStop.get()).as("it returned once the stop began, not before").isTrue();
    }

    @Test // the stop waits for the handler, the handler for the stop: both held for the shutdown's deadline
    void aHandlerThatWaitsForTheStopItAskedFor_doesNotHoldIt() throws Exception {
        var listener = new AtomicReference<Listener>();
        var waited = new AtomicReference<Optional<ShutdownReport>>();
        Handler handler = (e, d) -> {
            listener.get().stop();
            try {
                waited.set(listener.get().awaitStop(Duration.ofSeconds(30)));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        var l = Listener.builder(queue, new LineDecoder(), handler)
                .config(ListenerTest.fast().shutdownDeadline(Duration.ofSeconds(10)).build()).build();
        listener.set(l);
        listeners.add(l.start());
        queue.send("order-1");

        long start = System.nanoTime();
        assertThat(Await.until(LIMIT, () -> waited.get() != null)).isTrue();
        assertThat(waited.get()).as("empty at once: the stop waits for this very thread").isEmpty();
        assertThat(l.awaitStop(Duration.ofSeconds(5))).isPresent();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("well within the 10 s deadline")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(queue.size()).as("the handled message acknowledged, not released").isZero();
    }

    @Test // the first event's handler left its thread interrupted: the second's sink answered Retry, and it was dead-lettered
    void anInterruptLeftSetByOneEventsHandler_doesNotReachTheNextEvent() {
        Handler handler = (e, d) -> {
            if (e.key().endsWith("/a")) {
                Thread.currentThread().interrupt();
                return Outcome.done();
            }
            return Thread.currentThread().isInterrupted() ? Outcome.retry("interrupted") : Outcome.done();
        };
        var l = start(Listener.builder(queue, twoEvents(false), handler)
                .config(ListenerTest.fast().retry(RetryPolicy.of(1, Backoff.fixed(Duration.ofMillis(1)))).build()));
        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> l.stats().acked() + l.stats().deadLettered() == 1)).as(l.stats().line()).isTrue();
        assertThat(l.stats().deadLettered()).isZero();
    }

    @Test // it took the delivery back and released its claims, then threw: the delivery kept by no one
    void settlingWithNoDisposition_isRefused_andChangesNothing() {
        var kept = new AtomicReference<Delivery>();
        var ledger = InMemoryLedger.create();
        var l = start(Listener.builder(queue, new LineDecoder(), (e, d) -> {
            kept.set(d);
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).lease(Duration.ofSeconds(30)).build()));
        queue.send("order-1");
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();

        assertThatThrownBy(() -> l.settle(kept.get(), null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("disposition");
        l.settle(kept.get(), Disposition.ACK); // still kept: settled now, its claim completed
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(ledger.peek(dev.ferry.domain.idempotency.LedgerKeys.event("orders", "order-1")))
                .hasValueSatisfying(c -> assertThat(c).isInstanceOf(dev.ferry.domain.idempotency.Claim.Completed.class));
    }

    /** A listener that keeps (skip-delete) the message "order-1" it is sent, handed over; its delivery in {@code kept}. */
    private Listener keptOrder(AtomicReference<Delivery> kept) {
        var l = start(Listener.builder(queue, new LineDecoder(), (e, d) -> {
            kept.set(d);
            return Outcome.done();
        }).config(ListenerTest.fast().skipDelete(true).build()));
        queue.send("order-1");
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();
        return l;
    }

    @Test // a callback that fired twice: the second settle went to the transport (on SQS, a handled message's DLQ copy)
    void aKeptDeliverySettledTwiceByItsHandler_isSettledOnce() {
        var kept = new AtomicReference<Delivery>();
        var l = keptOrder(kept);

        l.settle(kept.get(), Disposition.ACK);
        l.settle(kept.get(), Disposition.deadLetter("the callback's failure path"));
        l.settle(kept.get(), Disposition.ACK);

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().acked() >= 1)).as(l.stats().line()).isTrue();
        Await.until(Duration.ofMillis(300), () -> false); // a second settlement would be on its way by now
        assertThat(l.stats().acked()).as(l.stats().line()).isEqualTo(1);
        assertThat(l.stats().deadLettered()).isZero();
        assertThat(l.stats().settleFailures()).as("nothing more sent for it").isZero();
        assertThat(queue.deadLetterQueue().size()).isZero();
    }

    @Test // a handler that returned done and settled too, later: acked by the listener, then dead-lettered by the callback
    void aDeliveryTheListenerAcked_settledLaterByItsHandler_isNotSentAgain() {
        var handled = new AtomicReference<Delivery>();
        var l = start(Listener.builder(queue, new LineDecoder(), (e, d) -> {
            handled.set(d);
            return Outcome.done();
        }).config(ListenerTest.fast().build()));
        queue.send("order-1");
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().acked() == 1)).as(l.stats().line()).isTrue();
        assertThat(Await.until(LIMIT, () -> l.stats().inFlight() == 0)).isTrue();

        l.settle(handled.get(), Disposition.deadLetter("a late callback"));

        Await.until(Duration.ofMillis(300), () -> false);
        assertThat(l.stats().deadLettered()).as(l.stats().line()).isZero();
        assertThat(l.stats().settleFailures()).isZero();
        assertThat(queue.deadLetterQueue().size()).isZero();
    }

    @Test // a review of the fix: a callback's settle in the instant the listener queued its own ack (marked settled, not yet
          // queued nor freed) was found nowhere: both went out, a handled message copied to the DLQ
    void aHandlersSettleWhileTheListenerQueuesItsOwnAck_isNotSentToo() throws Exception {
        var armed = new java.util.concurrent.atomic.AtomicBoolean();
        var inNote = new java.util.concurrent.CountDownLatch(1);
        var letGo = new java.util.concurrent.CountDownLatch(1);
        var clock = new dev.ferry.domain.testing.FaultyClock(() -> { // holds the listener inside its own settle, once
            if (StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().equals(Settler.class.getName())
                    && f.getMethodName().equals("note"))) && armed.compareAndSet(true, false)) {
                inNote.countDown();
                try {
                    letGo.await(15, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        });
        var handled = new AtomicReference<Delivery>();
        var l = start(Listener.builder(queue, new LineDecoder(), (e, d) -> {
            handled.set(d);
            armed.set(true);
            return Outcome.done();
        }).config(ListenerTest.fast().build()).clock(clock));
        queue.send("order-1");
        assertThat(inNote.await(15, java.util.concurrent.TimeUnit.SECONDS)).as("the listener settles its ack").isTrue();

        try {
            l.settle(handled.get(), Disposition.deadLetter("a callback at the same instant"));
        } finally {
            letGo.countDown();
        }

        assertThat(Await.until(LIMIT, () -> l.stats().acked() == 1 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        Await.until(Duration.ofMillis(300), () -> false);
        assertThat(l.stats().deadLettered()).as(l.stats().line()).isZero();
        assertThat(queue.deadLetterQueue().size()).isZero();
    }

    @Test // a review of the fix: a Kafka record read again, an HTTP event sent again under its key, has the id and receive
          // count of one removed before: its handler's own settle inside handle() was refused, and nothing was ever sent
    void aNewReceiveWithTheIdAndCountOfOneRemoved_isSettledByItsHandler() {
        var same = new SameIdsSource(queue);
        var listener = new AtomicReference<Listener>();
        var l = start(Listener.builder(same, same, new LineDecoder(), (e, d) -> {
            listener.get().settle(d, Disposition.ACK);
            return Outcome.done();
        }).config(ListenerTest.fast().build()));
        listener.set(l);
        queue.send("order-1");
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        queue.send("order-1"); // read again: the same id, a first receive, another receipt

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().inFlight() == 0 && l.stats().acked() == 2))
                .as(l.stats().line()).isTrue();
    }

    @Test // a review of the fix: a callback fired twice at once; the second found the delivery in no hand while the first
          // completed its claims, and went out beside it (on SQS, the handled message's copy in the DLQ)
    void aKeptDeliverySettledTwiceAtOnce_isSettledOnce() throws Exception {
        var completing = new java.util.concurrent.CountDownLatch(1);
        var goOn = new java.util.concurrent.CountDownLatch(1);
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                completing.countDown();
                try {
                    goOn.await(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.complete(key, token, ttl);
            }
        };
        var kept = new AtomicReference<Delivery>();
        var l = start(Listener.builder(queue, new LineDecoder(), (e, d) -> {
            kept.set(d);
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).build()));
        queue.send("order-1");
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();

        var first = Thread.ofVirtual().start(() -> l.settle(kept.get(), Disposition.ACK));
        assertThat(completing.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        l.settle(kept.get(), Disposition.deadLetter("the callback's failure path, at the same moment"));
        goOn.countDown();
        first.join(10_000);

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().acked() == 1)).as(l.stats().line()).isTrue();
        Await.until(Duration.ofMillis(300), () -> false);
        assertThat(l.stats().deadLettered()).as(l.stats().line()).isZero();
        assertThat(queue.deadLetterQueue().size()).isZero();
    }

    /** The queue's messages under their body as id, each a first receive: the same body twice is one id read again. */
    private static final class SameIdsSource implements dev.ferry.domain.transport.Source,
            dev.ferry.domain.transport.Acknowledger {
        private final InMemoryQueue queue;

        SameIdsSource(InMemoryQueue queue) {
            this.queue = queue;
        }

        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public List<Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
            return queue.poll(request).stream().map(d -> new Delivery(new String(d.body(), StandardCharsets.UTF_8), d.body(),
                    d.attributes(), 1, d.sentAt(), d.groupKey(), d.deduplicationId(), d.source(), d)).toList();
        }

        @Override
        public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> all) {
            return queue.settle(all.stream().map(s -> new dev.ferry.domain.transport.Settlement(
                    (Delivery) s.delivery().receipt(), s.disposition())).toList());
        }

        @Override
        public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
            return queue.extendLeases(deliveries.stream().map(d -> (Delivery) d.receipt()).toList(), lease);
        }

        @Override
        public void close() {
        }
    }

    @Test // what the listener put back (not taken away) its handler may still settle: a stop's give-back, say
    void aDeliveryPutBack_isStillSettledByItsHandler() {
        var kept = new AtomicReference<Delivery>();
        var l = keptOrder(kept);
        l.settle(kept.get(), Disposition.RELEASE); // put back, then (a callback fired twice) acked: the ack goes
        l.settle(kept.get(), Disposition.ACK);

        assertThat(Await.until(LIMIT, () -> l.stats().acked() == 1)).as(l.stats().line()).isTrue();
    }

    @Test
    void startingAStoppedListener_saysSo() {
        var l = start(Listener.builder(queue, new LineDecoder(), (e, d) -> Outcome.done()).config(ListenerTest.fast().build()));
        l.stop();
        assertThatThrownBy(l::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("was stopped");
    }
}
