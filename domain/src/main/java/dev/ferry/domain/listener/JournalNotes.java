package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.model.Delivery;
import java.lang.System.Logger.Level;
import java.time.Clock;

/**
 * What the processor notes in the ledger's {@link EventJournal} off the happy path — a failed
 * attempt, a duplicate, a dead letter — under the event's ledger key and its message id. Written
 * by a thread of its own from a bounded queue, in the order noted, so a slow or failing journal
 * (a throttled table) never holds up a worker: when the queue is full, notes are dropped and
 * counted. Best effort: a journal that fails is logged, never allowed to change what happens to
 * the message — but an owed dead letter's mark that fails is kept and tried again ({@link KeptMarks}): lost, its copy
 * back elsewhere ran after its group's later messages. At shutdown what is queued gets a moment to be written.
 */
final class JournalNotes {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final EventJournal journal;
    private final String source;
    private final String ledgerScope;
    private final Clock clock;
    private final java.util.concurrent.BlockingQueue<Pending> queue = new java.util.concurrent.ArrayBlockingQueue<>(CAPACITY);
    private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Thread writer;
    private volatile boolean closed;
    private volatile long lastWarning;
    /** Owed marks whose write failed, tried again by the writer; see {@link KeptMarks}. */
    private final KeptMarks<Pending> kept = new KeptMarks<>();
    /** Set by the stop before {@link #closed}: the writer tries the marks kept until then at most. */
    private volatile long closeBy;
    private final AsideLog aside = new AsideLog("ferry-journal-log");

    /** Notes waiting to be written at most; beyond, new ones are dropped (and counted). */
    static final int CAPACITY = 10_000;

    /** {@code messageOnly}: written under the message's id alone, its event key kept only to find the event by. */
    private record Pending(String messageId, EventJournal.Note note, boolean messageOnly) {
    }

    JournalNotes(IdempotencyLedger ledger, String source, String ledgerScope, Clock clock) {
        this(ledger, source, ledgerScope, clock, true);
    }

    private JournalNotes(IdempotencyLedger ledger, String source, String ledgerScope, Clock clock, boolean readsOwed) {
        this.journal = ledger instanceof EventJournal j ? j : null;
        this.source = source;
        this.ledgerScope = ledgerScope;
        this.clock = clock;
        this.readsOwed = readsOwed;
    }

    /** The listener's notes, the dead letters its settler owes among them. */
    static JournalNotes of(Processor.Shared s) {
        // only a transport that hands a message out again (SQS) gives it an id no other message ever has, and counts its
        // receives across instances: Kafka's ids (topic-partition@offset) come again in a topic made anew, and its count
        // of receives, like HTTP's, starts again at 1 wherever a record is read again
        var notes = new JournalNotes(s.ledger(), s.name(), s.ledgerScope(), s.clock(), s.redelivers());
        s.failureCounts().onOwed(notes::deadLetterOwed);
        s.failureCounts().onDeadLetterSettled(notes::deadLetterSettled);
        return notes;
    }

    /** The longest reason kept: a journal entry is an item of a store, and stores bound them. */
    private static final int MAX_REASON = 2_000;

    void failed(InFlight item, String ledgerKey, String reason) {
        if (journal != null) {
            noted(() -> note(item, new EventJournal.Note.Failed(ledgerKey, cut(reason), item.delivery.id(), clock.instant())));
        }
    }

    /**
     * A decoder that threw: no event to note it under, so under the message's id alone. Unnoted, a schema registry
     * down showed nothing for a message until it was dead-lettered: {@code events show --message-id} said "never seen".
     */
    void decodeFailed(InFlight item, String reason) {
        if (journal != null) {
            noted(() -> note(item, new EventJournal.Note.Failed(null, cut(reason), item.delivery.id(), clock.instant())));
        }
    }

    /**
     * Makes a note on the caller's thread, never throwing: a note that cannot be made (the clock, no thread for the
     * writer, no memory) is a note not written — it must never change what happens to the message. Thrown, it was the
     * step's throw: a dead letter that had parked its group became a failed attempt, run again and acked.
     */
    private void noted(Runnable making) {
        try {
            making.run();
        } catch (Throwable e) {
            dropped.incrementAndGet();
            try {
                warn("the event journal of ''{0}'' could not take a note; {1} note(s) dropped so far: {2}", dropped.get(),
                        describe(e));
            } catch (Throwable again) { // no memory even for that
            }
        }
    }

