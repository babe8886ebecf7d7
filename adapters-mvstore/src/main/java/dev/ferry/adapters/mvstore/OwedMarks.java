package dev.ferry.adapters.mvstore;

import dev.ferry.domain.idempotency.EventJournal.Note;
import dev.ferry.domain.idempotency.EventLookup;
import dev.ferry.domain.model.FerryException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's notes as {@link MvStoreLedger} writes them, and the owed dead letters' marks ({@link EventLookup#OWED})
 * no commit has been seen to cover yet. A mark is committed soon after it is noted, not waited
 * for ({@link LedgerCommits#commitSoon}), so its note returns normally and the journal's writer keeps nothing to write
 * again: when that commit failed (a full disk, an I/O error — H2 breaks the store, and the file is opened again from what
 * it has), the mark was lost with the store, and the copy of its message that came back found none and ran again, after
 * its group's later messages. Kept here, it is written again into the file opened after the failure, until a commit of
 * the store it is in, begun after it was written there, succeeds. A later dead-letter note of its key replaces it (it
 * says what became of the message).
 *
 * <p>Bounded as the journal writer's own kept marks are: the newest {@link #CAPACITY}, the oldest dropped (said). A
 * process that stops before the file is opened again loses those kept, as a crash does.
 */
final class OwedMarks {

    private static final Logger LOG = LoggerFactory.getLogger(OwedMarks.class);

    /** Marks kept at most; beyond, the oldest is dropped. */
    static final int CAPACITY = 10_000;

    /** A mark kept: its note, the store it was last written to, and when ({@link #newest}'s count). */
    private record Mark(Note.DeadLettered note, MVStore store, long turn) {
    }

    private final Path file;
    private final LedgerFile files;
    private final LedgerCommits commits;
    /**
     * Held while a dead-letter note is written and kept, and while the marks are written again: a mark written again
     * beside a later note of its key could land after it, in its place. A lock, not a monitor: a virtual thread waiting
     * on a monitor pins its carrier on JDK 21.
     */
    private final ReentrantLock lock = new ReentrantLock();
    /** The marks kept by key, oldest first; under the lock. */
    private final Map<String, Mark> kept = new LinkedHashMap<>();
    private long turns; // marks written so far, under the lock
    private long dropped; // under the lock

    OwedMarks(Path file, LedgerFile files, LedgerCommits commits) {
        this.file = file;
        this.files = files;
        this.commits = commits;
    }

    /**
     * Writes {@code note} of {@code key} to the journal of {@code m} (the maps open now) at {@code now}. An owed dead
     * letter's mark is committed soon and kept until a commit covers it; throws (retryable) when it went to a store
     * opened again meanwhile, which may not have it — the journal's writer then keeps it and notes it again.
     */
    void note(LedgerFile.Maps m, String key, Note note, long now) {
        if (!(note instanceof Note.DeadLettered dead)) {
            m.journal().note(key, note, now); // history: lost in a crash, it loses no message
            return;
        }
        boolean owed = EventLookup.owed(dead.reason());
        lock.lock();
        try {
            m.journal().note(key, note, now);
            kept.remove(key); // a later dead-letter note says what became of the message: the mark kept is out of date
            if (owed) {
                keep(key, new Mark(dead, m.store(), ++turns));
            }
        } finally {
            lock.unlock();
        }
        if (owed) {
            commits.commitSoon(this); // what a restart needs; not waited for: the journal's one writer would fall behind
            if (files.current() != m) { // the file opened again may have had its marks written before this one was kept
                throw new FerryException("ledger " + file + " was opened again after a failed write as a dead letter owed "
                        + "was noted; it is noted again", true);
            }
        }
    }

    /** Keeps {@code mark} of {@code key} last; past the bound, the oldest is dropped. Under the lock. */
    private void keep(String key, Mark mark) {
        kept.put(key, mark);
        if (kept.size() <= CAPACITY) {
            return;
        }
        var oldest = kept.keySet().iterator();
        oldest.next();
        oldest.remove();
        dropped++;
        if (Long.bitCount(dropped) == 1) { // said at the 1st, 2nd, 4th, 8th… drop: not a line per mark
            LOG.warn("ledger {}: {} owed dead-letter mark(s) dropped so far, more than {} waiting for a commit; should "
                    + "the file be opened again before one covers them, their messages run again when they come back",
                    file, dropped, CAPACITY);
        }
    }

    /** How many marks were written so far: a commit that begins after this covers those up to it in its own store. */
    long newest() {
        lock.lock();
        try {
            return turns;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A commit of {@code store} succeeded, begun once {@link #newest} had said {@code upTo}: the marks it covers are on
     * disk, no longer written again. Not those written since, nor those in another store (one that broke: the file
     * opened again may not have them yet).
     */
    void committed(MVStore store, long upTo) {
        lock.lock();
        try {
            kept.values().removeIf(mark -> mark.store() == store && mark.turn() <= upTo);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The file was opened again after a failed write: each mark kept in another store than {@code m}'s (lost with the
     * store that broke, unless a commit covered it unseen) is written into {@code m}'s journal at {@code now}, and
     * committed soon. Asked again by the sweeper each round: told once, a reopening whose telling threw (a log
     * handler's Error, no memory part way) left its marks in the broken store for good, lost at the next restart.
     */
    void reopened(LedgerFile.Maps m, long now) {
        int written = 0;
        lock.lock();
        try {
            if (kept.isEmpty() || m.broken()) {
                return;
            }
            for (var e : kept.entrySet()) {
                if (e.getValue().store() != m.store()) {
                    m.journal().note(e.getKey(), e.getValue().note(), now);
                    e.setValue(new Mark(e.getValue().note(), m.store(), ++turns));
                    written++;
                }
            }
        } finally {
            lock.unlock();
        }
        if (written == 0) {
            return;
        }
        LOG.warn("ledger {}: {} owed dead-letter mark(s) no commit had covered, lost with the store that broke, written "
                + "again into the file opened anew", file, written);
        commits.commitSoon(this);
    }
}
