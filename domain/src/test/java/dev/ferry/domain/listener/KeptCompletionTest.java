package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.FlakyLedger;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * skip-delete: a handler acks a delivery it kept while the ledger is down. The completion was only logged — never
 * owed as the engine's own are — and the event's next copy ran its effect again.
 */
class KeptCompletionTest {

    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void aHandlersAckWhoseCompletionFails_isOwed_soTheNextCopyFindsItDone() {
        var queue = InMemoryQueue.standard("kept");
        var ledger = new FlakyLedger(InMemoryLedger.create());
        var effects = new CopyOnWriteArrayList<String>();
        var kept = new AtomicReference<Delivery>();
        Handler keeping = (event, delivery) -> {
            effects.add(event.payloadAsString());
            kept.set(delivery);
            return Outcome.done();
        };
        listener = Listener.builder(queue, queue, new LineDecoder(), keeping).ledger(ledger)
                .config(ListenerTest.fast().skipDelete(true).lease(Duration.ofSeconds(30)).build()).build().start();
        queue.send("job-1");
        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().handedOver() == 1)).isTrue();

        ledger.fault(FlakyLedger.Fault.STORE_DOWN);
        listener.settle(kept.get(), Disposition.ACK); // its completion fails
        ledger.fault(FlakyLedger.Fault.NONE);         // and the ledger is back a moment later
        assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0 && queue.inFlightCount() == 0)).isTrue();

        queue.send("job-1"); // a copy (an SQS duplicate, a producer's resend)
        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().duplicatesDropped() == 1))
                .as("the copy found it done: " + listener.stats().line()).isTrue();
        assertThat(effects).as("its effect ran once").containsExactly("job-1");
    }
}