    static String cut(String reason) {
        return reason == null || reason.length() <= MAX_REASON ? reason : reason.substring(0, MAX_REASON) + "…";
    }

    void duplicate(InFlight item, String ledgerKey) {
        if (journal != null) {
            noted(() -> note(item, new EventJournal.Note.Duplicate(ledgerKey, item.delivery.id(), clock.instant())));
        }
    }

    /**
     * Under every event the delivery had not finished — the one it is at and those after it, which go
     * to the dead-letter queue with it — and once under its message id; under the message id alone when
     * it could not be decoded.
     */
    void deadLettered(InFlight item, String reason) {
        if (journal != null) {
            noted(() -> deadLetteredNow(item, reason));
        }
    }

    private void deadLetteredNow(InFlight item, String reason) {
        String why = cut(reason);
        var now = clock.instant();
        String id = item.delivery.id();
        // under the message's id, owed until its copy is taken (deadLetterSettled): its group's next goes on from here, and
        // a copy back after a kill -9, a stop that gave the copy up or a send that hung found the decision noted plainly (an
        // owed mark written over), and ran after it. Only where ids are never given again (readsOwed)
        boolean owedUntilTaken = readsOwed && id != null;
        String firstKey = null;
        if (item.events != null && !item.events.isEmpty()) {
            String scope = ledgerScope != null ? ledgerScope : item.delivery.source();
            int first = Math.min(item.nextEvent, item.events.size() - 1);
            firstKey = LedgerKeys.event(scope, item.events.get(first).key());
            for (int i = first; i < item.events.size(); i++) {
                var note = new EventJournal.Note.DeadLettered(LedgerKeys.event(scope, item.events.get(i).key()), why, id, now);
                note(i == first && !owedUntilTaken ? id : null, note);
            }
        } else if (!owedUntilTaken) {
            note(id, new EventJournal.Note.DeadLettered(null, why, id, now));
        }
        if (owedUntilTaken) {
            queued(new Pending(id, new EventJournal.Note.DeadLettered(firstKey, cut(OWED + fingerprint(item.delivery) + reason),
                    id, now), true));
        }
    }

    /** The dead letter of {@code delivery} taken by the transport, or refused for good: no longer owed. Never throws. */
    void deadLetterSettled(Delivery delivery, String reason) {
        String messageId = delivery.id();
        if (journal != null && readsOwed && messageId != null) {
            noted(() -> {
                var done = new EventJournal.Note.DeadLettered(null, cut(reason), messageId, clock.instant());
                // nor may the writer write its owed mark, still kept, over this — nor after it when this note is dropped
                kept.forget(messageId); // (the journal behind): the mark said owed for a message in the DLQ
                if (closed) { // a handler's own settlement after the stop: the mark would say owed for good
                    journal.note(EventJournal.messageKey(source, messageId), done);
                } else {
                    note(messageId, done);
                }
            });
        }
    }

    /**
     * What the reason of a dead letter owed begins with, in the journal under the message's id: decided, its copy refused
     * by the transport for a reason that passes (a dead-letter queue throttled, failing for seconds).
     */
    static final String OWED = dev.ferry.domain.idempotency.EventLookup.OWED;

    /** How an owed mark starts: the message's body's length and CRC-32, and when it was sent (said, not matched). */
    static String fingerprint(Delivery delivery) {
        return bodyPrint(delivery) + delivery.sentAt().toEpochMilli() + "] ";
    }

    private static String bodyPrint(Delivery delivery) {
        var crc = new java.util.zip.CRC32();
        crc.update(delivery.body());
        return "[" + delivery.body().length + " bytes, crc " + Long.toHexString(crc.getValue()) + ", sent ";
    }

