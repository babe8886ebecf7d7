package dev.ferry.adapters.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Something remembered by key for a while: at most {@code maxKeys} at once, the one noted longest ago forgotten
 * first, each forgotten {@code keptNanos} after it was last noted. Read on the path of every request or answer, so
 * whether any is remembered is kept apart, read without the lock. Thread-safe.
 */
final class RememberedKeys<V> {

    /** A value and when it was noted (nanoTime). */
    private record Noted<V>(V value, long at) {
    }

    private final long keptNanos;
    private final LongSupplier nanoTime;
    /** By key, noted longest ago first; guarded by this. */
    private final Map<String, Noted<V>> byKey;
    /** Whether any is remembered: read without the lock. */
    private volatile boolean any;

    RememberedKeys(int maxKeys, long keptNanos, LongSupplier nanoTime) {
        this.keptNanos = keptNanos;
        this.nanoTime = nanoTime;
        this.byKey = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Noted<V>> eldest) {
                return size() > maxKeys;
            }
        };
    }

    /** Whether any key is remembered (perhaps one past its time, not forgotten yet). Never locks. */
    boolean any() {
        return any;
    }

    /** Notes {@code value} under {@code key} now, in place of what was there. */
    synchronized void put(String key, V value) {
        byKey.remove(key); // put back last: the map stays ordered by when each was noted
        byKey.put(key, new Noted<>(value, nanoTime.getAsLong()));
        any = true;
        forgetOld();
    }

    /** What is remembered under {@code key} within its time; null when nothing is. */
    V get(String key) {
        if (!any) {
            return null;
        }
        synchronized (this) {
            forgetOld();
            var noted = byKey.get(key);
            return noted == null ? null : noted.value();
        }
    }

    /** Forgets {@code key} when what it holds is {@code which}; and any past its time, wherever it was asked. */
    void removeIf(String key, Predicate<V> which) {
        if (!any) {
            return;
        }
        synchronized (this) {
            var noted = byKey.get(key);
            if (noted != null && which.test(noted.value())) {
                byKey.remove(key);
            }
            forgetOld();
        }
    }

    /** Keys remembered now (for tests). */
    synchronized int size() {
        return byKey.size();
    }

    private void forgetOld() {
        long now = nanoTime.getAsLong();
        for (var it = byKey.values().iterator(); it.hasNext(); ) {
            if (now - it.next().at() <= keptNanos) {
                break; // noted longest ago first: the rest are younger
            }
            it.remove();
        }
        any = !byKey.isEmpty();
    }
}
