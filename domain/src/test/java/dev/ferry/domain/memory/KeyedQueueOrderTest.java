package dev.ferry.domain.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A keyed {@link InMemoryQueue} under a running listener keeps each key's order as a Kafka source does: a retry put
 * back on the queue holds its key, and the key's later message waits for it.
 */
class KeyedQueueOrderTest {

    private static final Duration LIMIT = Duration.ofSeconds(15);

    @Test // a review: a1 failed once and was put back for 300 ms (past the hold limit); the engine released a2 behind it,
          // the keyed queue handed a2 out at the next poll, and a2 was done before a1 — on Kafka the key is held meanwhile
    void aKeysLaterMessage_waitsForItsElderToComeBackFromARetry_andIsDoneAfterIt() {
        var queue = InMemoryQueue.builder("k").keyed().build();
        var done = new CopyOnWriteArrayList<String>();
        var a1Attempts = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("a1") && a1Attempts.incrementAndGet() == 1) {
                return Outcome.retry("a1's first attempt fails");
            }
            done.add(event.key());
            return Outcome.done();
        };
        queue.send(InMemoryQueue.Message.of("a1", "A")); // sent before the start: both in the first poll, a1 ahead
        queue.send(InMemoryQueue.Message.of("a2", "A"));
        var config = ListenerConfig.builder()
                .pollWait(Duration.ofMillis(50))
                .holdLimit(Duration.ofMillis(50)) // a 300 ms backoff is past it: a1 goes back to the queue (Redeliver)
                .retry(RetryPolicy.of(3, Backoff.fixed(Duration.ofMillis(300))))
                .shutdownDeadline(Duration.ofSeconds(5))
                .build();
        var listener = Listener.builder(queue, new LineDecoder(), handler).config(config).build().start();
        try {
            assertThat(Await.until(LIMIT, () -> done.size() == 2)).as("both done within %s", LIMIT).isTrue();
            assertThat(done).as("a2 after its elder, back from its retry").containsExactly("a1", "a2");
            assertThat(a1Attempts).as("a1 failed once, then was done").hasValue(2);
            assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as("both acked").isTrue();
        } finally {
            listener.close();
        }
    }
}
