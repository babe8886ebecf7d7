package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An Error (no memory) where a poll's taking in hand is made. Made after the poll's answer, outside the poll's guard
 * and before the take's, it stranded the whole poll: the window's places never given back (at nought, nothing polled
 * again) and its deliveries never settled (a Kafka key blocked for good). Made before the places are taken, nothing
 * is held yet. See {@link AnswerToHandFaultTest} for a throw inside the take.
 */
class TakingFaultTest {

    private static final Duration LIMIT = Duration.ofSeconds(10);

    private final InMemoryQueue queue = InMemoryQueue.standard("taking-fault");
    private final AtomicBoolean armed = new AtomicBoolean(true);
    private Listener listener;

    @AfterEach
    void stop() {
        Poller.takingFault = null;
        if (listener != null) {
            listener.stop();
        }
    }

    private static Capacity capacityOf(Listener listener) throws ReflectiveOperationException {
        var hands = Listener.class.getDeclaredField("hands");
        hands.setAccessible(true);
        return ((Hands) hands.get(listener)).capacity();
    }

    @Test
    void anErrorWhereAPollsTakingIsMade_strandsNeitherTheWindowsPlaceNorTheDelivery() throws Exception {
        String ours = "ferry-" + queue.name() + "-poller"; // this listener's pollers only, once
        Poller.takingFault = () -> {
            if (Thread.currentThread().getName().startsWith(ours) && armed.compareAndSet(true, false)) {
                throw new OutOfMemoryError("injected: where a poll's taking in hand is made");
            }
        };
        var handled = new CopyOnWriteArrayList<String>();
        queue.send("a"); // there at the first poll: the one the first taking was made for
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }).config(ListenerTest.fast().maxInFlight(1).batchSize(1).lease(Duration.ofMinutes(5)).build())
                .build().start();

        assertThat(Await.until(LIMIT, () -> handled.contains("a")))
                .as("handled, not stranded for its 5-minute lease; " + listener.stats().line()).isTrue();
        assertThat(armed).as("the fault was injected").isFalse();
        queue.send("b");
        assertThat(Await.until(LIMIT, () -> handled.contains("b") && queue.size() == 0))
                .as("the window's one place came back: polled again; " + listener.stats().line()).isTrue();
        assertThat(handled).as("each handled once").containsExactly("a", "b");

        listener.stop();
        var capacity = capacityOf(listener);
        assertThat(Await.until(LIMIT, () -> capacity.used() == 0)).as("no place of the window held").isTrue();
    }
}
