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

    @Test // a review: a source that answers "nothing" at once whatever the wait (a plugin's poll that never blocks) was
          // polled again at once while pollWait was not 0: a core spun
    void aSourceThatAnswersAtOnceWhateverTheWait_isNotPolledInASpin() {
        var queue = InMemoryQueue.standard("idle");
        var listener = Listener.builder(new AtOnce(queue, 0), new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().pollWait(Duration.ofSeconds(1)).build()).build().start();
        try {
            Await.until(Duration.ofSeconds(2), () -> false);
            assertThat(listener.stats().polls()).as("10 ms doubling to the poll wait (1 s): a handful, not thousands")
                    .isBetween(2L, 40L);

            queue.send("order-1");
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test // a review of the fix: an SQS receive whose every message screening refused (a flood of foreign senders) comes
          // back empty in a round trip; paused as an idle queue, each poller screened ten messages a second
    void aSourceThatAnswersEmptyAfterARoundTrip_isNotPaused() {
        var queue = InMemoryQueue.standard("screened");
        var listener = Listener.builder(new AtOnce(queue, 3), new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().pollWait(Duration.ofSeconds(20)).build()).build().start();
        try {
            Await.until(Duration.ofSeconds(1), () -> false);
            assertThat(listener.stats().polls()).as("a poll every round trip (3 ms), not a pause after each")
                    .isGreaterThan(60L);
        } finally {
            listener.stop();
        }
    }

    /** {@code queue}, polled without waiting whatever the request says, answered after {@code roundTripMillis}. */
    private record AtOnce(InMemoryQueue queue, long roundTripMillis) implements dev.ferry.domain.transport.Source,
            dev.ferry.domain.transport.Acknowledger {
        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public java.util.List<dev.ferry.domain.model.Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
            if (roundTripMillis > 0) {
                try {
                    Thread.sleep(roundTripMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return java.util.List.of();
                }
            }
            return queue.poll(new dev.ferry.domain.transport.PollRequest(request.maxMessages(), Duration.ZERO, request.lease()));
        }

        @Override
        public java.util.List<dev.ferry.domain.transport.Settlement.Failure> settle(
                java.util.List<dev.ferry.domain.transport.Settlement> settlements) {
            return queue.settle(settlements);
        }

        @Override
        public java.util.List<dev.ferry.domain.model.Delivery> extendLeases(
                java.util.List<dev.ferry.domain.model.Delivery> deliveries, Duration lease) {
            return queue.extendLeases(deliveries, lease);
        }

        @Override
        public void close() {
        }
    }
}
