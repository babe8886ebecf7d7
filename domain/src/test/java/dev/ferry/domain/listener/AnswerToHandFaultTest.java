package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.FaultyClock;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What is thrown between a poll's answer and its deliveries taken in hand — the clock read there (an injected one),
 * an {@code OutOfMemoryError} under a burst of large bodies: the deliveries are given back and the window's places
 * freed. They were stranded (an SQS message back after its lease, a Kafka partition's commits stopped for ever),
 * and each time the window shrank for good: at nought, the listener polled nothing and no check said so.
 */
class AnswerToHandFaultTest {

    /** Set on the poller's thread by a poll that brought something, while {@link #failNext} is armed. */
    private static final ThreadLocal<Boolean> JUST_POLLED = ThreadLocal.withInitial(() -> false);

    private final InMemoryQueue queue = InMemoryQueue.standard("orders");
    private final AtomicBoolean failNext = new AtomicBoolean(true);
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    /** The queue, marking the first poll that brings something. */
    private final Source source = new Source() {
        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public List<Delivery> poll(PollRequest request) {
            var got = queue.poll(request);
            if (!got.isEmpty() && failNext.compareAndSet(true, false)) {
                JUST_POLLED.set(true);
            }
            return got;
        }
    };

    /** The system's clock, but the first read on a thread right after that poll runs out of memory. */
    private static final Clock CLOCK = new FaultyClock(() -> {
        if (!JUST_POLLED.get()) {
            return null;
        }
        JUST_POLLED.set(false);
        return new OutOfMemoryError("injected: between the poll's answer and the hand");
    });

    @Test
    void anErrorBetweenThePollsAnswerAndTheHand_givesTheDeliveriesBack_andTheWindowKeepsItsPlaces() {
        var handled = new CopyOnWriteArrayList<String>();
        listener = Listener.builder(source, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.payloadAsString());
            return Outcome.done();
        }).clock(CLOCK).config(ListenerTest.fast().maxInFlight(1).batchSize(1).lease(Duration.ofMinutes(5)).build())
                .build().start();
        queue.send("a");
        queue.send("b");

        assertThat(Await.until(Duration.ofSeconds(10), () -> handled.contains("a") && handled.contains("b")))
                .as("both handled, not the first stranded for its 5-minute lease and the window's one place gone; "
                        + listener.stats().line()).isTrue();
        assertThat(failNext).as("the fault was injected").isFalse();
    }
}
