package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A delivery its handler keeps (skip-delete) whose lease the transport will not extend — a Kafka partition revoked
 * during an async handler's flush, an SQS receipt gone stale: the copy handed to another worker waits on the kept
 * delivery's claim until the handler settles it, then finds it done. The claim was let go with the lease and the
 * copy ran the effect again.
 */
class KeptPastLeaseTest {

    @Test
    void aKeptDeliveryPastARefusedLease_keepsItsClaim_untilItsHandlerSettlesIt_soTheCopyFindsItDone() throws Exception {
        var queue = InMemoryQueue.standard("kept");
        var refusing = new RefusingExtensions(queue); // the message goes to whoever polls next once its lease is over
        var runs = new AtomicInteger();
        var kept = new AtomicReference<Delivery>();
        var listener = Listener.builder(queue, refusing, new LineDecoder(), (event, delivery) -> {
            runs.incrementAndGet();
            kept.compareAndSet(null, delivery); // the effect made; the delivery settled later, by the handler
            return Outcome.done();
        }).ledger(InMemoryLedger.create())
                .config(ListenerTest.fast().skipDelete(true).lease(Duration.ofSeconds(1)).build()).build().start();
        try {
            queue.send("a");
            // three leases on: the copy is out, and waits on the kept delivery's claim
            assertThat(Await.until(Duration.ofSeconds(10), () -> kept.get() != null)).isTrue();
            Thread.sleep(3_500);
            assertThat(runs).as("the copy has not run: " + listener.stats().line()).hasValue(1);

            listener.settle(kept.get(), Disposition.ACK); // the handler's flush is done: completed, the copy finds it so

            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().duplicatesDropped() >= 1))
                    .as("the copy found it done: " + listener.stats().line()).isTrue();
            assertThat(runs).as("the effect once").hasValue(1);
        } finally {
            listener.stop();
        }
    }

    @Test // a review: a kept delivery counted "finished" at its hand-over, and the stop "clean", though left unsettled
    void aStopPastWhatAHandlerKeeps_saysSo_andCountsASettledOneOnce() throws Exception {
        var queue = InMemoryQueue.standard("kept-report");
        var kept = new java.util.concurrent.CopyOnWriteArrayList<Delivery>();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            kept.add(delivery);
            return Outcome.done();
        }).config(ListenerTest.fast().skipDelete(true).shutdownDeadline(Duration.ofMillis(600)).build()).build().start();
        queue.send("never settled");
        queue.send("settled at the stop");
        assertThat(Await.until(Duration.ofSeconds(10), () -> kept.size() == 2)).isTrue();
        var settledOne = kept.stream().filter(d -> new String(d.body(), java.nio.charset.StandardCharsets.UTF_8)
                .equals("settled at the stop")).findFirst().orElseThrow();
        Thread.ofVirtual().start(() -> {
            Await.until(Duration.ofMillis(200), () -> false); // the stop under way
            listener.settle(settledOne, Disposition.ACK);
        });
        var report = listener.stop();
        assertThat(report.keptPastDeadline()).as(report.toString()).isEqualTo(1);
        assertThat(report.finished()).as("the one its handler settled, once: " + report).isEqualTo(1);
        assertThat(report.clean()).as("one left unsettled past the deadline").isFalse();
    }

    @Test // a review: the stop waited only for what was in flight, and stopped extending what handlers kept
    void aStop_waitsForWhatHandlersKeep_extendingTheirLeases_soNoCopyRunsBesideTheirLateSettle() throws Exception {
        var queue = InMemoryQueue.standard("kept-at-stop");
        var runs = new AtomicInteger();
        // an async sink that flushes 3 s on: past the 1 s lease, well inside the stop's deadline
        stopWhileKept(queue, InMemoryLedger.create(), Duration.ofSeconds(1), 3_000, runs);

        assertThat(queue.inFlightCount()).as("acked by its handler before the stop returned").isZero();
        assertThat(queue.size()).as("never handed out again").isZero();
        assertThat(runs).hasValue(1);
    }

    @Test // a second review: the stop saw the kept delivery taken back and returned while its completion was still
          // being recorded, before its ack was queued (sent then into a client the embedder had closed)
    void aStop_waitsForAHandlersSettleUnderWay_untilItsAckIsQueued() throws Exception {
        var queue = InMemoryQueue.standard("kept-settling-at-stop");
        var slowCompletions = new dev.ferry.domain.testing.ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                try {
                    Thread.sleep(2_000); // a throttled store
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.complete(key, token, ttl);
            }
        };
        stopWhileKept(queue, slowCompletions, Duration.ofSeconds(30), 500, new AtomicInteger());

        assertThat(queue.inFlightCount()).as("its ack was sent before the stop returned").isZero();
        assertThat(queue.size()).isZero();
    }

    /**
     * A skip-delete listener whose handler keeps one message and acks it {@code ackAfterMillis} later from a thread of
     * its own; stopped (deadline 10 s) as soon as the message is handed over.
     */
    private static void stopWhileKept(InMemoryQueue queue, dev.ferry.domain.idempotency.IdempotencyLedger ledger,
                                      Duration lease, long ackAfterMillis, AtomicInteger runs) {
        var self = new AtomicReference<Listener>();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            runs.incrementAndGet();
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(ackAfterMillis);
                } catch (InterruptedException e) {
                    return;
                }
                self.get().settle(delivery, Disposition.ACK);
            });
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).lease(lease)
                .shutdownDeadline(Duration.ofSeconds(10)).build()).build();
        self.set(listener);
        listener.start();
        queue.send("a");
        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().handedOver() == 1)).isTrue();

        listener.stop();
    }

    @Test
    void aDeliveryHandedOverWhileARefusedExtensionIsUnderWay_isKeptToo() throws Exception {
        // a review: in flight past its lease when the round began, handed over while the refused call was out, it was
        // taken back on the answer — its claims let go, and the copy ran the effect again
        var queue = InMemoryQueue.standard("kept-during-call");
        var runs = new AtomicInteger();
        var kept = new AtomicReference<Delivery>();
        var started = new java.util.concurrent.atomic.AtomicLong();
        var listener = new AtomicReference<Listener>();
        var acknowledger = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public java.util.List<dev.ferry.domain.transport.Settlement.Failure> settle(
                    java.util.List<dev.ferry.domain.transport.Settlement> settlements) {
                return queue.settle(settlements);
            }

            @Override
            public java.util.List<Delivery> extendLeases(java.util.List<Delivery> deliveries, Duration lease) {
                long since = started.get();
                if (since != 0 && System.nanoTime() - since > Duration.ofMillis(2_200).toNanos()) {
                    // the handler (2.5 s) hands the delivery over while this call is out: a short wait, within the claims' lease
                    Await.until(Duration.ofSeconds(5), () -> listener.get().stats().handedOver() >= 1);
                }
                return deliveries; // none extended
            }
        };
        listener.set(Listener.builder(queue, acknowledger, new LineDecoder(), (event, delivery) -> {
            if (runs.incrementAndGet() == 1) {
                started.set(System.nanoTime());
                try {
                    Thread.sleep(2_500); // past its one-second lease
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Outcome.retry("stopped");
                }
                kept.set(delivery);
            }
            return Outcome.done();
        }).ledger(InMemoryLedger.create())
                .config(ListenerTest.fast().skipDelete(true).lease(Duration.ofSeconds(1)).build()).build().start());
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(10), () -> kept.get() != null)).isTrue();
            Thread.sleep(3_000); // the copy is out and waits on the kept delivery's claim
            assertThat(runs).as("the copy has not run: " + listener.get().stats().line()).hasValue(1);

            listener.get().settle(kept.get(), Disposition.ACK);

            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.get().stats().duplicatesDropped() >= 1))
                    .as("the copy found it done: " + listener.get().stats().line()).isTrue();
            assertThat(runs).as("the effect once").hasValue(1);
        } finally {
            listener.get().stop();
        }
    }
}
