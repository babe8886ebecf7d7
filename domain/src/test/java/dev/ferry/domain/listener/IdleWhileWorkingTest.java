package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The idle timeout while a handler runs longer than it: work in hand is not idle. Its clock moved only on a receive,
 * and the listener was stopped under the handler — past the shutdown deadline its delivery was released and the
 * handler interrupted, and its effect could run again.
 */
class IdleWhileWorkingTest {

    private final InMemoryQueue queue = InMemoryQueue.standard("idle-working");
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    /** Sleeps {@code millis}, an interrupt kept for after: a handler that does not stop when asked. */
    private static void sleepThroughInterrupts(long millis) {
        long until = System.nanoTime() + Duration.ofMillis(millis).toNanos();
        boolean interrupted = false;
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            try {
                Thread.sleep(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aHandlerRunningPastTheIdleTimeout_isNotStoppedUnder_theListenerIdlesOnceItIsDone() throws Exception {
        var finished = new AtomicInteger();
        queue.send("slow");
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            sleepThroughInterrupts(1_500);
            finished.incrementAndGet();
            return Outcome.done();
        }).config(ListenerTest.fast().idleTimeout(Duration.ofMillis(300)).shutdownDeadline(Duration.ofMillis(200))
                .build()).build().start();

        var report = listener.awaitStop(Duration.ofSeconds(10));

        assertThat(report).as("stopped by its idle timeout, after the work").hasValueSatisfying(r -> {
            assertThat(r.reason()).isEqualTo("idle for PT0.3S");
            assertThat(r.releasedRunning()).as("the running delivery not released, its handler not interrupted")
                    .isZero();
        });
        assertThat(finished).hasValue(1);
        assertThat(queue.size()).as("acked, not given back to run again").isZero();
    }

    @Test // a review of this stop's fix: a poll being told to a slow observer was in no count the idle check asked, and
          // another poller's empty poll stopped the listener as idle — the poll's deliveries released, none run
    void aPollBeingToldToASlowObserver_isWorkInHand_anotherPollerDoesNotStopTheListenerAsIdle() throws Exception {
        for (int i = 0; i < 10; i++) {
            queue.send("m" + i);
        }
        var handled = new AtomicInteger();
        ListenerObserver slow = new ListenerObserver() {
            @Override
            public void received(dev.ferry.domain.model.Delivery delivery) {
                sleepThroughInterrupts(100); // ten of them: a second, past the idle timeout
            }
        };
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.incrementAndGet();
            return Outcome.done();
        }).observer(slow).config(ListenerTest.fast().pollers(2).batchSize(10).maxInFlight(20)
                .idleTimeout(Duration.ofMillis(300)).build()).build().start();

        var report = listener.awaitStop(Duration.ofSeconds(15));

        assertThat(report).as("stopped by its idle timeout, after the work").hasValueSatisfying(r ->
                assertThat(r.reason()).isEqualTo("idle for PT0.3S"));
        assertThat(handled).as("every message of the poll run, none released unrun; " + listener.stats().line())
                .hasValue(10);
        assertThat(queue.size()).as("each acked").isZero();
    }

    @Test // a review of the idle check: it read the poll being told last — a poller read the hands empty while another's
          // poll was told, was descheduled, that poll was taken in hand and told no more, and it read none being told:
          // the listener stopped as idle with the poll in hand
    void aPollTakenInHandBetweenTheIdleChecksReads_isSeenByOneOfThem_theListenerIsNotStoppedUnderIt() throws Exception {
        for (int i = 0; i < 5; i++) {
            queue.send("m" + i);
        }
        var told = new AtomicBoolean();
        ListenerObserver slow = new ListenerObserver() {
            @Override
            public void received(Delivery delivery) {
                told.set(true);
                sleepThroughInterrupts(100); // five of them: half a second, past the idle timeout
            }
        };
        var firstRunning = new CountDownLatch(1);
        var handled = new AtomicInteger();
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (firstRunning.getCount() > 0) {
                firstRunning.countDown();
                sleepThroughInterrupts(1_000); // in hand still as the paused check reads on
            }
            handled.incrementAndGet();
            return Outcome.done();
        }).observer(slow).config(ListenerTest.fast().pollers(2).batchSize(10).maxInFlight(20)
                .idleTimeout(Duration.ofMillis(300)).build()).build();
        var poller = Listener.class.getDeclaredField("poller");
        poller.setAccessible(true);
        var answering = Poller.class.getDeclaredField("answering");
        answering.setAccessible(true);
        var beingTold = (AtomicInteger) answering.get(poller.get(listener));
        var paused = new AtomicBoolean();
        ((Poller) poller.get(listener)).betweenIdleReads = () -> {
            if (told.get() && firstRunning.getCount() > 0 && paused.compareAndSet(false, true)) {
                // the other poller's poll, told as this check began: in hand and no longer told before it reads on
                Await.until(Duration.ofSeconds(5), () -> firstRunning.getCount() == 0 && beingTold.get() == 0);
            }
        };
        listener.start();

        var report = listener.awaitStop(Duration.ofSeconds(15));

        assertThat(paused).as("an empty poll's idle check paused while the other's poll was told").isTrue();
        assertThat(report).as("stopped by its idle timeout, with nothing in hand: after the work").hasValueSatisfying(r -> {
            assertThat(r.reason()).isEqualTo("idle for PT0.3S");
            assertThat(r.finished() + r.releasedWaiting() + r.releasedRunning()).as("in hand at the stop; " + r).isZero();
        });
        assertThat(handled).as("every message of the poll run, none released unrun").hasValue(5);
        assertThat(queue.size()).as("each acked").isZero();
    }
}
