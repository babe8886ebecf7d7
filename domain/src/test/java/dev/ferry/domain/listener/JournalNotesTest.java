package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.ForwardingLedger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The journal's writer thread: whatever one note's write throws, the notes after it are written. */
class JournalNotesTest {

    /**
     * A plugin's journal threw, on one note, an exception whose {@code toString} threw too (a message
     * built from a field that was null): the warning about it threw out of the writer thread, which died,
     * and every later note of the source was queued and dropped unseen until a restart.
     */
    @Test
    void aNoteWhoseFailureCannotEvenBeDescribed_doesNotStopTheNotesAfterIt() {
        var ledger = new HostileJournal();
        var notes = new JournalNotes(ledger, "orders", null, Clock.systemUTC());
        try {
            notes.failed(item("{3F2504E0-first"), "key-1", "boom"); // braces: a message id is data, never a pattern
            notes.failed(item("second"), "key-2", "boom again");
            assertThat(Await.until(Duration.ofSeconds(10), () -> ledger.journal("key-2").isPresent()))
                    .as("the second note written after the first one's write failed").isTrue();
            assertThat(ledger.journal("key-2").orElseThrow().failures()).isEqualTo(1);
        } finally {
            notes.close(Duration.ofSeconds(5));
        }
    }

    @Test // a review: a plugin journal's note that left the writer interrupted ended it; later notes queued, dropped
    void aNoteThatLeavesTheWriterInterrupted_doesNotStopTheNotesAfterIt() {
        var inner = InMemoryLedger.create();
        var interrupting = new AtomicBoolean();
        class Interrupting extends ForwardingLedger implements EventJournal {
            Interrupting() {
                super(inner);
            }

            @Override
            public void note(String key, Note note) {
                inner.note(key, note);
                if (interrupting.compareAndSet(false, true)) {
                    Thread.currentThread().interrupt(); // a client that restores the flag of an interrupt it caused
                }
            }

            @Override
            public Optional<Journal> journal(String key) {
                return inner.journal(key);
            }
        }
        var notes = new JournalNotes(new Interrupting(), "orders", null, Clock.systemUTC());
        try {
            notes.failed(item("first"), "key-1", "boom");
            assertThat(Await.until(Duration.ofSeconds(10), () -> inner.journal("key-1").isPresent())).isTrue();
            Await.until(Duration.ofMillis(300), () -> false); // the writer idles with the flag left set
            notes.failed(item("second"), "key-2", "boom again");
            assertThat(Await.until(Duration.ofSeconds(10), () -> inner.journal("key-2").isPresent()))
                    .as("the note after the interrupting one written").isTrue();
        } finally {
            notes.close(Duration.ofSeconds(5));
        }
    }

    @Test // the stop closes the notes after waiting for the settler a while: a dead letter it owed later was not noted, and
          // its copy ran again after the restart
    void aDeadLetterOwedAfterTheNotesClosed_isStillNoted() {
        var ledger = InMemoryLedger.create();
        var notes = new JournalNotes(ledger, "orders", null, Clock.systemUTC());
        notes.failed(item("m0"), "key-0", "boom"); // the writer started
        notes.close(Duration.ofSeconds(5));

        var m1 = item("m1").delivery;
        notes.deadLetterOwed(m1, "refused downstream");

        var noted = ledger.journal(EventJournal.messageKey("orders", "m1"));
        assertThat(noted).isPresent();
        assertThat(noted.get().deadLetterReason())
                .isEqualTo(JournalNotes.OWED + JournalNotes.fingerprint(m1) + "refused downstream");
    }

    @Test // a review: an owed mark the journal refused is kept to be written again; the note that its dead letter was
          // taken, dropped as the journal was behind, left it kept: written once the journal answered, the journal said
          // "owed" for a message already in the DLQ
    void anOwedMarkKept_isForgottenOnceItsDeadLetterIsTaken_thoughTheNoteSayingSoIsDropped() {
        var inner = InMemoryLedger.create();
        var failing = new AtomicBoolean(true);
        var blocking = new AtomicBoolean();
        var unblocked = new java.util.concurrent.CountDownLatch(1);
        var writes = new java.util.concurrent.atomic.AtomicInteger();
        class Slow extends ForwardingLedger implements EventJournal {
            Slow() {
                super(inner);
            }

            @Override
            public void note(String key, Note note) {
                writes.incrementAndGet();
                if (blocking.get() && note instanceof Note.Failed) { // the mark's own retries fail at once, as before
                    try {
                        unblocked.await(20, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (failing.get()) {
                    throw new dev.ferry.domain.model.FerryException("journal down (injected)", true);
                }
                inner.note(key, note);
            }

            @Override
            public Optional<Journal> journal(String key) {
                return inner.journal(key);
            }
        }
        var notes = new JournalNotes(new Slow(), "orders", null, Clock.systemUTC());
        try {
            var m1 = item("m1").delivery;
            notes.deadLetterOwed(m1, "DLQ throttled");
            assertThat(Await.until(Duration.ofSeconds(10), () -> writes.get() >= 1)).as("the mark tried, refused").isTrue();
            blocking.set(true); // the journal slow now: the writer held in its next write, the queue fills behind it
            for (int i = 0; i <= JournalNotes.CAPACITY + 1; i++) {
                notes.failed(item("x-" + i), "key-x-" + i, "boom");
            }
            assertThat(notes.dropped()).as("the journal behind: notes dropped").isPositive();
            long before = notes.dropped();
            notes.deadLetterSettled(m1, "taken by the DLQ");
            assertThat(notes.dropped()).as("the note that it was taken, dropped too").isGreaterThan(before);

            failing.set(false);
            blocking.set(false);
            unblocked.countDown();
            String m1Key = EventJournal.messageKey("orders", "m1");
            assertThat(Await.until(Duration.ofSeconds(20), () -> inner.journal("key-x-" + (JournalNotes.CAPACITY - 1))
                    .isPresent())).as("the queue written").isTrue();
            assertThat(Await.until(Duration.ofSeconds(6), () -> inner.journal(m1Key).isPresent()))
                    .as("no owed mark written for a message whose dead letter was taken").isFalse();
        } finally {
            unblocked.countDown();
            notes.close(Duration.ofSeconds(5));
        }
    }

    private static InFlight item(String id) {
        var delivery = new Delivery(id, new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "orders", null);
        return new InFlight(delivery, List.of(), null, null, Instant.now().plusSeconds(60), Instant.now().plusSeconds(60));
    }

    /** An in-memory ledger whose journal's first note throws what cannot be turned into a string. */
    private static final class HostileJournal extends ForwardingLedger implements EventJournal {
        private final InMemoryLedger inner;
        private final AtomicBoolean thrown = new AtomicBoolean();

        HostileJournal() {
            this(InMemoryLedger.create());
        }

        private HostileJournal(InMemoryLedger inner) {
            super(inner);
            this.inner = inner;
        }

        @Override
        public void note(String key, Note note) {
            if (thrown.compareAndSet(false, true)) {
                throw new IllegalStateException() {
                    @Override
                    public String toString() {
                        throw new NullPointerException("a message built from a null field");
                    }
                };
            }
            inner.note(key, note);
        }

        @Override
        public Optional<Journal> journal(String key) {
            return inner.journal(key);
        }
    }
}
