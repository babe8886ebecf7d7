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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * skip-delete with a message of several events: the handler keeps the first (its effect is under way), and the
 * listener puts the message back for a later one (or dead-letters it). The kept events' claims were let go of — the
 * copy ran them beside the handler — and the handler's later ack deleted the message, so the events after the kept
 * ones never ran. The kept claims stay with the handler now: its settle completes (or releases) them, and goes no
 * further than that.
 */
class PartlyKeptTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    @Test
    void eventsKept_ofAMessagePutBackForALaterEvent_stayWithTheHandler_andItsAckLeavesTheMessage() {
        var queue = InMemoryQueue.standard("partly-kept");
        var aRuns = new AtomicInteger();
        var bDone = new AtomicInteger();
        var bFailedOnce = new AtomicBoolean();
        var kept = new CopyOnWriteArrayList<Delivery>();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("a")) {
                aRuns.incrementAndGet();
                kept.add(delivery); // its effect under way: the handler settles the delivery once it is made
                return Outcome.done();
            }
            if (bFailedOnce.compareAndSet(false, true)) {
                return new Outcome.Retry(Duration.ofSeconds(2), "not yet"); // back in 2 s
            }
            bDone.incrementAndGet();
            kept.add(delivery);
            return Outcome.done();
        }).ledger(InMemoryLedger.create())
                .config(ListenerTest.fast().skipDelete(true).holdLimit(Duration.ZERO).build()).build().start();
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> listener.stats().redelivered() >= 1)).as(listener.stats().line()).isTrue();

            listener.settle(kept.getFirst(), Disposition.ACK); // a's effect made
            listener.settle(kept.getFirst(), Disposition.ACK); // a review: a callback fired twice deleted the message

            assertThat(Await.until(LIMIT, () -> bDone.get() == 1)).as("b ran: " + listener.stats().line()).isTrue();
            listener.settle(kept.getLast(), Disposition.ACK);
            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0)).isTrue();
            assertThat(aRuns).as("a once: the copy found it done").hasValue(1);
        } finally {
            listener.stop();
        }
    }

    @Test // a review of the fix: with no ledger there is no claim to keep, yet the put-back delivery was kept for its
          // handler — a handler that never settles it held the stop its whole deadline, reported kept past it
    void withoutALedger_aMessagePutBackForALaterEvent_keepsNothingAStopWaitsFor() {
        var queue = InMemoryQueue.standard("partly-kept-no-ledger");
        var bDone = new AtomicInteger();
        var bFailedOnce = new AtomicBoolean();
        var kept = new CopyOnWriteArrayList<Delivery>();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("a")) {
                kept.add(delivery);
                return Outcome.done();
            }
            if (bFailedOnce.compareAndSet(false, true)) {
                return new Outcome.Retry(Duration.ofSeconds(1), "not yet");
            }
            bDone.incrementAndGet();
            return Outcome.done();
        }).config(ListenerTest.fast().skipDelete(true).holdLimit(Duration.ZERO).shutdownDeadline(Duration.ofSeconds(20))
                .build()).build().start();
        ShutdownReport report;
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> bDone.get() == 1)).as("b ran: " + listener.stats().line()).isTrue();
            listener.settle(kept.getLast(), Disposition.ACK); // the copy's, whose every event is done; the first never
        } finally {
            report = listener.stop();
        }
        assertThat(report.keptPastDeadline()).as("the put-back delivery kept nothing to wait for: " + report).isZero();
        assertThat(List.of(queue.size(), queue.inFlightCount())).containsExactly(0, 0);
    }

    @Test
    void eventsKept_ofAMessageDeadLetteredForALaterEvent_areCompletedByTheHandlersAck() {
        var dlq = InMemoryQueue.standard("partly-kept-dlq");
        var queue = InMemoryQueue.builder("partly-kept").deadLetterQueue(dlq).build();
        var ledger = InMemoryLedger.create();
        var kept = new CopyOnWriteArrayList<Delivery>();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("a")) {
                kept.add(delivery);
                return Outcome.done();
            }
            return Outcome.reject("b is poison");
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).build()).build().start();
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as(listener.stats().line()).isTrue();
            var key = LedgerKeys.event("partly-kept", "a");
            assertThat(ledger.peek(key)).as("a's claim kept for its handler").get().isInstanceOf(Claim.InProgress.class);

            listener.settle(kept.getFirst(), Disposition.ACK);

            assertThat(Await.until(LIMIT, () -> ledger.peek(key).orElse(null) instanceof Claim.Completed))
                    .as("a recorded done: redriven, the message runs b only").isTrue();
            assertThat(dlq.messages()).hasSize(1);
            assertThat(List.of(queue.size(), queue.inFlightCount())).containsExactly(0, 0);
        } finally {
            listener.stop();
        }
    }

    @Test // a review: a receive was remembered by its source, id and number — a source that numbers every receive 1 (an
          // HTTP request sent again with its idempotency key, a Kafka record read again after a rebalance) had the
          // settle of its new receive taken for the put-back one's: it reached nothing, and the message was kept for ever
    void aNewReceiveOfTheSameNumber_isNotTakenForTheOnePutBack() {
        var queue = InMemoryQueue.standard("partly-kept");
        var source = new NumberedOne(queue);
        var kept = new CopyOnWriteArrayList<Delivery>();
        var bCalls = new AtomicInteger();
        var listener = new Listener[1];
        listener[0] = Listener.builder(source, source, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("a")) {
                kept.add(delivery);
                return Outcome.done();
            }
            if (bCalls.incrementAndGet() == 1) {
                return new Outcome.Retry(Duration.ofMillis(300), "not yet"); // put back
            }
            listener[0].settle(delivery, Disposition.ACK); // the copy: its every event made
            return Outcome.done();
        }).ledger(InMemoryLedger.create()).config(ListenerTest.fast().skipDelete(true).holdLimit(Duration.ZERO)
                .shutdownDeadline(Duration.ofSeconds(5)).build()).build().start();
        ShutdownReport report;
        try {
            queue.send("a\nb");
            assertThat(Await.until(LIMIT, () -> listener[0].stats().redelivered() >= 1)).isTrue();
            listener[0].settle(kept.getFirst(), Disposition.ACK); // a made: done for the copy

            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as("the copy's ack reached the queue: " + listener[0].stats().line()).isTrue();
        } finally {
            report = listener[0].stop();
        }
        assertThat(report.keptPastDeadline()).as(report.toString()).isZero();
        assertThat(bCalls).hasValue(2);
    }

    /** Hands out the queue's receives each numbered 1, as an HTTP source and a Kafka one after a rebalance may. */
    private record NumberedOne(InMemoryQueue queue) implements dev.ferry.domain.transport.Source,
            dev.ferry.domain.transport.Acknowledger {
        private record Receipt(Delivery original) {
        }

        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public List<Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
            return queue.poll(request).stream().map(d -> new Delivery(d.id(), d.body(), d.attributes(), 1, d.sentAt(),
                    d.groupKey(), d.deduplicationId(), d.source(), new Receipt(d))).toList();
        }

        @Override
        public List<dev.ferry.domain.transport.Settlement.Failure> settle(
                List<dev.ferry.domain.transport.Settlement> settlements) {
            return queue.settle(settlements.stream().map(s -> new dev.ferry.domain.transport.Settlement(
                    ((Receipt) s.delivery().receipt()).original(), s.disposition())).toList());
        }

        @Override
        public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
            var originals = deliveries.stream().map(d -> ((Receipt) d.receipt()).original()).toList();
            var refused = queue.extendLeases(originals, lease);
            return deliveries.stream().filter(d -> refused.contains(((Receipt) d.receipt()).original())).toList();
        }
    }
}
