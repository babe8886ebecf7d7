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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A keyed {@link InMemoryQueue} under a running listener keeps each key's order as a Kafka source does: a retry put
 * back on the queue holds its key, and the key's later message waits for it; one without a key holds the whole queue,
 * as Kafka its partition.
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

    @Test // a review: a message without a key put back for a retry held nothing on the keyed queue, and k1, due meanwhile,
          // was handed out and done while it waited; Kafka hands nothing of the partition out until such a record is back
    void aMessageWithoutAKey_putBackForARetry_holdsTheKeyedQueueUntilItComesBack_asKafkaHoldsItsPartition() {
        var queue = InMemoryQueue.builder("k").keyed().build();
        var retry = Duration.ofSeconds(3);
        var failedAt = new AtomicLong();
        var doneAt = new ConcurrentHashMap<String, Long>();
        var uAttempts = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("u") && uAttempts.incrementAndGet() == 1) {
                failedAt.set(System.nanoTime());
                // k1, a later message of a key none out holds, is due in a second: while u waits out its retry, put back
                // (Redeliver, 3 s) within moments of this answer
                queue.send(InMemoryQueue.Message.of("k1", "A").withDelay(Duration.ofSeconds(1)));
                return Outcome.retry("u's first attempt fails");
            }
            doneAt.put(event.key(), System.nanoTime());
            return Outcome.done();
        };
        queue.send(InMemoryQueue.Message.of("u"));
        var config = ListenerConfig.builder()
                .pollWait(Duration.ofMillis(50))
                .holdLimit(Duration.ofMillis(50)) // a 3 s backoff is past it: u goes back to the queue (Redeliver)
                .retry(RetryPolicy.of(3, Backoff.fixed(retry)))
                .shutdownDeadline(Duration.ofSeconds(5))
                .build();
        var listener = Listener.builder(queue, new LineDecoder(), handler).config(config).build().start();
        try {
            assertThat(Await.until(LIMIT, () -> doneAt.size() == 2)).as("both done within %s", LIMIT).isTrue();
            assertThat(uAttempts).as("u failed once, then was done").hasValue(2);
            // the queue's clock is the wall's, this the JVM's: 100 ms for them to differ by; without the hold k1 was done
            // about a second after u failed
            assertThat(Duration.ofNanos(doneAt.get("k1") - failedAt.get())).as("k1 waited for u to come back")
                    .isGreaterThanOrEqualTo(retry.minusMillis(100));
        } finally {
            listener.close();
        }
    }
}
