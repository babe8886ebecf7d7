package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A message of several events whose first handler ran past the message's lease: the transport has
 * handed the message out again, so its copy takes the rest up. Running them here too would run them
 * twice, each with a claim of a millisecond that the copy's claim does not wait for.
 */
class StaleMidDeliveryTest {

    @Test
    void theEventsAfterOneThatRanPastTheLease_areLeftToTheCopy() {
        var queue = InMemoryQueue.standard("orders");
        var clock = MutableClock.startingNow();
        var handled = new CopyOnWriteArrayList<String>();
        Handler handler = (event, delivery) -> {
            handled.add(event.key());
            if (event.key().equals("first")) {
                clock.advance(Duration.ofSeconds(3)); // longer than the 2 s lease, which is not extended
            }
            return Outcome.done();
        };
        var listener = Listener.builder(queue, queue, new LineDecoder(), handler).ledger(InMemoryLedger.of(clock, 10_000))
                .clock(clock).config(ListenerTest.fast().extendLeases(false).build()).build().start();
        try {
            queue.send("first\nsecond\nthird");
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().staleDropped() == 1))
                    .as(listener.stats().line()).isTrue();
            assertThat(handled).as("the rest left to the copy").containsExactly("first");
        } finally {
            listener.stop();
        }
    }
}
