package dev.ferry.adapters.mvstore;

import dev.ferry.domain.idempotency.EventJournal.Journal;
import dev.ferry.domain.idempotency.EventJournal.Note;
import dev.ferry.domain.model.FerryException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Optional;
import org.h2.mvstore.MVMap;

/**
 * {@link MvStoreLedger}'s event journal: one map value per key, {@code <expiresAt millis>#<}{@link
 * Journals#encode}{@code >}, updated by compare-and-set, and an expiry index swept with the
 * ledger's completed keys. Written to disk with the ledger's next commit (a journal lost in a
 * crash loses history, never a message).
 */
final class MvStoreJournal {

    /** How long a journal is kept after its last note. */
    static final Duration KEPT = Duration.ofDays(7);

    private final MVMap<String, String> journals;
    /** {@code <expiresAt millis, 20 digits>|<key>} of journals, in expiry order. */
    private final MVMap<String, String> expiries;

    MvStoreJournal(MVMap<String, String> journals, MVMap<String, String> expiries) {
        this.journals = journals;
        this.expiries = expiries;
    }

    void note(String key, Note note, long now) {
        long expiresAt = now + KEPT.toMillis();
        for (int i = 0; i < 64; i++) {
            String old = journals.get(key);
            var journal = (old == null ? Journal.EMPTY : Journals.decode(journalOf(old))).with(note);
            String next = expiresAt + "#" + Journals.encode(journal);
            if (old == null ? journals.putIfAbsent(key, next) == null : journals.replace(key, old, next)) {
                if (old != null) {
                    expiries.remove(LedgerEntry.expiryKey(expiresAtOf(old), key));
                }
                expiries.put(LedgerEntry.expiryKey(expiresAt, key), "");
                return;
            }
        }
        throw new FerryException("the journal of " + key + " kept changing under 64 tries", true);
    }

    Optional<Journal> journal(String key) {
        return Optional.ofNullable(journals.get(key)).map(v -> Journals.decode(journalOf(v)));
    }

    /** Removes journals whose last note is older than {@link #KEPT}; returns how many. */
    int sweep(long now) {
        var cursor = expiries.keyIterator(null);
        var due = new ArrayList<String>();
        while (cursor.hasNext()) {
            String index = cursor.next();
            if (Long.parseLong(index.substring(0, 20)) > now) {
                break;
            }
            due.add(index);
        }
        int removed = 0;
        for (String index : due) {
            String key = index.substring(21);
            String value = journals.get(key);
            if (value != null && expiresAtOf(value) <= now && journals.remove(key, value)) {
                removed++;
            }
            expiries.remove(index);
        }
        return removed;
    }

    private static long expiresAtOf(String value) {
        return Long.parseLong(value, 0, value.indexOf('#'), 10);
    }

    private static String journalOf(String value) {
        return value.substring(value.indexOf('#') + 1);
    }
}