    /**
     * The reason a mark made by {@link #fingerprint} gives, when it is {@code delivery}'s: matched by its body, not by
     * the time sent it says (a source that does not know it — an SQS-compatible server without SentTimestamp — gives
     * the time received, another at each receive); else null.
     */
    static String markedFor(String mark, Delivery delivery) {
        String body = bodyPrint(delivery);
        int end = mark.startsWith(body) ? mark.indexOf("] ", body.length()) : -1;
        return end < 0 ? null : mark.substring(end + 2);
    }

    /** Whether dead letters owed are noted, and a copy received again looked for among them: see {@link #of}. */
    private final boolean readsOwed;

    /**
     * Notes, under the message's id, that its dead letter is owed: the copy that comes back may be another instance's (or
     * this one's after a restart), which finds it here and sends it to the dead-letter queue without running it — its
     * group's later messages went on once it was given up on, and run again it would land after them. Never throws.
     */
    void deadLetterOwed(Delivery delivery, String reason) {
        String messageId = delivery.id();
        if (journal != null && readsOwed && messageId != null) {
            noted(() -> {
                var owed = new EventJournal.Note.DeadLettered(null, cut(OWED + fingerprint(delivery) + reason), messageId,
                        clock.instant());
                if (closed) { // the stop closed the notes while the settler still tried the copy: lost, it ran after a restart
                    journal.note(EventJournal.messageKey(source, messageId), owed);
                } else {
                    note(messageId, owed);
                }
            });
        }
    }

    /**
     * {@code known}, or for a message handed out before (by any instance) the reason of its dead letter owed by the
     * journal's account, or null. Asked only of a copy received again, so a message at its first receive costs nothing.
     * Throws when the journal fails for a moment (a retryable {@code FerryException}, an I/O error): the delivery waits
     * for it, as for the ledger. A note it cannot read (damaged, another version's) owes nothing: the copy runs, as it
     * would without a journal — held, it would wait for ever, and its group with it.
     */
    String deadLetterOwed(InFlight item, String known) {
        if (known != null || !readsOwed || journal == null || item.delivery.receiveCount() < 2 || item.delivery.id() == null) {
            return known;
        }
        try {
            var noted = journal.journal(EventJournal.messageKey(source, item.delivery.id()));
            String reason = noted.isPresent() ? noted.get().deadLetterReason() : null;
            if (!dev.ferry.domain.idempotency.EventLookup.owed(reason)) {
                return null;
            }
            // the same message, not another under the same id (a plugin's source may give ids again): its body
            return markedFor(reason.substring(OWED.length()), item.delivery);
        } catch (Throwable e) {
            if (e instanceof dev.ferry.domain.model.FerryException f ? f.retryable() : e instanceof java.io.UncheckedIOException) {
                // the delivery waits for the journal as for the ledger it is part of. Taken for "none owed", the message
                // ran again with a fresh retry budget beside the dead letter another instance owed
                throw new dev.ferry.domain.model.FerryException("the event journal of '" + source + "' could not be read, "
                        + "so whether a dead letter is owed for message " + item.delivery.id() + " is not known: " + describe(e),
                        e, true);
            }
            try {
                warn("the event journal of ''{0}'' could not be read, so a dead letter owed for message {2} is not known: "
                        + "{1}", describe(e), item.delivery.id());
            } catch (Throwable again) { // no memory even for that
            }
            return null;
        }
    }

    private void note(InFlight item, EventJournal.Note note) {
        note(item.delivery.id(), note);
    }

    /** Queues {@code note}, to be written under its event key and, unless null, under {@code messageId}. */
    private void note(String messageId, EventJournal.Note note) {
        queued(new Pending(messageId, note, false));
    }

    private void queued(Pending pending) {
        if (closed) {
            return;
        }
        if (started.compareAndSet(false, true)) {
            try {
                writer = Thread.ofPlatform().daemon().name("ferry-" + source + "-journal").start(this::writeLoop);
            } catch (Throwable noThread) {
                started.set(false); // the next note starts it; this one is dropped
                throw noThread;
            }
        }
        if (!queue.offer(pending)) {
            dropped.incrementAndGet();
            warn("the event journal of ''{0}'' is behind; {1} note(s) dropped so far", dropped.get());
        }
    }

    /** Notes dropped because the journal was behind. */
    long dropped() {
        return dropped.get();
    }

