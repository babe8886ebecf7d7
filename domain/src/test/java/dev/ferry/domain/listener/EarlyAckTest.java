package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * skip-delete with a message of several events: the handler acks the message once the first event's effect is made,
 * while a later event still waits in hand for a retry. That ack deleted the message, and the later event never ran.
 * An ack that comes while the listener is still among the message's events settles the events handed to the handler so
 * far: the later ones still run, and the message leaves once they are done and the handler acked after the last.
 */
class EarlyAckTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final InMemoryLedger ledger = InMemoryLedger.create();
    private final List<Delivery> kept = new CopyOnWriteArrayList<>();
    private final AtomicInteger aRuns = new AtomicInteger();
    private final AtomicInteger bCalls = new AtomicInteger();

    @Test
    void anAckWhileALaterEventWaitsForItsRetry_doesNotDeleteTheMessage_theLaterEventStillRuns() {
        var queue = InMemoryQueue.standard("early-ack");
        var listener = start(queue, Outcome.done());
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> bCalls.get() == 1)).as(listener.stats().line()).isTrue();

            listener.settle(kept.getFirst(), Disposition.ACK); // a's effect made; b waits a second for its retry

            assertThat(Await.until(LIMIT, () -> bCalls.get() == 2)).as("b ran: " + listener.stats().line()).isTrue();
            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).isTrue();
            assertThat(queue.inFlightCount()).as("b kept by its handler: the message waits for its ack").isEqualTo(1);
            assertThat(ledger.peek(key("a"))).as("a acked: done").get().isInstanceOf(Claim.Completed.class);

            listener.settle(kept.getLast(), Disposition.ACK);

            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0)).isTrue();
            assertThat(Await.until(LIMIT, () -> ledger.peek(key("b")).orElse(null) instanceof Claim.Completed)).isTrue();
            assertThat(aRuns).hasValue(1);
        } finally {
            listener.stop();
        }
    }

    @Test
    void anAckDuringTheLastEventsCall_coversIt_theMessageLeavesWithNoFurtherSettle() {
        var queue = InMemoryQueue.standard("early-ack");
        var listener = new Listener[1];
        listener[0] = start(queue, null, (delivery) -> listener[0].settle(delivery, Disposition.ACK));
        try {
            queue.send("a\nb");

            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("b's own call acked a and b: " + listener[0].stats().line()).isTrue();
            assertThat(bCalls).hasValue(2);
            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("b"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            listener[0].stop();
        }
    }

    @Test // a review: a second ack from another thread (a's late callback) before b's call returned took back the cover of
          // b's own in-call ack — the message was handed over to wait for a settle that never came: held, then b ran again
    void anAckInTheLastEventsCall_thenAnotherThreadsAckBeforeItReturns_stillCoversIt() {
        var queue = InMemoryQueue.standard("early-ack");
        var listener = new Listener[1];
        listener[0] = start(queue, null, (delivery) -> {
            listener[0].settle(delivery, Disposition.ACK); // b's effect made, in its call
            var late = Thread.ofPlatform().start(() -> listener[0].settle(delivery, Disposition.ACK)); // a's callback
            try {
                late.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            queue.send("a\nb");

            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("b's own ack covers it: " + listener[0].stats().line()).isTrue();
            assertThat(bCalls).hasValue(2);
            assertThat(ledger.peek(key("b"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            listener[0].stop();
        }
    }

    @Test // a review: the early ack's line was written with its settle still marked under way — a log that blocked held
          // that mark, and b's ack from another thread meanwhile was refused as "settled twice": the message kept for hours
    void anEarlyAcksLineBlocked_doesNotRefuseTheNextSettleOfTheMessage() throws Exception {
        var queue = InMemoryQueue.standard("early-ack");
        var inB = new java.util.concurrent.CountDownLatch(1);
        var mayEndB = new java.util.concurrent.CountDownLatch(1);
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            kept.add(delivery);
            if (event.key().equals("b")) {
                inB.countDown();
                Await.until(Duration.ofSeconds(10), () -> mayEndB.getCount() == 0);
            }
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).build()).build().start();
        var log = new BlockedLogTest.BlockingLog("the ack of", java.util.logging.Level.FINE);
        var aAcked = Thread.ofPlatform().unstarted(() -> listener.settle(kept.getFirst(), Disposition.ACK));
        try {
            queue.send("a\nb");
            assertThat(inB.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            aAcked.start(); // a's effect made, as b's call runs: its line waits for the log
            assertThat(log.blocked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            mayEndB.countDown();
            assertThat(Await.until(LIMIT, () -> listener.stats().handedOver() == 1)).as(listener.stats().line()).isTrue();

            listener.settle(kept.getLast(), Disposition.ACK); // b's effect made

            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("b's ack went out: " + listener.stats().line()).isTrue();
            assertThat(ledger.peek(key("b"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            mayEndB.countDown();
            log.close();
            aAcked.join(10_000);
            listener.stop();
        }
    }

    @Test
    void anAckWhileALaterEventWaits_thatEventRejected_theMessageIsDeadLettered_theAckedEventRecordedDone() {
        var dlq = InMemoryQueue.standard("early-ack-dlq");
        var queue = InMemoryQueue.builder("early-ack").deadLetterQueue(dlq).build();
        var listener = start(queue, Outcome.reject("b is poison"));
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> bCalls.get() == 1)).as(listener.stats().line()).isTrue();

            listener.settle(kept.getFirst(), Disposition.ACK);

            assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as("dead-lettered for b: " + listener.stats().line())
                    .isTrue();
            assertThat(Await.until(LIMIT, () -> ledger.peek(key("a")).orElse(null) instanceof Claim.Completed))
                    .as("a recorded done: redriven, the message runs b only").isTrue();
            assertThat(List.of(queue.size(), queue.inFlightCount())).containsExactly(0, 0);
        } finally {
            listener.stop();
        }
    }

    @Test
    void anAckWhileALaterEventWaits_thenTheHandlerDeadLettersTheLaterOne_theAckedEventStaysDone() {
        var dlq = InMemoryQueue.standard("early-ack-then-dlq");
        var queue = InMemoryQueue.builder("early-ack").deadLetterQueue(dlq).build();
        var listener = start(queue, Outcome.done());
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> bCalls.get() == 1)).as(listener.stats().line()).isTrue();
            listener.settle(kept.getFirst(), Disposition.ACK);
            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).as(listener.stats().line()).isTrue();

            listener.settle(kept.getLast(), Disposition.deadLetter("b's effect failed"));

            assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as(listener.stats().line()).isTrue();
            assertThat(ledger.peek(key("a"))).as("acked before: done").get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("b"))).as("released: redriven, b runs again").isEmpty();
        } finally {
            listener.stop();
        }
    }

    @Test // a review: acked from within b's call, then put back for c — the message was not remembered as put back, and
          // a second ack of it (a callback fired twice) deleted it: c never ran
    void anAckCoveringEveryKeptEvent_thenAPutBackForALaterOne_aSecondAckDoesNotDeleteTheMessage() {
        var queue = InMemoryQueue.standard("early-ack");
        var cCalls = new AtomicInteger();
        var listener = new Listener[1];
        listener[0] = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            switch (event.key()) {
                case "a" -> kept.add(delivery);
                case "b" -> listener[0].settle(delivery, Disposition.ACK); // a's and b's effects made, from b's call
                default -> {
                    if (cCalls.incrementAndGet() == 1) {
                        return new Outcome.Retry(Duration.ofMillis(500), "not yet"); // put back
                    }
                    kept.add(delivery);
                }
            }
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).holdLimit(Duration.ZERO).build()).build().start();
        try {
            queue.send("a\nb\nc");
            assertThat(Await.until(LIMIT, () -> listener[0].stats().redelivered() >= 1)).isTrue();

            listener[0].settle(kept.getFirst(), Disposition.ACK); // the same ack again

            assertThat(Await.until(LIMIT, () -> cCalls.get() == 2)).as("c ran: " + listener[0].stats().line()).isTrue();
            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("b"))).get().isInstanceOf(Claim.Completed.class);
            listener[0].settle(kept.getLast(), Disposition.ACK);
            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0)).isTrue();
        } finally {
            listener[0].stop();
        }
    }

    @Test // a review: an ack from another thread (a's callback) during b's call spoke for b too — b's effect then failed,
          // and its handler's dead letter reached nothing: the message acked, b recorded done
    void anAckFromAnotherThreadDuringALaterCall_doesNotSpeakForThatEvent() throws Exception {
        var dlq = InMemoryQueue.standard("early-ack-dlq");
        var queue = InMemoryQueue.builder("early-ack").deadLetterQueue(dlq).build();
        var inB = new java.util.concurrent.CountDownLatch(1);
        var acked = new java.util.concurrent.CountDownLatch(1);
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            kept.add(delivery);
            if (event.key().equals("b")) {
                inB.countDown();
                Await.until(Duration.ofSeconds(10), () -> acked.getCount() == 0);
            }
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).build()).build().start();
        try {
            queue.send("a\nb");
            assertThat(inB.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            listener.settle(kept.getFirst(), Disposition.ACK); // a's effect made, from this thread, as b's call runs
            acked.countDown();
            assertThat(Await.until(LIMIT, () -> ledger.peek(key("a")).orElse(null) instanceof Claim.Completed)).isTrue();

            listener.settle(kept.getLast(), Disposition.deadLetter("b's effect failed"));

            assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as(listener.stats().line()).isTrue();
            assertThat(Await.until(LIMIT, () -> ledger.peek(key("b")).isEmpty()))
                    .as("released (by its worker, as b's call returns): redriven, b runs again").isTrue();
            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            listener.stop();
        }
    }

    @Test // a review: without skip-delete a handler's ack from within a's call was held for the end, and the message put
          // back for b ran a again
    void withoutSkipDelete_anAckFromWithinACall_settlesTheMessageAtOnce_asBefore() {
        var queue = InMemoryQueue.standard("early-ack");
        var listener = new Listener[1];
        listener[0] = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("a")) {
                aRuns.incrementAndGet();
                listener[0].settle(delivery, Disposition.ACK);
                return Outcome.done();
            }
            bCalls.incrementAndGet();
            return new Outcome.Retry(Duration.ofMillis(200), "not yet");
        }).config(ListenerTest.fast().holdLimit(Duration.ZERO).build()).build().start();
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0)).isTrue();
            Await.until(Duration.ofMillis(600), () -> false); // past the retry's 200 ms, were it put back
            assertThat(aRuns).as("a once: the handler's ack settled the message").hasValue(1);
        } finally {
            listener[0].stop();
        }
    }

    @Test // a review: the early ack's completion ran with its settle still marked under way, as an ack: the handler's
          // settle of the later event, kept meanwhile, was refused as "acked already" — the message kept for hours
    void aSettleWhileAnEarlyAcksCompletionWaitsForTheLedger_isNotRefused() throws Exception {
        var queue = InMemoryQueue.standard("early-ack");
        var gate = new java.util.concurrent.CountDownLatch(1);
        var completingA = new java.util.concurrent.CountDownLatch(1);
        var slowForA = slowToCompleteA(completingA, gate);
        var inB = new java.util.concurrent.CountDownLatch(1);
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            kept.add(delivery);
            if (event.key().equals("b")) {
                inB.countDown();
                Await.until(Duration.ofSeconds(10), () -> completingA.getCount() == 0);
            }
            return Outcome.done();
        }).ledger(slowForA).config(ListenerTest.fast().skipDelete(true).build()).build().start();
        var aAcked = Thread.ofPlatform().unstarted(() -> listener.settle(kept.getFirst(), Disposition.ACK));
        try {
            queue.send("a\nb");
            assertThat(inB.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            aAcked.start(); // a's effect made, as b's call runs: its completion waits for the ledger
            assertThat(Await.until(LIMIT, () -> listener.stats().handedOver() == 1)).as(listener.stats().line()).isTrue();

            listener.settle(kept.getLast(), Disposition.ACK); // b's effect made

            gate.countDown();
            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("b's ack went out: " + listener.stats().line()).isTrue();
            assertThat(Await.until(LIMIT, () -> ledger.peek(key("a")).orElse(null) instanceof Claim.Completed)).isTrue();
            assertThat(ledger.peek(key("b"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            gate.countDown();
            aAcked.join(10_000);
            listener.stop();
        }
    }

    @Test // a review: the same event twice in one message, acked between its claim being taken off the item and its
          // completion landing — the second copy took the claim for another's: it waited its lease out, then ran again
    void theSameEventAgainInTheMessage_whileItsAckedClaimIsBeingCompleted_isADuplicate() throws Exception {
        var queue = InMemoryQueue.standard("early-ack");
        var gate = new java.util.concurrent.CountDownLatch(1);
        var completingA = new java.util.concurrent.CountDownLatch(1);
        var slowForA = slowToCompleteA(completingA, gate);
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            kept.add(delivery);
            if (event.key().equals("a")) {
                aRuns.incrementAndGet();
            } else {
                Await.until(Duration.ofSeconds(10), () -> completingA.getCount() == 0); // a acked meanwhile
            }
            return Outcome.done();
        }).ledger(slowForA).config(ListenerTest.fast().skipDelete(true).build()).build().start();
        var aAcked = Thread.ofPlatform().unstarted(() -> listener.settle(kept.getFirst(), Disposition.ACK));
        try {
            queue.send("a\nb\na");
            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).as(listener.stats().line()).isTrue();
            aAcked.start(); // a's effect made, from another thread, as b's call runs: its completion waits for the ledger

            assertThat(Await.until(Duration.ofSeconds(5), () -> listener.stats().duplicatesDropped() == 1))
                    .as("the second a, a duplicate while the first's completion is under way: " + listener.stats().line())
                    .isTrue();
            gate.countDown();
            assertThat(Await.until(LIMIT, () -> listener.stats().handedOver() == 1)).isTrue();
            listener.settle(kept.getLast(), Disposition.ACK);
            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0)).isTrue();
            assertThat(aRuns).as("a once").hasValue(1);
        } finally {
            gate.countDown();
            aAcked.join(10_000);
            listener.stop();
        }
    }

    /** The test's ledger, its completion of a's claim waiting for {@code gate} (a ledger slow to answer). */
    private dev.ferry.domain.testing.ForwardingLedger slowToCompleteA(java.util.concurrent.CountDownLatch completingA,
                                                                      java.util.concurrent.CountDownLatch gate) {
        return new dev.ferry.domain.testing.ForwardingLedger(ledger) {
            @Override
            public boolean complete(String k, long token, Duration ttl) {
                if (k.equals(key("a"))) {
                    completingA.countDown();
                    Await.until(Duration.ofSeconds(10), () -> gate.getCount() == 0);
                }
                return super.complete(k, token, ttl);
            }
        };
    }

    private static String key(String event) {
        return LedgerKeys.event("early-ack", event); // every test's source queue is named so
    }

    /** a kept; b's first call answers a retry in a second (held in hand), its second {@code bAgain} (null: done). */
    private Listener start(InMemoryQueue queue, Outcome bAgain) {
        return start(queue, bAgain, null);
    }

    private Listener start(InMemoryQueue queue, Outcome bAgain, java.util.function.Consumer<Delivery> inBsSecondCall) {
        return Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("a")) {
                aRuns.incrementAndGet();
                kept.add(delivery); // its effect under way: the handler settles the delivery once it is made
                return Outcome.done();
            }
            if (bCalls.incrementAndGet() == 1) {
                return new Outcome.Retry(Duration.ofSeconds(1), "not yet"); // waited out in hand
            }
            if (inBsSecondCall != null) {
                inBsSecondCall.accept(delivery);
            }
            kept.add(delivery);
            return bAgain != null ? bAgain : Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).build()).build().start();
    }
}
