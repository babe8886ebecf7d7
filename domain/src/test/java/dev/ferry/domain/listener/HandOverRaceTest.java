package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * skip-delete: a handler that settles its delivery from another thread just as {@code handle()} returns. The settle
 * found the delivery still in flight, the runner then handed it over (marking it settled), and the settle's record
 * of its own settlement was refused — so neither side completed the event's claim: the message was acked, the claim
 * stayed held (extended by the lease keeper), and the event's next copy waited behind it, to run again later.
 */
class HandOverRaceTest {

    private static final Duration LIMIT = Duration.ofSeconds(10);

    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void aSettleThatMeetsTheHandOver_completesTheClaim_soTheNextCopyIsADuplicate() throws Exception {
        var queue = InMemoryQueue.standard("kept");
        var gated = new GatedSource(queue);
        var effects = new CopyOnWriteArrayList<String>();
        Handler settlingAsItReturns = (event, delivery) -> {
            effects.add(event.payloadAsString());
            if (gated.gate.getCount() == 0) {
                return Outcome.done(); // the copy: kept, nothing more
            }
            // the handler's own copy of the delivery (equal, not the same), as one kept in a store would be
            var same = new Delivery(delivery.id(), delivery.body(), delivery.attributes(), delivery.receiveCount(),
                    delivery.sentAt(), delivery.groupKey(), delivery.deduplicationId(), delivery.source(),
                    gated.new Receipt(((GatedSource.Receipt) delivery.receipt()).original));
            gated.settler = Thread.ofPlatform().daemon().unstarted(() -> listener.settle(same, Disposition.ACK));
            gated.settler.start();
            try {
                if (!gated.gate.await(5, TimeUnit.SECONDS)) { // the settle is looking the delivery up in flight
                    throw new AssertionError("the settle never looked the delivery up");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        listener = Listener.builder(gated, gated, new LineDecoder(), settlingAsItReturns).ledger(InMemoryLedger.create())
                .config(ListenerTest.fast().skipDelete(true).lease(Duration.ofSeconds(30)).build()).build();
        gated.listener = listener;
        listener.start();
        queue.send("job-1");
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0)).as("acked").isTrue();

        queue.send("job-1"); // a copy (an SQS duplicate, a producer's resend)

        assertThat(Await.until(LIMIT, () -> listener.stats().duplicatesDropped() == 1))
                .as(() -> "the copy found it done: " + listener.stats().line()).isTrue();
        assertThat(effects).as("its effect ran once").containsExactly("job-1");
    }

    /** The queue's deliveries under a receipt whose first comparison on the settling thread waits for the hand-over. */
    private static final class GatedSource implements Source, Acknowledger {
        final InMemoryQueue queue;
        final CountDownLatch gate = new CountDownLatch(1);
        volatile Thread settler;
        volatile Listener listener;

        GatedSource(InMemoryQueue queue) {
            this.queue = queue;
        }

        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public List<Delivery> poll(PollRequest request) {
            return queue.poll(request).stream().map(d -> new Delivery(d.id(), d.body(), d.attributes(), d.receiveCount(),
                    d.sentAt(), d.groupKey(), d.deduplicationId(), d.source(), new Receipt(d))).toList();
        }

        @Override
        public List<Settlement.Failure> settle(List<Settlement> settlements) {
            return queue.settle(settlements.stream().map(s -> new Settlement(((Receipt) s.delivery().receipt()).original,
                    s.disposition())).toList());
        }

        @Override
        public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
            return queue.extendLeases(deliveries.stream().map(d -> ((Receipt) d.receipt()).original).toList(), lease);
        }

        @Override
        public void close() {
        }

        final class Receipt {
            final Delivery original;

            Receipt(Delivery original) {
                this.original = original;
            }

            @Override
            public boolean equals(Object o) {
                if (Thread.currentThread() == settler && gate.getCount() > 0) {
                    gate.countDown(); // handle() returns now, and the runner hands the delivery over
                    Await.until(LIMIT, () -> listener.stats().handedOver() == 1);
                }
                return o instanceof Receipt r && r.original == original;
            }

            @Override
            public int hashCode() {
                return System.identityHashCode(original);
            }
        }
    }
}
