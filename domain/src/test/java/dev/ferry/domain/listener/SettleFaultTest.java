package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.FaultyClock;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What is thrown while a settlement is noted, after the delivery is marked settled and before its settlement is
 * queued — the clock read for the ack's excuse, a line, no memory: the settlement is queued all the same. It was
 * lost: out of hand, never sent — the message back after its lease, a Kafka record's commits waiting.
 */
class SettleFaultTest {

    private final InMemoryQueue queue = InMemoryQueue.standard("orders");
    private final AtomicBoolean failOnce = new AtomicBoolean(true);
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    /** The system's clock, but its first read inside the settler's settle runs out of memory. */
    private final Clock clock = FaultyClock.onceWithin(Settler.class, "settle", failOnce,
            new OutOfMemoryError("injected: while the settlement is noted"));

    @Test
    void anErrorWhileASettlementIsNoted_leavesItQueuedAllTheSame() {
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.done()).clock(clock)
                .config(ListenerTest.fast().lease(Duration.ofMinutes(5)).build()).build().start();
        queue.send("a");

        assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0))
                .as("acked, not left in flight for its 5-minute lease: " + listener.stats().line()).isTrue();
        assertThat(failOnce).as("the fault was injected").isFalse();
    }

    @Test // thirty-sixth round: an acknowledger that re-reported an earlier call's failure (an asynchronous plugin), or one
          // twice, had them counted as this call's: the sent count went negative, and a run of failing calls began while
          // every ack landed — readiness down after a minute
    void failuresOfSettlementsTheAcknowledgerWasNotGiven_areNotThisCallsFailures() {
        var stranger = new dev.ferry.domain.transport.Settlement(new dev.ferry.domain.model.Delivery("m-elsewhere", new byte[0],
                java.util.Map.of(), 1, java.time.Instant.EPOCH, null, null, "orders", null), dev.ferry.domain.transport.Disposition.ACK);
        var echoing = new RefusingExtensions(queue) {
            @Override
            public java.util.List<dev.ferry.domain.transport.Settlement.Failure> settle(
                    java.util.List<dev.ferry.domain.transport.Settlement> settlements) {
                var failed = new java.util.ArrayList<>(queue.settle(settlements));
                failed.add(new dev.ferry.domain.transport.Settlement.Failure(stranger, "an earlier call's (injected)", true));
                failed.add(new dev.ferry.domain.transport.Settlement.Failure(stranger, "said twice (injected)", true));
                return failed;
            }

            @Override
            public java.util.List<dev.ferry.domain.model.Delivery> extendLeases(
                    java.util.List<dev.ferry.domain.model.Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        listener = Listener.builder(queue, echoing, new LineDecoder(), (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().build()).build().start();
        queue.send("a");
        assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0)).as(listener.stats().line()).isTrue();

        var report = listener.stop();
        listener = null;
        assertThat(report.stats().settleFailures()).as("none of its own failed").isZero();
        assertThat(report.stats().acked()).isEqualTo(1);
        assertThat(report.flushed()).as("never negative").isNotNegative();
    }

    @Test // a review of the fix: failures matched whole dropped those an acknowledger rebuilt (another receipt): one that
          // deleted nothing never showed as failing, and its messages came back every lease, unseen
    void aFailureTheAcknowledgerRebuilt_isStillThisCallsFailure() {
        var rebuilding = new RefusingExtensions(queue) {
            @Override
            public java.util.List<dev.ferry.domain.transport.Settlement.Failure> settle(
                    java.util.List<dev.ferry.domain.transport.Settlement> settlements) {
                return settlements.stream().map(s -> new dev.ferry.domain.transport.Settlement.Failure(
                        new dev.ferry.domain.transport.Settlement(new dev.ferry.domain.model.Delivery(s.delivery().id(),
                                new byte[0], java.util.Map.of(), s.delivery().receiveCount(), s.delivery().sentAt(), null, null,
                                s.delivery().source(), "another receipt"), s.disposition()), "refused (injected)", true)).toList();
            }
        };
        listener = Listener.builder(queue, rebuilding, new LineDecoder(), (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().build()).build().start();
        queue.send("a");
        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().settleFailures() > 0))
                .as("its refusal counted: " + listener.stats().line()).isTrue();
    }

    @Test
    void anErrorWhileAHandlersOwnSettlementIsNoted_leavesItQueuedAllTheSame() throws Exception {
        // skip-delete: the handler settles the delivery it kept; the clock read for the ack's excuse threw after the
        // delivery was taken back and before the ack was queued — never sent, back after its 5-minute lease
        var failing = new AtomicBoolean(false);
        Clock handlerClock = FaultyClock.onceWithin(Settler.class, "enqueueFromHandler", failing,
                new OutOfMemoryError("injected: while the handler's settlement is noted"));
        var kept = new java.util.concurrent.atomic.AtomicReference<dev.ferry.domain.model.Delivery>();
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            kept.set(delivery);
            return Outcome.done();
        }).clock(handlerClock).config(ListenerTest.fast().skipDelete(true).lease(Duration.ofMinutes(5)).build()).build()
                .start();
        queue.send("b");
        assertThat(Await.until(Duration.ofSeconds(10), () -> kept.get() != null)).isTrue();

        failing.set(true);
        try {
            listener.settle(kept.get(), dev.ferry.domain.transport.Disposition.ACK);
        } catch (Throwable thrown) { // what the clock threw may reach the handler: the ack must be queued all the same
        }

        assertThat(failing).as("the fault was injected").isFalse();
        assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0))
                .as("acked, not left in flight for its 5-minute lease: " + listener.stats().line()).isTrue();
    }
}
