package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Short polls ({@code pollWait} 0) of an empty source answer at once: the poller asked again at once,
 * spinning a core — on SQS, hundreds of paid requests a second for an idle queue.
 */
class ShortPollTest {

    @Test
    void shortPollsOfAnEmptySource_pauseBetweenThem_andAMessageIsStillTaken() {
        var queue = InMemoryQueue.standard("idle");
        var listener = Listener.builder(queue, new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().pollWait(Duration.ZERO).build()).build().start();
        try {
            Await.until(Duration.ofSeconds(2), () -> false);
            long polls = listener.stats().polls();
            assertThat(polls).as("10 ms doubling to 1 s: about eight polls in two seconds, not thousands")
                    .isBetween(2L, 30L);

            queue.send("order-1"); // taken after the pause under way (a second at most)
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).isTrue();
        } finally {
            listener.stop();
        }
    }
}
