package dev.ferry.domain.listener;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The owed dead-letter marks whose journal write failed, kept by the journal's writer to be written again. Dropped, a
 * mark was lost for good: the copy that came back to another instance (or to this one after a restart) found none, and
 * ran after its group's later messages. Written from the writer's thread alone, so a journal down never holds up a
 * worker or the settler; in the order they failed, after 100 ms, then twice as long after each failed try, 5 s at most.
 * A mark goes once written, or once a later dead-letter note of its message comes to be written (it says what became
 * of it).
 *
 * <p>A journal down for minutes must not grow the heap: the newest {@link #CAPACITY} marks are kept, the oldest
 * dropped (counted by the caller), each a note with its reason cut at 2,000 characters — some tens of MB at most.
 */
final class KeptMarks<T> {

    /** Marks kept at most, by message id; beyond, the oldest is dropped. */
    static final int CAPACITY = 10_000;
    private static final long FIRST_NANOS = 100_000_000L;
    private static final long MOST_NANOS = 5_000_000_000L;
    private static final int PER_PASS = 16;

    private final Map<String, T> kept = new LinkedHashMap<>();
    private long backoff = FIRST_NANOS;
    private long due;

    /** Keeps {@code mark} of {@code messageId} last, in place of an older one; true when the oldest fell off. */
    synchronized boolean keep(String messageId, T mark) {
        if (kept.isEmpty()) {
            backoff = FIRST_NANOS;
            due = System.nanoTime() + backoff;
        }
        kept.remove(messageId); // put alone would leave the newer in the older one's place
        kept.put(messageId, mark);
        if (kept.size() <= CAPACITY) {
            return false;
        }
        var oldest = kept.keySet().iterator();
        oldest.next();
        oldest.remove();
        return true;
    }

    /** A later dead-letter note of {@code messageId} goes to the journal: the mark kept for it is out of date. */
    synchronized void forget(String messageId) {
        if (!kept.isEmpty()) {
            kept.remove(messageId);
        }
    }

    synchronized boolean isEmpty() {
        return kept.isEmpty();
    }

    /** Nanoseconds until the next try, {@code Long.MAX_VALUE} when none is kept. */
    synchronized long untilDue() {
        return kept.isEmpty() ? Long.MAX_VALUE : Math.max(0, due - System.nanoTime());
    }

    /** The stop: tried at once, and soon again, within the patience it has left (a backoff of 5 s is longer). */
    synchronized void dueNow() {
        backoff = FIRST_NANOS;
        due = System.nanoTime();
    }

    /**
     * When due, writes the kept marks in order with {@code write} (which throws when the journal fails) until one
     * fails — it and those after it wait twice as long — {@link #PER_PASS} at most: the writer reads its queue between
     * (all 10,000 back to back took a minute of a slow journal, and the notes queued meanwhile were dropped). Never
     * throws.
     */
    void retry(Consumer<T> write) {
        for (int n = 0; n < PER_PASS; n++) {
            String messageId;
            T mark;
            synchronized (this) {
                if (kept.isEmpty() || due - System.nanoTime() > 0) {
                    return;
                }
                var first = kept.entrySet().iterator().next();
                messageId = first.getKey();
                mark = first.getValue();
            }
            try {
                write.accept(mark); // outside the lock: a slow journal holds up only the writer
            } catch (Throwable e) { // warned of when it was kept; the log is at most a line a minute anyway
                synchronized (this) {
                    if (kept.remove(messageId, mark)) { // to the back: one the journal always refuses (a size it takes
                        kept.put(messageId, mark);      // for too big) held every mark behind it, never written
                    }
                    backoff = Math.min(backoff * 2, MOST_NANOS);
                    due = System.nanoTime() + backoff;
                }
                return;
            }
            synchronized (this) {
                kept.remove(messageId, mark); // unless replaced meanwhile
            }
        }
    }

    /** Drops what is kept; returns how many were. */
    synchronized int clear() {
        int n = kept.size();
        kept.clear();
        return n;
    }
}
