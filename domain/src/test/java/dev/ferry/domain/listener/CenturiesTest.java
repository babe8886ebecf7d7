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
}
