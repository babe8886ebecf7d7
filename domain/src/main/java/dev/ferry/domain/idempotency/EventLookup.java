package dev.ferry.domain.idempotency;

import java.util.Optional;

/**
 * "What happened to event X?": the ledger's state of an event ({@link IdempotencyLedger#peek}) with
 * its journal ({@link EventJournal}), found by event key or by the transport's message id. What
 * {@code ferry events show} prints; an embedding application asks the same of its ledger.
 */
public final class EventLookup {

    private EventLookup() {
    }

    /**
     * What is known of one event.
     *
     * @param ledgerKey the event's ledger key
     * @param state     {@link Claim.Completed} (done, since when) or {@link Claim.InProgress} (being
     *                  handled, until when); null when the ledger holds no live entry
     * @param journal   failures, duplicates, dead letter; null when nothing was noted
     */
    public record Report(String ledgerKey, Claim state, EventJournal.Journal journal) {

        /** One word for where the event stands. */
        public String status() {
            if (state instanceof Claim.Completed) {
                return journal != null && journal.duplicates() > 0 ? "done (and delivered again as a duplicate)" : "done";
            }
            if (state instanceof Claim.InProgress) {
                return "in progress";
            }
            // the ledger holds no live entry: done events are forgotten after its TTL, while the journal is kept a week
            // from its last note — "failed, to be tried again" of an event handled since had an operator send it again
            if (journal != null && journal.duplicates() > 0) {
                return "done (delivered again as a duplicate since; no longer in the ledger, whose TTL has passed)";
            }
            if (journal != null && journal.deadLetterReason() != null) {
                return "dead-lettered";
            }
            if (journal != null && journal.failures() > 0) {
                return "failed, not done as far as the ledger knows (it keeps done events for its TTL only)";
            }
            return "unknown";
        }
    }

    /** The event {@code eventKey} of ledger scope {@code scope} ({@link LedgerKeys#SHARED} for the shared one). */
    public static Optional<Report> event(IdempotencyLedger ledger, String scope, String eventKey) {
        return key(ledger, LedgerKeys.event(scope, eventKey));
    }

    /** The event at ledger key {@code ledgerKey}. */
    public static Optional<Report> key(IdempotencyLedger ledger, String ledgerKey) {
        var state = ledger.peek(ledgerKey).orElse(null);
        var journal = ledger instanceof EventJournal j ? j.journal(ledgerKey).orElse(null) : null;
        return state == null && journal == null ? Optional.empty() : Optional.of(new Report(ledgerKey, state, journal));
    }

    /**
     * The event a message of {@code source} carried, by the transport's message id: known when
     * something was noted of it (a failure, a duplicate, a dead letter) — a message handled at its
     * first try leaves nothing under its id.
     */
    public static Optional<Report> message(IdempotencyLedger ledger, String source, String messageId) {
        if (!(ledger instanceof EventJournal journal)) {
            return Optional.empty();
        }
        var byMessage = journal.journal(EventJournal.messageKey(source, messageId)).orElse(null);
        if (byMessage == null) {
            return Optional.empty();
        }
        if (byMessage.eventKey() == null) { // not decoded: what was noted under the message is all there is
            return Optional.of(new Report(null, null, byMessage));
        }
        return key(ledger, byMessage.eventKey()).or(() -> Optional.of(new Report(byMessage.eventKey(), null, byMessage)));
    }
}
