package dev.ferry.domain.idempotency;

import java.time.Instant;
import java.util.Optional;

/**
 * Port: what happened to an event besides its ledger state — failed attempts, duplicates, its dead
 * letter — so that an operator can ask "what happened to event X?" ({@code ferry events show}). A
 * ledger keeps it beside its keys; the listener writes to it only off the happy path (a failure, a
 * duplicate, a dead letter), so an event handled at the first try costs nothing more. Writes are
 * best effort: the listener logs a journal failure and goes on.
 *
 * <p>Entries are kept under the ledger key of the event ({@link LedgerKeys#event}) and, when the
 * transport gave the message an id, under {@link #messageKey} as well, so an event can be found by
 * either.
 */
public interface EventJournal {

    /** What the listener notes. */
    sealed interface Note {
        /** The event's ledger key (for an entry kept under a message id too), null when it has none. */
        String eventKey();

        String messageId();

        Instant at();

        /** An attempt that did not succeed: the handler's retry or rejection, or what it threw. */
        record Failed(String eventKey, String reason, String messageId, Instant at) implements Note {
        }

        /** A delivery of an event already done, dropped as a duplicate. */
        record Duplicate(String eventKey, String messageId, Instant at) implements Note {
        }

        /** The message went to the dead-letter destination. */
        record DeadLettered(String eventKey, String reason, String messageId, Instant at) implements Note {
        }
    }

    /** Adds {@code note} to the journal of {@code key} (created when absent). */
    void note(String key, Note note);

    /** The journal of {@code key}; empty when nothing was ever noted. */
    Optional<Journal> journal(String key);

    /** The journal key of a transport's message id, for a lookup by message id. */
    static String messageKey(String source, String messageId) {
        // bounded as a ledger key is: a message id is the transport's (an HTTP Idempotency-Key of 1,024 characters above
        // U+007F is 2,048 bytes), and DynamoDB refused the whole key past its 2,048, dropping the note
        return LedgerKeys.bounded("m:" + source.length() + ':' + source + ':' + messageId);
    }

    /**
     * What was noted of one event.
     *
     * @param failures        failed attempts
     * @param firstFailure    when the first failed, null when none did
     * @param lastFailure     when the last failed
     * @param lastReason      why the last failed
     * @param duplicates      deliveries dropped as duplicates
     * @param lastDuplicate   when the last was
     * @param deadLetterReason why it was dead-lettered, null when it was not
     * @param deadLetteredAt  when
     * @param messageId       the transport's id of the message last noted
     * @param eventKey        the event's ledger key (for an entry found by message id)
     */
    record Journal(long failures, Instant firstFailure, Instant lastFailure, String lastReason, long duplicates,
                   Instant lastDuplicate, String deadLetterReason, Instant deadLetteredAt, String messageId, String eventKey) {

        public static final Journal EMPTY = new Journal(0, null, null, null, 0, null, null, null, null, null);

        /** This journal with {@code note} added. */
        public Journal with(Note note) {
            String eventKey = note.eventKey() != null ? note.eventKey() : this.eventKey;
            return switch (note) {
                case Note.Failed f -> new Journal(failures + 1, firstFailure != null ? firstFailure : f.at(), f.at(),
                        f.reason(), duplicates, lastDuplicate, deadLetterReason, deadLetteredAt, f.messageId(), eventKey);
                case Note.Duplicate d -> new Journal(failures, firstFailure, lastFailure, lastReason, duplicates + 1, d.at(),
                        deadLetterReason, deadLetteredAt, d.messageId(), eventKey);
                case Note.DeadLettered x -> new Journal(failures, firstFailure, lastFailure, lastReason, duplicates,
                        lastDuplicate, x.reason(), x.at(), x.messageId(), eventKey);
            };
        }
    }
}
