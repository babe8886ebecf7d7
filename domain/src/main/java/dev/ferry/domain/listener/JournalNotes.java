package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import java.lang.System.Logger.Level;
import java.time.Clock;

/**
 * What the processor notes in the ledger's {@link EventJournal} off the happy path — a failed
 * attempt, a duplicate, a dead letter — under the event's ledger key and its message id. Best
 * effort: a journal that fails is logged, never allowed to change what happens to the message.
 */
final class JournalNotes {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final EventJournal journal;
    private final String source;
    private final String ledgerScope;
    private final Clock clock;
    private volatile long lastWarning;

    JournalNotes(IdempotencyLedger ledger, String source, String ledgerScope, Clock clock) {
        this.journal = ledger instanceof EventJournal j ? j : null;
        this.source = source;
        this.ledgerScope = ledgerScope;
        this.clock = clock;
    }

    /** The longest reason kept: a journal entry is an item of a store, and stores bound them. */
    private static final int MAX_REASON = 2_000;

    void failed(InFlight item, String ledgerKey, String reason) {
        if (journal != null) {
            note(item, new EventJournal.Note.Failed(ledgerKey, cut(reason), item.delivery.id(), clock.instant()));
        }
    }

    private static String cut(String reason) {
        return reason == null || reason.length() <= MAX_REASON ? reason : reason.substring(0, MAX_REASON) + "…";
    }

    void duplicate(InFlight item, String ledgerKey) {
        if (journal != null) {
            note(item, new EventJournal.Note.Duplicate(ledgerKey, item.delivery.id(), clock.instant()));
        }
    }

    void deadLettered(InFlight item, String reason) {
        if (journal != null) {
            note(item, new EventJournal.Note.DeadLettered(currentKey(item), cut(reason), item.delivery.id(), clock.instant()));
        }
    }

    /** The ledger key of the event the delivery is at; null when it could not be decoded. */
    private String currentKey(InFlight item) {
        if (item.events == null || item.events.isEmpty()) {
            return null;
        }
        var event = item.events.get(Math.min(item.nextEvent, item.events.size() - 1));
        return LedgerKeys.event(ledgerScope != null ? ledgerScope : item.delivery.source(), event.key());
    }

    private void note(InFlight item, EventJournal.Note note) {
        try {
            if (note.eventKey() != null) {
                journal.note(note.eventKey(), note);
            }
            if (item.delivery.id() != null) {
                journal.note(EventJournal.messageKey(source, item.delivery.id()), note);
            }
        } catch (Throwable e) {
            long now = System.nanoTime();
            if (now - lastWarning > 60_000_000_000L) { // at most a line a minute: the journal is for looking back
                lastWarning = now;
                LOG.log(Level.WARNING, "the event journal of ''{0}'' failed; what happened to message {1} is not "
                        + "recorded: {2}", source, item.delivery.id(), String.valueOf(e));
            }
        }
    }
}
