package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An observer slow to be told of a poll's deliveries. Told before the poll's answer was timed, each delivery's lease was
 * reckoned from the end of the telling, not from the receive: the lease keeper first looked at them past the transport's
 * lease, and the copies handed out meanwhile ran beside the originals.
 */
class SlowObserverLeaseTest {

    private final InMemoryQueue queue = InMemoryQueue.standard("slow-observer");
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void anObserverSlowToBeToldOfAPoll_letsNoLeaseOfItLapseUnseen() {
        for (int i = 0; i < 10; i++) {
            queue.send("m" + i);
        }
        var handled = new CopyOnWriteArrayList<String>();
        ListenerObserver slow = new ListenerObserver() {
            @Override
            public void received(Delivery delivery) {
                pause(500); // ten of them: 5 s of an 8 s lease gone before the poll is in hand
            }
        };
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            pause(5_000); // running past the lease's end, unless the lease keeper kept it
            return Outcome.done();
        }).observer(slow).config(ListenerTest.fast().lease(Duration.ofSeconds(8)).batchSize(10).maxInFlight(30)
                .concurrency(10).pollers(2).build()).build().start();

        assertThat(Await.until(Duration.ofSeconds(40), () -> queue.size() == 0 && listener.stats().inFlight() == 0))
                .as(listener.stats().line()).isTrue();
        assertThat(handled).as("each once: no copy handed out while its original ran").hasSize(10).doesNotHaveDuplicates();
        assertThat(listener.stats().received()).as(listener.stats().line()).isEqualTo(10);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
