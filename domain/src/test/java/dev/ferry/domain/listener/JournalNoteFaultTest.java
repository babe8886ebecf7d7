package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.FaultyClock;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The event journal's notes never change what happens to a message: a note that throws — the clock read for its
 * time, no thread for its writer, no memory — is a note not written. It was the step's throw: a dead letter already
 * parked its group became a failed attempt, the handler ran again and acked the head, and the group stayed parked
 * behind a head that was never dead-lettered — every later message of it dead-lettered "behind" it.
 */
class JournalNoteFaultTest {

    private final InMemoryQueue dlq = InMemoryQueue.builder("trades-dlq.fifo").build();
    private final InMemoryQueue fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true)
            .deadLetterQueue(dlq).build();
    private final AtomicBoolean failOnce = new AtomicBoolean(true);
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    /** The system's clock, but its first read while a dead letter is noted in the journal runs out of memory. */
    private final Clock clock = FaultyClock.onceWithin(JournalNotes.class, "deadLettered", failOnce,
            new OutOfMemoryError("injected: while a note is made"));

    @Test
    void aDeadLetterWhoseJournalNoteThrows_isDeadLetteredAllTheSame_andItsGroupParkedBehindIt() {
        var calls = new AtomicInteger();
        Handler rejectsOnce = (event, delivery) -> calls.incrementAndGet() == 1 ? Outcome.reject("bad trade")
                : Outcome.done();
        listener = Listener.builder(fifo, fifo, new LineDecoder(), rejectsOnce).ledger(InMemoryLedger.create())
                .onPoison(OnPoison.PARK).clock(clock).config(ListenerTest.fast().build()).build().start();
        fifo.send(InMemoryQueue.Message.of("t-1", "G"));

        assertThat(Await.until(Duration.ofSeconds(10), () -> dlq.size() == 1 && fifo.size() == 0))
                .as("dead-lettered: " + listener.stats().line()).isTrue();
        assertThat(failOnce).as("the fault was injected").isFalse();
        assertThat(dlq.messages().getFirst().body()).isEqualTo("t-1");
        assertThat(calls).as("rejected once, not run again").hasValue(1);
    }
}
