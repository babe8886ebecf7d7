package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A handler's failure that cannot be printed — its {@code getMessage()} throws (a lazily built message, a plugin's
 * bug), or its cause chain does — is a failure like any other. Described for the reason, it threw out of the
 * engine's step past the release of the event's claim: the delivery then waited on its own claim for ever, its
 * group behind it, no attempt counted.
 */
class UnprintableFailureTest {

    private final InMemoryQueue queue = InMemoryQueue.standard("orders");
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    /** The handler throws {@code first} on its first call and is done on its second: the message must be acked. */
    private void failsOnceWith(RuntimeException first) {
        var calls = new AtomicInteger();
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            if (calls.incrementAndGet() == 1) {
                throw first;
            }
            return Outcome.done();
        }).ledger(InMemoryLedger.create()).config(ListenerTest.fast().build()).build().start();
        queue.send("order-1");

        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).as(listener.stats().line())
                .isTrue();
        assertThat(calls).as("failed once, done the second time").hasValue(2);
    }

    @Test
    void aFailureWhoseMessageThrows_isAnAttemptLikeAnyOther_andTheMessageGoesOn() {
        failsOnceWith(new RuntimeException() {
            @Override
            public String getMessage() {
                throw new IllegalStateException("unprintable");
            }
        });
    }

    @Test
    void aFailureWhoseCauseThrows_isAnAttemptLikeAnyOther() {
        failsOnceWith(new RuntimeException("a cause that cannot be read") {
            @Override
            public synchronized Throwable getCause() {
                throw new IllegalStateException("no cause to be had");
            }
        });
    }

    @Test
    void aFailureWhoseCauseThrowsAnError_isAnAttemptLikeAnyOther() {
        failsOnceWith(new RuntimeException("a cause that fails hard") {
            @Override
            public synchronized Throwable getCause() {
                throw new AssertionError("no cause to be had (an Error)");
            }
        });
    }
}
