package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The wedge check watched a poller only inside the source's poll: a decoder that never returns (a schema
 * registry's lookup without a timeout, stuck on one message) held the poller as surely, intake stopped, and the
 * listener stayed live and ready, the message never reaching the processor to be dead-lettered.
 */
class HungDecoderTest {

    @Test
    void aDecoderThatNeverReturns_isAWedge_namedAsTheDecoders() throws Exception {
        var queue = InMemoryQueue.standard("orders");
        var hung = new CountDownLatch(1);
        var lines = new LineDecoder();
        Decoder hangsOnOne = delivery -> {
            if (new String(delivery.body(), StandardCharsets.UTF_8).equals("hang")) {
                try {
                    hung.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return lines.decode(delivery);
        };
        var listener = Listener.builder(queue, queue, hangsOnOne, (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().pollers(1).pollWait(Duration.ZERO).build()).build().start();
        try {
            queue.send("hang");
            assertThat(Await.until(Duration.ofSeconds(15), () -> !listener.wedges().isEmpty()))
                    .as("a wedge told within the poll's limit (5 s at pollWait 0)").isTrue();
            assertThat(listener.wedges()).singleElement().asString().startsWith("decoding a poll's messages")
                    .contains("has not returned for");
            assertThat(listener.health().ready()).isFalse();
        } finally {
            hung.countDown();
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.wedges().isEmpty() && queue.size() == 0))
                .as("once it returns, no wedge is left and the message is handled").isTrue();
        listener.stop();
    }

    @Test // a review of the fix: a batch stamped once, a slow decoder that progresses was a wedge past 5 s
    void aSlowDecoderThatProgresses_isNoWedge() throws Exception {
        var queue = InMemoryQueue.standard("orders");
        for (int i = 0; i < 100; i++) {
            queue.send("m" + i);
        }
        var lines = new LineDecoder();
        Decoder slow = delivery -> {
            try {
                Thread.sleep(70); // a schema registry's lookup each: a poll of 100 takes 7 s, each message well within
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return lines.decode(delivery);
        };
        var listener = Listener.builder(queue, queue, slow, (event, delivery) -> Outcome.done())
                .config(ListenerTest.fast().pollers(1).batchSize(100).maxInFlight(100).pollWait(Duration.ZERO).build())
                .build().start();
        try {
            var seen = new java.util.ArrayList<String>();
            Await.until(Duration.ofSeconds(8), () -> {
                seen.addAll(listener.wedges());
                return false;
            });
            assertThat(seen).as("no wedge while each message decodes in time").isEmpty();
        } finally {
            listener.stop();
        }
    }
}
