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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * skip-delete, a message of two events: the handler kept a (its effect under way) and b still runs when the stop's
 * deadline passes. The stop releases the message. The handler's ack of a, coming after, went to the transport and
 * deleted the released message: b, cut short, never ran again. It now completes a's claim only, and the message waits on
 * the queue for b.
 */
class StopReleaseKeptTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final InMemoryLedger ledger = InMemoryLedger.create();
    private final List<Delivery> kept = new CopyOnWriteArrayList<>();
    private final CountDownLatch bRunning = new CountDownLatch(1);
    private final CountDownLatch bMayEnd = new CountDownLatch(1);
    private volatile Thread bCaller;

    @Test
    void anAckOfAKeptEventAfterTheStopReleasedTheMessage_doesNotDeleteIt() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = start(queue, Outcome.done());
        try {
            sendAndAwaitB(queue, "a\nb", listener);

            var report = listener.stop(); // b still runs past the deadline: released
            listener.settle(kept.getFirst(), Disposition.ACK); // a's effect made

            assertThat(report.keptPastDeadline()).as("a kept by its handler").isEqualTo(1);
            assertThat(queue.size() + queue.inFlightCount()).as("the message waits for b").isEqualTo(1);
            assertThat(ledger.peek(key("a"))).as("a acked: done").get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("b")).orElse(null)).as("b not done").isNotInstanceOf(Claim.Completed.class);
        } finally {
            bMayEnd.countDown();
            listener.stop();
        }
    }

    @Test
    void bKeptAfterTheRelease_thenAnAckOfBoth_completesBoth_theNextRunFindsThemDone() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = start(queue, Outcome.done());
        try {
            sendAndAwaitB(queue, "a\nb", listener);
            listener.stop();
            bMayEnd.countDown();
            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).as("b kept after the stop").isTrue();

            listener.settle(kept.getLast(), Disposition.ACK); // a's and b's effects made

            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("b"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            bMayEnd.countDown();
            listener.stop();
        }
        assertNextRunFindsBothDone(queue);
    }

    @Test // a review: found in the handed-over set, the ack was taken for a's alone, and b — acked in its own call —
          // waited for another settle that never came: its claim ran out and b ran again
    void anAckMadeInBsCallAfterTheRelease_coversB_theNextRunFindsBothDone() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = new Listener[1];
        listener[0] = start(queue, Outcome.done(), delivery -> listener[0].settle(delivery, Disposition.ACK));
        try {
            sendAndAwaitB(queue, "a\nb", listener[0]);
            listener[0].stop();
            bMayEnd.countDown();

            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).as("b's call over").isTrue();
            assertThat(Await.until(LIMIT, () -> ledger.peek(key("b")).orElse(null) instanceof Claim.Completed)).isTrue();
            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            bMayEnd.countDown();
            listener[0].stop();
        }
        assertNextRunFindsBothDone(queue);
    }

    @Test // a review: a's ack took the delivery out of where a settle finds it, and b's ack after b was kept found nothing —
          // b's claim neither completed nor released: it ran out, and b ran again
    void afterTheRelease_anEarlierEventsAck_thenTheLaterEventsAck_completesItToo() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = start(queue, Outcome.done());
        try {
            sendAndAwaitB(queue, "a\nb\nc", listener);
            listener.stop();
            listener.settle(kept.getFirst(), Disposition.ACK); // a's effect made
            bMayEnd.countDown();
            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).as("b kept after the stop").isTrue();

            listener.settle(kept.getLast(), Disposition.ACK); // b's effect made

            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("b"))).as("b acked: done").get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("c"))).as("c never ran: the message comes back for it").isEmpty();
        } finally {
            bMayEnd.countDown();
            listener.stop();
        }
    }

    @Test // a review: a's failure (a put-back of it) released its claim, then b's ack of the same delivery completed it
          // again — fenced, then recorded done: a's effect, failed, never ran again
    void afterTheRelease_anEarlierEventsFailure_thenTheLaterEventsAck_leavesTheEarlierToRunAgain() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = start(queue, Outcome.done());
        try {
            sendAndAwaitB(queue, "a\nb", listener);
            listener.stop();
            listener.settle(kept.getFirst(), Disposition.redeliver(Duration.ZERO)); // a's effect failed
            bMayEnd.countDown();
            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).as("b kept after the stop").isTrue();

            listener.settle(kept.getLast(), Disposition.ACK); // b's effect made

            assertThat(ledger.peek(key("a"))).as("a failed: released, not done").isEmpty();
            assertThat(ledger.peek(key("b"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            bMayEnd.countDown();
            listener.stop();
        }
        var ran = new CopyOnWriteArrayList<String>();
        var next = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            ran.add(event.key());
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().build()).build().start();
        try {
            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as(next.stats().line()).isTrue();
            assertThat(ran).as("a again, b found done").containsExactly("a");
        } finally {
            next.stop();
        }
    }

    @Test // a last look: a acked before the stop, nothing was left kept as the release came — the delivery was put where
          // no settle finds it, and b's ack after b was kept reached nothing: b's claim ran out, and b ran again
    void anEarlierEventAckedBeforeTheStop_thenTheLaterEventsAckAfterTheRelease_completesIt() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = start(queue, Outcome.done());
        try {
            sendAndAwaitB(queue, "a\nb\nc", listener);
            listener.settle(kept.getFirst(), Disposition.ACK); // a's effect made, as b runs
            listener.stop();
            bMayEnd.countDown();
            assertThat(Await.until(LIMIT, () -> kept.size() == 2)).as("b kept after the stop").isTrue();

            listener.settle(kept.getLast(), Disposition.ACK); // b's effect made

            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.peek(key("b"))).as("b acked: done").get().isInstanceOf(Claim.Completed.class);
            assertThat(queue.size() + queue.inFlightCount()).as("the message waits for c").isEqualTo(1);
        } finally {
            bMayEnd.countDown();
            listener.stop();
        }
    }

    @Test // a last look: the same, b acked in its own call — refused as a settle of a message put back, b's cover lost
    void anEarlierEventAckedBeforeTheStop_thenAnAckInTheLaterEventsCall_coversIt() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = new Listener[1];
        listener[0] = start(queue, Outcome.done(), delivery -> listener[0].settle(delivery, Disposition.ACK));
        try {
            sendAndAwaitB(queue, "a\nb", listener[0]);
            listener[0].settle(kept.getFirst(), Disposition.ACK); // a's effect made, as b runs
            listener[0].stop();
            bMayEnd.countDown();

            assertThat(Await.until(LIMIT, () -> ledger.peek(key("b")).orElse(null) instanceof Claim.Completed))
                    .as("b acked in its call: done").isTrue();
            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
        } finally {
            bMayEnd.countDown();
            listener[0].stop();
        }
        assertNextRunFindsBothDone(queue);
    }

    @Test // a last look: nothing kept yet as the release came (the first event still in its call), that event's ack in
          // its call went to the transport and deleted the released message — the events after it never ran
    void theFirstEventsAckInItsCall_afterTheRelease_doesNotDeleteTheMessage() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = new Listener[1];
        listener[0] = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (event.key().equals("a")) {
                bRunning.countDown(); // (the first event is the one that runs on here)
                waitDeaf(bMayEnd);
                listener[0].settle(delivery, Disposition.ACK); // a's effect made, in its call
            }
            kept.add(delivery);
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start();
        try {
            sendAndAwaitB(queue, "a\nb", listener[0]);
            var report = listener[0].stop();
            bMayEnd.countDown();

            assertThat(report.releasedRunning()).as(report.toString()).isEqualTo(1);
            assertThat(report.keptPastDeadline()).as("nothing kept by its handler: released only").isZero();
            assertThat(Await.until(LIMIT, () -> ledger.peek(key("a")).orElse(null) instanceof Claim.Completed))
                    .as("a acked in its call: done").isTrue();
            assertThat(queue.size() + queue.inFlightCount()).as("the message waits for b").isEqualTo(1);
        } finally {
            bMayEnd.countDown();
            listener[0].stop();
        }
    }

    @Test // a last look: a's ack came as the stop had marked the message settled and not yet kept it — it found the
          // delivery nowhere, took it for let go of, and went to the transport ahead of the release: b never ran again
    void anAckAsTheStopReleasesTheMessage_waitsForTheRelease_andDoesNotDeleteIt() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = start(queue, Outcome.done());
        try {
            sendAndAwaitB(queue, "a\nb", listener);
            var ack = new Thread[1];
            pauseTheRelease(listener, () -> { // a's effect made, acked from its own thread, as the stop releases
                ack[0] = Thread.ofPlatform().start(() -> listener.settle(kept.getFirst(), Disposition.ACK));
                awaitLockedOrDone(ack[0]);
            });

            listener.stop();
            ack[0].join(LIMIT.toMillis());

            assertThat(ack[0].isAlive()).as("the ack answered").isFalse();
            assertThat(queue.size() + queue.inFlightCount()).as("the message waits for b").isEqualTo(1);
            assertThat(ledger.peek(key("a"))).as("a acked: done").get().isInstanceOf(Claim.Completed.class);
        } finally {
            bMayEnd.countDown();
            listener.stop();
        }
    }

    @Test // the same, b acked in its own call as the stop releases: its cover lost, b's claim ran out and b ran again
    void anAckInTheLaterEventsCallAsTheStopReleases_coversIt_theNextRunFindsBothDone() throws Exception {
        var queue = InMemoryQueue.standard("stop-release");
        var listener = new Listener[1];
        listener[0] = start(queue, Outcome.done(), delivery -> listener[0].settle(delivery, Disposition.ACK));
        try {
            sendAndAwaitB(queue, "a\nb", listener[0]);
            pauseTheRelease(listener[0], () -> { // b's call acks now, as the stop releases
                bMayEnd.countDown();
                awaitLockedOrDone(bCaller);
            });

            listener[0].stop();

            assertThat(Await.until(LIMIT, () -> ledger.peek(key("b")).orElse(null) instanceof Claim.Completed))
                    .as("b acked in its call: done").isTrue();
            assertThat(ledger.peek(key("a"))).get().isInstanceOf(Claim.Completed.class);
            assertThat(queue.size() + queue.inFlightCount()).as("released, not deleted").isEqualTo(1);
        } finally {
            bMayEnd.countDown();
            listener[0].stop();
        }
        assertNextRunFindsBothDone(queue);
    }

    /** Runs {@code pause} inside the stop's release of the message among its events (marked settled, under its lock). */
    private static void pauseTheRelease(Listener listener, Runnable pause) throws ReflectiveOperationException {
        var hands = Listener.class.getDeclaredField("hands");
        hands.setAccessible(true);
        ((Hands) hands.get(listener)).releasingAtStop = pause;
    }

    /** Waits, a few seconds at most, until {@code thread} waits for a delivery's lock (the stop's) or has ended. */
    private static void awaitLockedOrDone(Thread thread) {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        Await.until(Duration.ofSeconds(5), () -> {
            var info = threads.getThreadInfo(thread.threadId());
            return info == null || info.getThreadState() == Thread.State.TERMINATED
                    || info.getThreadState() == Thread.State.BLOCKED && info.getLockName() != null
                    && info.getLockName().startsWith(InFlight.class.getName() + "@");
        });
    }

    private void assertNextRunFindsBothDone(InMemoryQueue queue) {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        var next = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            calls.incrementAndGet();
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().build()).build().start();
        try {
            assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as(next.stats().line()).isTrue();
            assertThat(calls).as("both found done").hasValue(0);
        } finally {
            next.stop();
        }
    }

    /** Sends {@code body} and waits until b's call runs (past which the test stops the listener). */
    private void sendAndAwaitB(InMemoryQueue queue, String body, Listener listener) throws InterruptedException {
        queue.send(body);
        assertThat(bRunning.await(LIMIT.toSeconds(), TimeUnit.SECONDS)).as(listener.stats().line()).isTrue();
    }

    private static void waitDeaf(CountDownLatch latch) {
        long until = System.nanoTime() + LIMIT.toNanos();
        while (latch.getCount() > 0 && System.nanoTime() - until < 0) {
            try {
                latch.await(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                continue; // the stop's interrupt, not obeyed: b runs on
            }
        }
    }

    private static String key(String event) {
        return LedgerKeys.event("stop-release", event);
    }

    /** a kept; b's call waits for {@code bMayEnd} (not ended by an interrupt), then answers {@code bAnswer}, kept. */
    private Listener start(InMemoryQueue queue, Outcome bAnswer) {
        return start(queue, bAnswer, null);
    }

    private Listener start(InMemoryQueue queue, Outcome bAnswer, java.util.function.Consumer<Delivery> inBsCall) {
        return Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (!event.key().equals("b")) {
                kept.add(delivery);
                return Outcome.done();
            }
            bCaller = Thread.currentThread();
            bRunning.countDown();
            waitDeaf(bMayEnd); // past the stop's deadline, deaf to its interrupt
            if (inBsCall != null) {
                inBsCall.accept(delivery);
            }
            kept.add(delivery);
            return bAnswer;
        }).ledger(ledger).config(ListenerTest.fast().skipDelete(true).shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start();
    }
}
