package dev.ferry.domain.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.EventJournal.Note;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises of a ledger that keeps an {@link EventJournal} and answers
 * {@link IdempotencyLedger#peek}: notes add up (from many threads too), every string comes back as
 * written, and peek tells in progress from done without changing either.
 */
public abstract class EventJournalContract {

    protected MutableClock clock;
    private IdempotencyLedger ledger;
    private EventJournal journal;

    /** A fresh ledger, reading time from {@code clock}, that is also an {@link EventJournal}. */
    protected abstract IdempotencyLedger newLedger(MutableClock clock);

    @BeforeEach
    void setUpJournal() {
        clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
        ledger = newLedger(clock);
        journal = (EventJournal) ledger;
    }

    private static String key() {
        return "e:6:orders:" + UUID.randomUUID();
    }

    @Test
    void nothingNoted_isEmpty() {
        assertThat(journal.journal(key())).isEmpty();
    }

    @Test
    void notes_addUp_andComeBackAsWritten() {
        String key = key();
        var t0 = clock.instant();
        String odd = "HTTP 503: \"busy\"; retry | later: 12:34 ünï\ncode #";
        journal.note(key, new Note.Failed(key, odd, "msg-1", t0));
        journal.note(key, new Note.Failed(key, "second", "msg-2", t0.plusSeconds(3)));
        journal.note(key, new Note.Duplicate(key, "msg-3", t0.plusSeconds(5)));
        journal.note(key, new Note.DeadLettered(key, odd, "msg-3", t0.plusSeconds(9)));

        var j = journal.journal(key).orElseThrow();
        assertThat(j.failures()).isEqualTo(2);
        assertThat(j.firstFailure()).isEqualTo(t0);
        assertThat(j.lastFailure()).isEqualTo(t0.plusSeconds(3));
        assertThat(j.lastReason()).isEqualTo("second");
        assertThat(j.duplicates()).isEqualTo(1);
        assertThat(j.lastDuplicate()).isEqualTo(t0.plusSeconds(5));
        assertThat(j.deadLetterReason()).isEqualTo(odd);
        assertThat(j.deadLetteredAt()).isEqualTo(t0.plusSeconds(9));
        assertThat(j.messageId()).isEqualTo("msg-3");
        assertThat(j.eventKey()).isEqualTo(key);
    }

    @Test
    void aNoteUnderAMessageId_pointsAtItsEvent_orAtNothingWhenItHadNone() {
        String key = key();
        String byMessage = EventJournal.messageKey("orders", "msg-" + UUID.randomUUID());
        journal.note(byMessage, new Note.Failed(key, "why", "m", clock.instant()));
        assertThat(journal.journal(byMessage).orElseThrow().eventKey()).isEqualTo(key);

        String undecoded = EventJournal.messageKey("orders", "msg-" + UUID.randomUUID());
        journal.note(undecoded, new Note.DeadLettered(null, "malformed: not JSON", "m2", clock.instant()));
        assertThat(journal.journal(undecoded).orElseThrow().eventKey()).isNull();
    }

    @Test // a review: a message id's key was not bounded — 1,024 characters above U+007F are 2,048 UTF-8 bytes, past
          // DynamoDB's key limit once prefixed, and the note was dropped
    void aNoteUnderALongMessageId_isKept_andFound() {
        String id = "\u00e9".repeat(1024);
        String byMessage = EventJournal.messageKey("orders", id);
        assertThat(byMessage.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                .isLessThanOrEqualTo(dev.ferry.domain.idempotency.LedgerKeys.MAX_LENGTH);
        journal.note(byMessage, new Note.DeadLettered(null, "malformed: not JSON", id, clock.instant()));
        assertThat(journal.journal(byMessage).orElseThrow().messageId()).isEqualTo(id);
        assertThat(EventJournal.messageKey("orders", id)).as("the same key every time").isEqualTo(byMessage);
    }

    @Test
    void notesFromManyThreads_areEachCounted() throws Exception {
        String key = key();
        int threads = 4;
        int each = 25;
        Concurrently.together(threads, n -> {
            for (int i = 0; i < each; i++) {
                journal.note(key, new Note.Failed(key, "r", "m", clock.instant()));
            }
        });
        assertThat(journal.journal(key).orElseThrow().failures()).isEqualTo(threads * each);
    }

    /**
     * A dead letter noted again under one key keeps the last reason: the engine marks a dead letter it owes by noting
     * it again (its copy refused), and clears the mark so. A journal that kept the first reason (a write "if absent")
     * ran an owed copy again, after its group's later messages, or held it owed for ever.
     */
    @Test
    void aDeadLetterNotedAgain_keepsTheLastReason() {
        String key = key();
        journal.note(key, new Note.DeadLettered(key, "plain", "m1", clock.instant()));
        journal.note(key, new Note.DeadLettered(key, "owed: the copy was refused", "m1", clock.instant()));
        assertThat(journal.journal(key)).hasValueSatisfying(j -> assertThat(j.deadLetterReason())
                .isEqualTo("owed: the copy was refused"));
        journal.note(key, new Note.DeadLettered(key, "copied at last", "m1", clock.instant()));
        assertThat(journal.journal(key)).hasValueSatisfying(j -> assertThat(j.deadLetterReason()).isEqualTo("copied at last"));
    }

    @Test
    void peek_tellsInProgressFromDone_andChangesNeither() {
        String key = key();
        assertThat(ledger.peek(key)).isEmpty();
        var acquired = (Claim.Acquired) ledger.claim(key, Duration.ofSeconds(30));
        assertThat(ledger.peek(key)).containsInstanceOf(Claim.InProgress.class);
        assertThat(ledger.peek(key)).containsInstanceOf(Claim.InProgress.class);
        assertThat(ledger.complete(key, acquired.token(), Duration.ofHours(1))).as("peek did not take the claim").isTrue();
        assertThat(ledger.peek(key)).hasValueSatisfying(c -> assertThat(c).isInstanceOf(Claim.Completed.class));
        clock.advance(Duration.ofHours(2));
        assertThat(ledger.peek(key)).as("expired").isEmpty();
    }
}
