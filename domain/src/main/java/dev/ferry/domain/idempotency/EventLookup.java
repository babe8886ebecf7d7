package dev.ferry.domain.idempotency;

import java.time.Instant;
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
     * What the reason of a dead letter owed begins with, under the message's id: decided, its copy refused by the
     * transport for a reason that passes (a dead-letter queue throttled, failing for seconds); noted again without it
     * once the copy is taken.
     */
    public static final String OWED = "owed, not yet out of the source queue (its copy to the dead-letter queue, or the "
            + "removal of the original, was refused; it goes to the dead-letter queue when it comes back): ";

    /** Whether a dead letter's reason says it is owed ({@link #OWED}): decided, its copy not yet taken. */
    public static boolean owed(String deadLetterReason) {
        return deadLetterReason != null && deadLetterReason.startsWith(OWED);
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
            if (journal != null && owedLast(journal)) { // its latest note: ids come again, a later message's is not it
                return "to be dead-lettered (decided; its copy not yet known taken: done when it comes back, if it is not in "
                        + "the dead-letter queue already)";
            }
            // the ledger holds no live entry: done events are forgotten after its TTL, while the journal is kept a week
            // from its last note, and its latest note says where the event stands — "failed, to be tried again" of an
            // event handled since had an operator send it again; "dead-lettered" of one moved back (a redrive, a group's
            // release) and failing since had them redrive it again, or look for it in the dead-letter queue
            Instant dead = journal == null || journal.deadLetterReason() == null ? null : at(journal.deadLetteredAt());
            Instant failed = journal == null || journal.failures() == 0 ? null : at(journal.lastFailure());
            if (journal != null && journal.duplicates() > 0 && (dead == null || !dead.isAfter(at(journal.lastDuplicate())))
                    && (failed == null || !failed.isAfter(at(journal.lastDuplicate())))) {
                return "done (delivered again as a duplicate since; no longer in the ledger, whose TTL has passed)";
            }
            if (dead != null && (failed == null || !failed.isAfter(dead))) {
                // a success leaves no note: one moved back since and done says the same once the ledger's TTL has passed
                return "dead-lettered (its last note; moved back since and done, an event leaves none after the ledger's "
                        + "TTL)";
            }
            if (dead != null) {
                return "failed since it was dead-lettered at " + dead + " (moved back since); not done as far as the "
                        + "ledger knows";
            }
            if (journal != null && journal.failures() > 0 && ledgerKey == null) {
                // only its decoder's failures were noted under the message: decoded and done since leaves nothing here
                return "not decoded when last tried (its decoder failed " + journal.failures() + " time(s)); whether it "
                        + "was decoded and done since is known by its event's key, not by this message id";
            }
            if (journal != null && journal.failures() > 0) {
                return "failed, not done as far as the ledger knows (it keeps done events for its TTL only)";
            }
            return "unknown";
        }
    }

    /** A note's time, the earliest there is when a journal written before it was kept has none. */
    private static Instant at(Instant noted) {
        return noted != null ? noted : Instant.MIN;
    }

    /** The event {@code eventKey} of ledger scope {@code scope} ({@link LedgerKeys#SHARED} for the shared one). */
    public static Optional<Report> event(IdempotencyLedger ledger, String scope, String eventKey) {
        return key(ledger, LedgerKeys.event(scope, eventKey));
    }

    /**
     * The event {@code eventKey} of ledger scope {@code scope} as source {@code source} reads it: a dead letter owed by
     * the message its journal names (decided, its copy or the original's removal refused) is shown owed, as
     * {@link #message} shows it, not "dead-lettered".
     */
    public static Optional<Report> event(IdempotencyLedger ledger, String scope, String eventKey, String source) {
        var found = event(ledger, scope, eventKey);
        var j = found.map(Report::journal).orElse(null);
        if (j == null || j.messageId() == null || !(ledger instanceof EventJournal journal)) {
            return found;
        }
        var byMessage = journal.journal(EventJournal.messageKey(source, j.messageId())).orElse(null);
        // the owed note names the message's first event still to run; the others of it dead-lettered with it are owed too
        return byMessage != null && (found.get().ledgerKey().equals(byMessage.eventKey())
                || sameDeadLetter(j, journal, byMessage)) ? Optional.of(owedOver(found.get(), byMessage)) : found;
    }

    /**
     * An event dead-lettered with the one the owed note names, in the same decision (every event of it noted at one
     * time): an older dead letter of the message's id (an id given again, a receive before a refusal) is not owed.
     */
    private static boolean sameDeadLetter(EventJournal.Journal event, EventJournal journal, EventJournal.Journal byMessage) {
        if (event.deadLetteredAt() == null || byMessage.eventKey() == null) {
            return false;
        }
        var named = journal.journal(byMessage.eventKey()).orElse(null);
        return named != null && event.deadLetteredAt().equals(named.deadLetteredAt());
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
        var found = key(ledger, byMessage.eventKey()).orElse(new Report(byMessage.eventKey(), null, byMessage));
        return Optional.of(owedOver(found, byMessage));
    }

    /** {@code found} with the dead letter its message owes, when the message's latest note says it is owed. */
    private static Report owedOver(Report found, EventJournal.Journal byMessage) {
        var j = found.journal();
        if (!owedLast(byMessage) || j == byMessage) {
            return found;
        }
        // the event's journal says "dead-lettered" from the decision on; the message's own note says the copy is owed
        j = j == null ? byMessage : new EventJournal.Journal(j.failures(), j.firstFailure(), j.lastFailure(), j.lastReason(),
                j.duplicates(), j.lastDuplicate(), byMessage.deadLetterReason(), byMessage.deadLetteredAt(), j.messageId(),
                j.eventKey());
        return new Report(found.ledgerKey(), found.state(), j);
    }

    /**
     * Whether the note under a message id is an owed dead letter, and its latest: ids come again (a plugin's source,
     * a topic made anew), and a later message of the same id that failed or came again is not the owed one.
     */
    private static boolean owedLast(EventJournal.Journal byMessage) {
        var at = byMessage.deadLetteredAt();
        return owed(byMessage.deadLetterReason()) && at != null
                && (byMessage.lastFailure() == null || !byMessage.lastFailure().isAfter(at))
                && (byMessage.lastDuplicate() == null || !byMessage.lastDuplicate().isAfter(at));
    }
}
