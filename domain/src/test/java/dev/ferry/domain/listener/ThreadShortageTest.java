package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.AbstractList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * No thread to be had (the process at its native-thread limit): a hold whose {@code schedule()} started the holds'
 * thread threw after queueing its resume, and the delivery, held again for the throw, was resumed twice — its handler
 * run twice at once; a dead poller that could not be replaced was said dead again every lease-keeper round, and the
 * replacement's failure never said.
 */
class ThreadShortageTest {

    private static final Duration LIMIT = Duration.ofSeconds(15);

    private final InMemoryQueue queue = InMemoryQueue.standard("orders");
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    private static OwnThreads threadsOf(Listener listener) throws ReflectiveOperationException {
        var threads = Listener.class.getDeclaredField("threads");
        threads.setAccessible(true);
        return (OwnThreads) threads.get(listener);
    }

    private static long lines(CapturedLog log, String text) {
        return log.lines.stream().filter(l -> l.contains(text)).count();
    }

    @Test
    void aHoldsThreadThatCannotBeHad_doesNotResumeTheDeliveryTwice() throws Exception {
        var calls = new AtomicInteger();
        var inside = new AtomicInteger();
        var atOnce = new AtomicBoolean();
        var another = new CountDownLatch(1);
        listener = Listener.builder(queue, new LineDecoder(), (e, d) -> {
            int call = calls.incrementAndGet();
            if (call == 1) {
                return Outcome.retry("the first try fails");
            }
            if (inside.incrementAndGet() > 1) {
                atOnce.set(true);
            }
            try {
                if (call == 2) { // a second resume of the same delivery would call it meanwhile
                    another.await(1, TimeUnit.SECONDS);
                } else {
                    another.countDown();
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            } finally {
                inside.decrementAndGet();
            }
            return Outcome.done();
        }).config(ListenerTest.fast().lease(Duration.ofSeconds(30))
                .retry(RetryPolicy.of(5, Backoff.fixed(Duration.ofMillis(1)))).build()).build().start();
        // the holds' thread, when it is first asked for, cannot be had: schedule() has queued the resume by then
        var holds = threadsOf(listener).holds;
        var factory = holds.getThreadFactory();
        var refused = new AtomicBoolean();
        holds.setThreadFactory(r -> {
            if (refused.compareAndSet(false, true)) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory (injected)");
            }
            return factory.newThread(r);
        });

        queue.send("order-1");

        assertThat(Await.until(LIMIT, () -> listener.stats().acked() >= 1)).as(listener.stats().line()).isTrue();
        assertThat(atOnce).as("its handler run twice at once").isFalse();
        assertThat(calls).as("the first try, then one retry").hasValue(2);
    }

    @Test
    void aDeadPollerThatCannotBeReplaced_isSaidDeadOnce_andItsReplacementsFailureOnce() throws Exception {
        try (var log = new CapturedLog()) {
            listener = Listener.builder(queue, new LineDecoder(), (e, d) -> Outcome.done())
                    .config(ListenerTest.fast().build()).build().start();
            var dead = Thread.ofPlatform().start(() -> { });
            dead.join();
            var rounds = new AtomicInteger();
            // the listener's pollers, as the lease keeper sees them: one dead, and no room to put another in its place
            var pollers = OwnThreads.class.getDeclaredField("pollers");
            pollers.setAccessible(true);
            pollers.set(threadsOf(listener), new AbstractList<Thread>() {
                @Override
                public Thread get(int index) {
                    return dead;
                }

                @Override
                public int size() {
                    return 1;
                }

                @Override
                public Thread set(int index, Thread replacement) {
                    rounds.incrementAndGet();
                    throw new UnsupportedOperationException("no room for a new poller (injected)");
                }
            });

            assertThat(Await.until(LIMIT, () -> rounds.get() >= 4)).as("the lease keeper's rounds").isTrue();
            assertThat(Await.until(LIMIT, () -> lines(log, "died; starting a new one") >= 1)).isTrue(); // written aside
            assertThat(lines(log, "died; starting a new one")).as("%s", log.lines).isEqualTo(1);
            assertThat(Await.until(LIMIT, () -> lines(log, "no new poller thread could be started") >= 1))
                    .as("%s", log.lines).isTrue();
            assertThat(lines(log, "no new poller thread could be started")).as("%s", log.lines).isEqualTo(1);
        }
    }
}
