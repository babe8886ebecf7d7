package dev.ferry.domain.listener;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ferry's own count of real failures, throttles and passes per message, kept across redeliveries,
 * so that throttling, and being handed back unhandled because an earlier message of its group
 * failed or the listener stopped (a pass), never use up receives the way the transport's receive
 * count would.
 * Bounded: past {@code maxEntries} the oldest half is forgotten (a forgotten message starts
 * counting again; the transport's receive count and the dead-letter policy still bound it).
 */
final class FailureCounts {

    record Counts(int failures, int throttles, int passes, long touched) {

        /** Receives that were not the message's own fault: throttled, or handed back unhandled. */
        int excused() {
            return throttles + passes;
        }
    }

    private enum Kind { FAILURE, THROTTLE, PASS }

    private static final Counts NONE = new Counts(0, 0, 0, 0);

    private final ConcurrentHashMap<String, Counts> counts = new ConcurrentHashMap<>();
    /** Dead letters decided whose copy the transport refused, by message id: the reason they go with. */
    private final ConcurrentHashMap<String, String> deadLettersOwed = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final AtomicLong ticks = new AtomicLong();

    FailureCounts(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    Counts get(String id) {
        return counts.isEmpty() ? NONE : counts.getOrDefault(id, NONE); // nearly always empty: no lookup per message
    }

    int recordFailure(String id) {
        return update(id, Kind.FAILURE).failures;
    }

    int recordThrottle(String id) {
        return update(id, Kind.THROTTLE).throttles;
    }

    /** The message was received and handed back without being handled. */
    void recordPass(String id) {
        update(id, Kind.PASS);
    }

    void forget(String id) {
        if (!counts.isEmpty()) {
            counts.remove(id);
        }
        if (!deadLettersOwed.isEmpty()) {
            deadLettersOwed.remove(id);
        }
    }

    /** A settlement the transport took: its message's counts go; a dead letter's copy taken is noted no longer owed. */
    void forget(dev.ferry.domain.transport.Settlement taken) {
        forget(taken.delivery().id());
        var noting = settledNotes;
        if (noting != null && taken.disposition() instanceof dev.ferry.domain.transport.Disposition.DeadLetter dead) {
            noting.accept(taken.delivery(), dead.reason());
        }
    }

    /**
     * A dead-letter copy the transport refused: owed when for a reason that passes ({@link #oweDeadLetter}); refused for
     * good (no dead-letter queue at all), noted no longer owed, so that the copy that comes back may still be handled.
     */
    void deadLetterRefused(dev.ferry.domain.model.Delivery delivery, String reason, boolean retryable) {
        if (retryable) {
            oweDeadLetter(delivery, reason);
            return;
        }
        if (!deadLettersOwed.isEmpty()) {
            deadLettersOwed.remove(delivery.id()); // owed before, refused for good now: it may be handled again
        }
        var noting = settledNotes;
        if (noting != null) {
            noting.accept(delivery, reason);
        }
    }

    /**
     * The message was given up on, and the transport refused its dead-letter copy: the copy that comes
     * back goes there too, without running again — its group's later messages went on once it was
     * given up on, and handled now it would land after them. Bounded as the counts are (past it, the
     * marks start again: such a copy runs once more, as it did before there were marks).
     */
    void oweDeadLetter(dev.ferry.domain.model.Delivery delivery, String reason) {
        if (deadLettersOwed.size() >= maxEntries) {
            deadLettersOwed.clear();
        }
        // cut as the journal cuts it (what other instances read): kept whole, 100,000 reasons of 8 Ki held a gigabyte
        deadLettersOwed.put(delivery.id(), JournalNotes.fingerprint(delivery) + JournalNotes.cut(reason));
        var noting = owedNotes;
        if (noting != null) {
            noting.accept(delivery, reason);
        }
    }

    /**
     * Where an owed dead letter is noted beyond this process (the ledger's journal): the copy that comes back may be
     * another instance's, or this one's after a restart, and these marks are only this process's.
     */
    void onOwed(java.util.function.BiConsumer<dev.ferry.domain.model.Delivery, String> noting) {
        this.owedNotes = noting;
    }

    private volatile java.util.function.BiConsumer<dev.ferry.domain.model.Delivery, String> owedNotes;

    /**
     * Where a dead letter's end is noted beyond this process — its copy taken, or refused for good: the journal marked
     * it owed as it was decided (see {@link JournalNotes#deadLettered}), and a copy that comes back finds it so.
     */
    void onDeadLetterSettled(java.util.function.BiConsumer<dev.ferry.domain.model.Delivery, String> noting) {
        this.settledNotes = noting;
    }

    private volatile java.util.function.BiConsumer<dev.ferry.domain.model.Delivery, String> settledNotes;

    /**
     * The reason of a dead letter owed for this message, or null: the same message, not another under its id (a
     * plugin's source may give an id again, Kafka's in a topic made anew), told by its body.
     */
    String deadLetterOwed(dev.ferry.domain.model.Delivery delivery) {
        String owed = deadLettersOwed.isEmpty() ? null : deadLettersOwed.get(delivery.id());
        if (owed == null) {
            return null;
        }
        return JournalNotes.markedFor(owed, delivery);
    }

    private Counts update(String id, Kind kind) {
        long now = nextTick();
        var one = new Counts(kind == Kind.FAILURE ? 1 : 0, kind == Kind.THROTTLE ? 1 : 0, kind == Kind.PASS ? 1 : 0, now);
        var updated = counts.merge(id, one, (a, b) -> new Counts(a.failures + b.failures, a.throttles + b.throttles,
                a.passes + b.passes, now));
        if (counts.size() > maxEntries) {
            trim();
        }
        return updated;
    }

    private long nextTick() {
        return ticks.incrementAndGet();
    }

    private synchronized void trim() {
        if (counts.size() <= maxEntries) {
            return;
        }
        var cutoff = counts.values().stream().mapToLong(Counts::touched).sorted().skip(counts.size() / 2).findFirst().orElse(0);
        counts.values().removeIf(c -> c.touched < cutoff);
    }
}
