package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Observers that outlast the stop, and the settlements made on the threads it interrupted. */
class LateSettlementTest {

    private static final Duration LIMIT = Duration.ofSeconds(15);

    private final InMemoryQueue queue = InMemoryQueue.standard("orders");

    @Test // a review: the stop interrupted the worker, and the settlement's send after the stop gave up at once
    void anAckWhoseObserverOutlastsTheStop_isStillSent_thoughTheStopInterruptedItsThread() throws Exception {
        var entered = new CountDownLatch(1);
        var letGo = new CountDownLatch(1);
        var observer = new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                entered.countDown();
                boolean interrupted = false;
                while (true) { // a call that does not answer to interrupts (a metrics client's socket write)
                    try {
                        letGo.await();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        var l = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.done()).observer(observer)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(50)).lease(Duration.ofSeconds(60)).concurrency(2)
                        .shutdownDeadline(Duration.ofMillis(200)).build()).build().start();
        queue.send("a");
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture.supplyAsync(l::stop).get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        letGo.countDown();

        assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0))
                .as("acked, not left to its 60 s lease: " + queue.messages()).isTrue();
    }
}
