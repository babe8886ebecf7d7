package dev.ferry.domain.listener;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Ferry's own count of real failures and throttles per message, kept across redeliveries, so
 * that throttling never uses up retry attempts the way the transport's receive count would.
 * Bounded: past {@code maxEntries} the oldest half is forgotten (a forgotten message starts
 * counting again; the transport's receive count and the dead-letter policy still bound it).
 */
final class FailureCounts {

    record Counts(int failures, int throttles, long touched) {
    }

    private static final Counts NONE = new Counts(0, 0, 0);

    private final ConcurrentHashMap<String, Counts> counts = new ConcurrentHashMap<>();
    private final int maxEntries;
    private long ticks;

    FailureCounts(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    Counts get(String id) {
        return counts.getOrDefault(id, NONE);
    }

    int recordFailure(String id) {
        return update(id, true).failures;
    }

    int recordThrottle(String id) {
        return update(id, false).throttles;
    }

    void forget(String id) {
        if (!counts.isEmpty()) {
            counts.remove(id);
        }
    }

    private Counts update(String id, boolean failure) {
        long now = nextTick();
        var updated = counts.merge(id, failure ? new Counts(1, 0, now) : new Counts(0, 1, now),
                (a, b) -> new Counts(a.failures + b.failures, a.throttles + b.throttles, now));
        if (counts.size() > maxEntries) {
            trim();
        }
        return updated;
    }

    private synchronized long nextTick() {
        return ++ticks;
    }

    private synchronized void trim() {
        if (counts.size() <= maxEntries) {
            return;
        }
        var cutoff = counts.values().stream().mapToLong(Counts::touched).sorted().skip(counts.size() / 2).findFirst().orElse(0);
        counts.values().removeIf(c -> c.touched < cutoff);
    }
}
