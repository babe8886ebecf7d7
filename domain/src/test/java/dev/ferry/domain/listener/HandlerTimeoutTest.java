package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A handler call that never returns — a JDBC or socket call with no timeout of its own, a lock never
 * released — held its worker and its group for ever, its lease extended all the while: the message
 * was never tried again, never dead-lettered, and nothing said so. With {@code handlerTimeout} the
 * call is interrupted at its timeout and counts as a failed attempt; one that does not return from
 * the interrupt is a wedge.
 */
class HandlerTimeoutTest {

    private static final Duration LIMIT = Duration.ofSeconds(15);

    private final InMemoryQueue queue = InMemoryQueue.builder("orders")
            .deadLetterQueue(InMemoryQueue.builder("orders-dlq").build()).build();
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    private Listener start(Handler handler, ListenerConfig.Builder config) {
        listener = Listener.builder(queue, new LineDecoder(), handler).config(config.build()).build().start();
        return listener;
    }

    /** Waits for ever, as a call without a timeout does; interruptible. */
    private static void hang() {
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            throw new IllegalStateException("the call was interrupted", e);
        }
    }

    /** Hangs on its first call, each counted in {@code calls}; done on every later one. */
    private static Handler hangingOnTheFirstCall(AtomicInteger calls) {
        return (e, d) -> {
            if (calls.incrementAndGet() == 1) {
                hang();
            }
            return Outcome.done();
        };
    }

    @Test
    void aHangingCall_isInterruptedAtItsTimeout_andTriedAgain() {
        var calls = new AtomicInteger();
        start(hangingOnTheFirstCall(calls), ListenerTest.fast().handlerTimeout(Duration.ofMillis(300)));
        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> listener.stats().acked() == 1)).as(listener.stats().line()).isTrue();
        assertThat(calls).as("the first call interrupted, the second done").hasValue(2);
        assertThat(queue.deadLetterQueue().size()).isZero();
    }

    @Test // a dead poller whose replacement could not be had (no thread) threw out of the lease keeper's round, every
          // round, before the handler-timeout check: a hanging call held its message for ever
    void aDeadPollerThatCannotBeReplaced_doesNotKeepAHangingCallFromItsTimeout() throws Exception {
        var calls = new AtomicInteger();
        start(hangingOnTheFirstCall(calls), ListenerTest.fast().handlerTimeout(Duration.ofMillis(300)));
        var dead = Thread.ofPlatform().start(() -> { });
        dead.join();
        // the listener's pollers, as the lease keeper sees them: one dead, and no room to put another in its place
        var threads = Listener.class.getDeclaredField("threads");
        threads.setAccessible(true);
        var pollers = OwnThreads.class.getDeclaredField("pollers");
        pollers.setAccessible(true);
        pollers.set(threads.get(listener), java.util.List.of(dead));

        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> listener.stats().acked() == 1)).as(listener.stats().line()).isTrue();
        assertThat(calls).as("the first call interrupted, the second done").hasValue(2);
    }

    @Test
    void aCallThatAlwaysHangs_isDeadLetteredWithItsTimeoutAsTheReason() {
        start((e, d) -> {
            hang();
            return Outcome.done();
        }, ListenerTest.fast().handlerTimeout(Duration.ofMillis(200))
                .retry(RetryPolicy.of(2, Backoff.fixed(Duration.ofMillis(1)))));
        queue.send("order-1");
        queue.send("order-2"); // a group of its own: the runner left by the first gets on with it

        assertThat(Await.until(LIMIT, () -> queue.deadLetterQueue().size() == 2)).as(listener.stats().line()).isTrue();
        assertThat(queue.deadLetterQueue().messages()).allSatisfy(m -> assertThat(m.attributes().get(DeadLetterAttributes.REASON))
                .contains("past its timeout of 200ms (interrupted)").contains("the call was interrupted"));
        assertThat(queue.size()).isZero();
    }

    @Test
    void aCallThatIgnoresTheInterrupt_isAWedge_untilItReturns() {
        var release = new AtomicBoolean();
        var interrupts = new AtomicInteger();
        start((e, d) -> {
            while (!release.get()) {
                try {
                    TimeUnit.MILLISECONDS.sleep(20);
                } catch (InterruptedException ex) {
                    interrupts.incrementAndGet(); // swallowed, as careless code does
                }
            }
            return Outcome.done();
        }, ListenerTest.fast().handlerTimeout(Duration.ofMillis(200)));
        queue.send("order-1");

        // interrupted at 0.2 s, given as long again (at least a second) to return
        assertThat(Await.until(LIMIT, () -> !listener.wedges().isEmpty())).isTrue();
        assertThat(listener.wedges()).singleElement().asString().contains("interrupted at its timeout of 200ms")
                .contains("not returned");
        assertThat(listener.health().ready()).isFalse();
        assertThat(interrupts).as("interrupted once, not every round").hasValue(1);

        release.set(true);
        assertThat(Await.until(LIMIT, () -> listener.stats().acked() == 1)).as(listener.stats().line()).isTrue();
        assertThat(listener.wedges()).isEmpty();
    }

    @Test // a sink that answers an interrupt with Retry (the HTTP sink does): the dead letter's reason still says why
    void aCallThatAnswersTheInterruptWithRetry_isDeadLetteredWithItsTimeoutAsTheReason() {
        start((e, d) -> {
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return Outcome.retry("sink call interrupted");
            }
            return Outcome.done();
        }, ListenerTest.fast().handlerTimeout(Duration.ofMillis(200))
                .retry(RetryPolicy.of(2, Backoff.fixed(Duration.ofMillis(1)))));
        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> queue.deadLetterQueue().size() == 1)).as(listener.stats().line()).isTrue();
        assertThat(queue.deadLetterQueue().messages().getFirst().attributes().get(DeadLetterAttributes.REASON))
                .contains("past its timeout of 200ms (interrupted): sink call interrupted");
    }

    @Test // the worker's next message must not meet the interrupt the timed-out call left set; a stop's is kept
    void theInterruptOfATimedOutCall_isClearedWhenItEnds_unlessTheListenerIsStopping() {
        var running = new AtomicBoolean(true);
        var watch = new HandlerWatch("orders", Duration.ofNanos(1), running::get);
        var call = watch.begin("m-1");
        Await.until(Duration.ofMillis(5), () -> false);
        watch.check(); // past its timeout: this very thread is interrupted (from a thread of the watch's own)
        assertThat(interruptedWithin(Duration.ofSeconds(5))).isTrue();
        assertThat(watch.end(call)).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).as("cleared for the next message").isFalse();

        var next = watch.begin("m-2");
        assertThat(watch.end(next)).as("ended before any check: not interrupted").isFalse();

        var stopping = watch.begin("m-3");
        Await.until(Duration.ofMillis(5), () -> false);
        watch.check();
        assertThat(interruptedWithin(Duration.ofSeconds(5))).isTrue();
        running.set(false);
        try {
            assertThat(watch.end(stopping)).isTrue();
            assertThat(Thread.currentThread().isInterrupted()).as("a stopping listener's workers keep it").isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(watch.wedges()).isEmpty();
    }

    /** Whether the current thread is interrupted within {@code limit} (its flag kept). */
    private static boolean interruptedWithin(Duration limit) {
        long end = System.nanoTime() + limit.toNanos();
        while (!Thread.currentThread().isInterrupted() && System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
        return Thread.currentThread().isInterrupted();
    }

    /**
     * A channel written to a disk that hangs (an NFS hard mount): the write does not answer an interrupt, and the close
     * an interrupt makes — on the interrupting thread — waits out the write under way, as a FileChannel's does.
     */
    static final class HungDisk extends java.nio.channels.spi.AbstractInterruptibleChannel {
        final CountDownLatch closing = new CountDownLatch(1);
        final CountDownLatch back = new CountDownLatch(1);

        void write() throws java.io.IOException {
            boolean done = false;
            begin();
            try {
                while (true) {
                    try {
                        done = back.await(30, TimeUnit.SECONDS);
                        break;
                    } catch (InterruptedException e) {
                        continue; // in the kernel: the interrupt is not seen
                    }
                }
            } finally {
                end(done);
            }
        }

        /** Writes for an event "on-the-disk" (true once the write returns); false for any other. */
        boolean wroteFor(dev.ferry.domain.model.Event e) {
            if (!new String(e.payload(), java.nio.charset.StandardCharsets.UTF_8).equals("on-the-disk")) {
                return false;
            }
            try {
                write();
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
            return true;
        }

        @Override
        protected void implCloseChannel() {
            closing.countDown();
            try {
                back.await(30, TimeUnit.SECONDS); // the write under way, waited out
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test // a review: the interrupt closed the channel on the lease keeper's thread, which waited out the hung write
    void aCallInAWriteToADiskThatHangs_doesNotHoldTheLeaseKeeper_theNextCallIsInterruptedAtItsTimeout() throws Exception {
        var disk = new HungDisk();
        var secondInterrupted = new CountDownLatch(1);
        try {
            start((e, d) -> {
                if (disk.wroteFor(e)) {
                    return Outcome.done();
                }
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException ex) {
                    secondInterrupted.countDown();
                }
                return Outcome.done();
            }, ListenerTest.fast().handlerTimeout(Duration.ofMillis(300)));
            queue.send("on-the-disk");
            assertThat(disk.closing.await(10, TimeUnit.SECONDS)).as("interrupted at its timeout: its channel closing").isTrue();
            queue.send("hangs");

            assertThat(secondInterrupted.await(10, TimeUnit.SECONDS))
                    .as("the lease keeper still runs while the first call's channel closes").isTrue();
        } finally {
            disk.back.countDown();
        }
        assertThat(Await.until(LIMIT, () -> listener.stats().inFlight() == 0)).as(listener.stats().line()).isTrue();
    }

    @Test // a review: the stop's interrupts of its workers waited out a hung write the same way, on the stopping thread
    void aStop_withAWorkerInAWriteToADiskThatHangs_returnsWithinItsBounds() throws Exception {
        var disk = new HungDisk();
        var inTheWrite = new CountDownLatch(1);
        try {
            start((e, d) -> {
                inTheWrite.countDown();
                try {
                    disk.write();
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
                return Outcome.done();
            }, ListenerTest.fast().shutdownDeadline(Duration.ofMillis(300)));
            queue.send("order-1");
            assertThat(inTheWrite.await(10, TimeUnit.SECONDS)).isTrue();

            var stop = java.util.concurrent.CompletableFuture.supplyAsync(listener::stop);
            assertThat(Await.until(Duration.ofSeconds(10), stop::isDone)).as("the stop returned, the write still hung")
                    .isTrue();
            assertThat(stop.get().releasedRunning()).isEqualTo(1);
        } finally {
            disk.back.countDown();
        }
    }

    @Test // thirty-eighth round: the stop's interrupts of its workers went one after another on one thread, under the
          // pool's lock; the worker in a hung write held every interrupt after its own, and those handlers ran on
    void aStop_interruptsEveryWorker_evenWhenEachIsInAWriteToADiskThatHangs() throws Exception {
        // each worker in a write of its own: from one thread, the first interrupt's close waits out its write and no
        // other close begins — whatever order the pool walks its workers in (a review: with one hung write among
        // sleepers, the old code passed whenever the hung one happened to come last)
        var disks = new java.util.concurrent.ConcurrentHashMap<String, HungDisk>();
        for (int i = 0; i < 4; i++) {
            disks.put("disk-" + i, new HungDisk());
        }
        var started = new CountDownLatch(4);
        try {
            start((e, d) -> {
                started.countDown();
                try {
                    disks.get(new String(e.payload(), java.nio.charset.StandardCharsets.UTF_8)).write();
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
                return Outcome.done();
            }, ListenerTest.fast().concurrency(4).shutdownDeadline(Duration.ofMillis(300)));
            disks.keySet().forEach(queue::send);
            assertThat(started.await(10, TimeUnit.SECONDS)).as("four handlers at once").isTrue();

            java.util.concurrent.CompletableFuture.supplyAsync(listener::stop);
            for (var disk : disks.entrySet()) {
                assertThat(disk.getValue().closing.await(5, TimeUnit.SECONDS)).as("%s's worker interrupted (its channel "
                        + "closing)", disk.getKey()).isTrue();
            }
        } finally {
            disks.values().forEach(disk -> disk.back.countDown());
        }
    }

    @Test
    void theTimeout_isCheckedLikeTheOtherDurations() {
        assertThatThrownBy(() -> ListenerConfig.builder().handlerTimeout(Duration.ofMillis(-1)).build())
                .hasMessageContaining("handlerTimeout must be >= 0");
        assertThatThrownBy(() -> ListenerConfig.builder().handlerTimeout(ChronoUnit.FOREVER.getDuration()).build())
                .hasMessageContaining("handlerTimeout must be at most");
        assertThat(ListenerConfig.defaults().handlerTimeout()).isZero();
        assertThat(ListenerConfig.defaults().toBuilder().handlerTimeout(Duration.ofMinutes(1)).build().toBuilder().build()
                .handlerTimeout()).isEqualTo(Duration.ofMinutes(1));
    }
}
