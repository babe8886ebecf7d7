package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Durations a user writes to mean "for ever" (ChronoUnit.FOREVER, centuries) are for ever, not an overflow. */
class CenturiesTest {

    private static final Duration FOREVER = ChronoUnit.FOREVER.getDuration();

    @Test
    void anIdleTimeoutOfForever_isForever_notAnErrorOnEveryEmptyPoll() {
        var queue = InMemoryQueue.standard("forever");
        Set<String> handled = ConcurrentHashMap.newKeySet();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }).config(ListenerTest.fast().pollWait(Duration.ofMillis(50)).idleTimeout(FOREVER).build()).build();
        var logger = java.util.logging.Logger.getLogger(Listener.class.getName());
        var errors = new AtomicInteger();
        var counting = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) {
                    errors.incrementAndGet();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(counting);
        listener.start();
        try {
            Await.until(Duration.ofMillis(500), () -> false); // several empty polls, each checking the idle time
            queue.send("late");
            assertThat(Await.until(Duration.ofSeconds(10), () -> handled.contains("late"))).isTrue();
            assertThat(errors).as("no poller error on the idle check (it overflowed on every empty poll)").hasValue(0);
        } finally {
            logger.removeHandler(counting);
            listener.stop();
        }
    }

    @Test
    void awaitStop_ofForever_waitsForTheReport() throws Exception {
        var queue = InMemoryQueue.standard("await");
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().build()).build().start();
        listener.stop();
        assertThat(listener.awaitStop(FOREVER)).isPresent();
    }

    @Test
    void aBackoffCappedAtForever_retriesAfterItsDelay_insteadOfStrandingTheDelivery() {
        // Backoff.delay threw on a cap of FOREVER; the decision failed, the runner's fallback failed the same way, and the
        // delivery stayed in hand (its lease extended) for ever while the rest of its group was released past it
        var queue = InMemoryQueue.standard("forever-backoff.fifo");
        var seen = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            seen.add(event.key());
            return seen.size() == 1 ? Outcome.retry("once") : Outcome.done();
        }).config(ListenerTest.fast().retry(dev.ferry.domain.retry.RetryPolicy.of(5,
                new dev.ferry.domain.retry.Backoff(Duration.ofMillis(10), 2.0, FOREVER, dev.ferry.domain.retry.Jitter.NONE)))
                .build()).build().start();
        try {
            queue.send(new InMemoryQueue.Message("m1".getBytes(java.nio.charset.StandardCharsets.UTF_8), java.util.Map.of(), "g", "d1", null));
            queue.send(new InMemoryQueue.Message("m2".getBytes(java.nio.charset.StandardCharsets.UTF_8), java.util.Map.of(), "g", "d2", null));
            assertThat(Await.until(Duration.ofSeconds(10), () -> seen.size() == 3))
                    .as("m1 retried, then m2: " + seen + " " + listener.stats().line()).isTrue();
            assertThat(seen).containsExactly("m1", "m1", "m2");
        } finally {
            listener.stop();
        }
    }

    @Test
    void aLeaseOfForever_isRefusedWithItsName_andALongestThrottlePauseOfForeverPausesWithoutThrowing() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ListenerTest.fast().lease(FOREVER).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease must be at most");
        // a poll wait of for ever was taken, and every poll then threw (the sources count it in nanoseconds)
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ListenerTest.fast().pollWait(FOREVER).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pollWait must be at most");
        var intake = new Intake("x", Duration.ofSeconds(1), FOREVER, null);
        for (int i = 0; i < 30; i++) {
            intake.throttled(); // threw ArithmeticException, counted as the throttled message's own failure
        }
        var stopping = new java.util.concurrent.atomic.AtomicBoolean(true);
        var waited = new Thread(() -> {
            try {
                intake.awaitOpen(stopping::get);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waited.start();
        assertThat(Await.until(Duration.ofMillis(300), () -> !waited.isAlive())).as("paused").isFalse();
        stopping.set(false);
        assertThat(Await.until(Duration.ofSeconds(5), () -> !waited.isAlive())).as("a stop ends the pause").isTrue();
    }
}
