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

    /** An exception whose message cannot be read (its {@code getMessage()} throws). */
    private static RuntimeException unprintable(String what) {
        return new RuntimeException() {
            @Override
            public String getMessage() {
                throw new IllegalStateException("unprintable " + what);
            }
        };
    }

    @Test
    void aDecoderFailureWhoseMessageThrows_isRetriedAndDeadLettered_notReleasedOnEveryPoll() {
        // described for the reason on the poller, it threw out of the poll's per-delivery step: the delivery was
        // released at once, no attempt counted — back on every poll, for ever, never dead-lettered
        var dlq = InMemoryQueue.standard("orders-dlq");
        var withDlq = InMemoryQueue.builder("orders-with-dlq").deadLetterQueue(dlq).build();
        listener = Listener.builder(withDlq, withDlq, delivery -> {
            throw unprintable("decoder failure");
        }, (event, delivery) -> Outcome.done()).config(ListenerTest.fast().build()).build().start();
        withDlq.send("order-2");

        assertThat(Await.until(Duration.ofSeconds(10), () -> dlq.size() == 1)).as(listener.stats().line()).isTrue();
        assertThat(dlq.messages().getFirst().attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .contains("the decoder threw");
        assertThat(withDlq.messages()).extracting(InMemoryQueue.Stored::receiveCount).as("dead-lettered, not going round")
                .isEmpty();
    }

    @Test
    void aLedgerCompletionFailureWhoseMessageThrows_isHeldAndRecordedLater_theEffectRunsOnce() {
        // described for the setback, it threw out of the completion before the delivery owed it: held as a handler's
        // throw with its claim no longer extended, the handler ran again — the effect twice
        var completes = new AtomicInteger();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (completes.incrementAndGet() == 1) {
                    throw unprintable("ledger failure");
                }
                return super.complete(key, token, ttl);
            }
        };
        var effects = new AtomicInteger();
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            effects.incrementAndGet();
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().build()).build().start();
        queue.send("order-3");

        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).as(listener.stats().line())
                .isTrue();
        assertThat(effects).as("the effect once; its completion recorded on the second try").hasValue(1);
        assertThat(completes).hasValueGreaterThanOrEqualTo(2);
    }
}
