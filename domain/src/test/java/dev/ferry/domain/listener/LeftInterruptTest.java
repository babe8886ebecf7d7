package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A plugin's acknowledger that leaves its thread interrupted (a client that restores the flag after
 * catching an interrupt it caused itself): the settler and the lease keeper are not interrupted by
 * anyone else while the listener runs, and ending on it ended every acknowledgement or every lease
 * extension for good — while the listener went on taking messages in.
 */
class LeftInterruptTest {

    /** An acknowledger over the queue that leaves its caller interrupted, once, in settle or in extendLeases. */
    private static Acknowledger interruptingOnce(InMemoryQueue queue, boolean inSettle) {
        var done = new AtomicBoolean();
        return new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                var failures = queue.settle(settlements);
                if (inSettle && done.compareAndSet(false, true)) {
                    Thread.currentThread().interrupt();
                }
                return failures;
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                var refused = queue.extendLeases(deliveries, lease);
                if (!inSettle && done.compareAndSet(false, true)) {
                    Thread.currentThread().interrupt();
                }
                return refused;
            }
        };
    }

    @Test
    void theSettler_goesOnAcknowledging() {
        var queue = InMemoryQueue.standard("orders");
        var listener = Listener.builder(queue, interruptingOnce(queue, true), new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().build()).build().start();
        try {
            queue.send("first");
            assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0)).as("the first acked").isTrue();
            Await.until(Duration.ofMillis(300), () -> false); // the settler idles with the flag left set
            queue.send("second");
            assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0))
                    .as("the second acked too: " + listener.stats().line() + " " + listener.health()).isTrue();
            assertThat(listener.health().ready()).as(listener.health().toString()).isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test
    void theLeaseKeeper_goesOnExtending() {
        var queue = InMemoryQueue.standard("orders");
        var handled = new CopyOnWriteArrayList<String>();
        var listener = Listener.builder(queue, interruptingOnce(queue, false), new LineDecoder(), (e, d) -> {
            handled.add(d.id());
            try {
                Thread.sleep(5_000); // two and a half leases: extended twice at least
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }).config(ListenerTest.fast().lease(Duration.ofSeconds(2)).build()).build().start();
        try {
            queue.send("slow");
            assertThat(Await.until(Duration.ofSeconds(15), () -> listener.stats().acked() == 1))
                    .as(listener.stats().line()).isTrue();
            assertThat(handled).as("handled once: its lease kept after the first extension " + listener.stats().line())
                    .hasSize(1);
            assertThat(listener.stats().leaseExtensions()).isGreaterThanOrEqualTo(2);
        } finally {
            listener.stop();
        }
    }
}