    private void writeLoop() {
        while (!closed || !queue.isEmpty() || (!kept.isEmpty() && System.nanoTime() - closeBy < 0)) {
            Pending pending;
            try {
                long wait = Math.min(100_000_000L, kept.untilDue()); // no longer than the next try of a mark kept
                pending = queue.poll(wait, java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) { // no one interrupts the writer: a plugin journal's client left the flag
                continue; // set, and ending here left every later note queued, dropped as "behind", unseen
            }
            if (pending != null) {
                try {
                    write(pending);
                } catch (Throwable e) {
                    // the writer outlives whatever a note's failure throws on its way to the log: dead, it left every
                    // later note of the source queued and dropped unseen until a restart
                }
            }
            try {
                kept.retry(this::writeNow); // after the note just dequeued, which may have replaced one of them
            } catch (Throwable e) { // no memory: the writer outlives it, as above
            }
        }
    }

    private void write(Pending pending) {
        // under the message's id, a dead-letter note replaces the one before it: an owed mark kept is out of date
        boolean replaces = pending.messageId() != null && pending.note() instanceof EventJournal.Note.DeadLettered;
        if (replaces) {
            kept.forget(pending.messageId());
        }
        try {
            writeNow(pending);
        } catch (Throwable e) {
            if (replaces && dev.ferry.domain.idempotency.EventLookup.owed(
                    ((EventJournal.Note.DeadLettered) pending.note()).reason())) {
                // dropped, the copy that came back elsewhere found no mark and ran after its group's later messages
                if (kept.keep(pending.messageId(), pending)) {
                    dropped.incrementAndGet(); // the oldest kept, past the bound
                }
                warn("the event journal of ''{0}'' failed; the dead letter owed for message {2} is noted again when it "
                        + "takes notes: {1}", describe(e), pending.messageId());
                return;
            }
            // the message id is a parameter, never part of the pattern: a sender's "{3F25...}" made the pattern
            // unparsable, and the logging bridge threw while formatting it
            warn("the event journal of ''{0}'' failed; what happened to message {2} is not recorded: {1}",
                    describe(e), pending.messageId());
        }
    }

    /** Writes {@code pending}, throwing what the journal threw. */
    private void writeNow(Pending pending) {
        var note = pending.note();
        if (note.eventKey() != null && !pending.messageOnly()) {
            journal.note(note.eventKey(), note);
        }
        if (pending.messageId() != null) {
            journal.note(EventJournal.messageKey(source, pending.messageId()), note);
        }
    }

    /** {@code e} as text, or its class's name when that throws (a message built lazily, a plugin's bug). */
    static String describe(Throwable e) {
        return dev.ferry.domain.model.Thrown.describe(e);
    }

    /** At most a line a minute: the journal is for looking back. {@code source} is parameter 0. */
    private void warn(String message, Object... details) {
        long now = System.nanoTime();
        if (now - lastWarning > 60_000_000_000L) {
            lastWarning = now;
            var params = new Object[details.length + 1];
            params[0] = source;
            System.arraycopy(details, 0, params, 1, details.length);
            aside.write(() -> LOG.log(Level.WARNING, message, params)); // aside: asked under the settler's lock too
        }
    }

    /**
     * Stops taking notes; waits up to {@code patience} for the queued ones to be written, then drops the
     * rest (counted). The writer is not interrupted: an interrupt in the middle of a write into a store
     * that shares a file with the ledger (MVStore) closes that file under every other user of it.
     * Owed marks kept are tried at once, and again, within the same patience.
     */
    void close(java.time.Duration patience) {
        long hour = 3_600_000L; // past it (centuries) toMillis overflows, and it must not throw before closed is set
        closeBy = System.nanoTime() + Math.max(0, patience.compareTo(java.time.Duration.ofMillis(hour)) > 0 ? hour
                : patience.toMillis()) * 1_000_000L;
        kept.dueNow();
        closed = true;
        var w = writer;
        if (w != null) {
            try {
                w.join(patience.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            int left = queue.size();
            queue.clear(); // the writer ends after the note it is writing
            left += kept.clear(); // and tries these no more past closeBy
            dropped.addAndGet(left);
        }
    }
}
