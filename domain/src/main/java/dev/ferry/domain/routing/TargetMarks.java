package dev.ferry.domain.routing;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * What a fan-out remembers of its targets' marks between an event's tries, so that a 429 storm does not ask the ledger
 * at every wait: the marks it saw written (asked again, a failed conditional write each on DynamoDB), and a throttled
 * target's claim kept for the event's next try (let go and claimed anew, two writes each). Three instances with 100
 * messages each in hand under {@code Retry-After: 1} made some 850 ledger writes a second. A kept claim is the event's,
 * whichever delivery brings it next (an HTTP client's retry is a new one): only a try that holds the event's own claim
 * reaches it, and it is taken out while used, so no two tries use it at once. Both bounded: a written mark forgotten is
 * asked of the ledger, as before; a kept claim forgotten is let go ({@code release}), as before.
 */
final class TargetMarks {

    private static final int MOST = 1_024;

    /** A throttled target's claim, kept since {@code sinceNanos} (claimed or last extended). */
    record Kept(long token, long sinceNanos) {

        Kept extended() {
            return new Kept(token, System.nanoTime());
        }
    }

    private final long ttlNanos;
    private final Map<String, Long> written = bounded(null); // when (nanoTime): forgotten after the marks' ttl, as the ledger
    private final Map<String, Kept> kept;
    private boolean closed;

    /**
     * {@code ttl}: how long the ledger remembers a target done (null: no tracking); {@code release}: lets go of a kept
     * claim pushed out by newer ones (called under this object's lock: it must not wait on the ledger).
     */
    TargetMarks(java.time.Duration ttl, BiConsumer<String, Long> release) {
        this.ttlNanos = ttl == null ? 0 : dev.ferry.domain.model.Durations.nanos(ttl);
        this.kept = bounded((key, k) -> release.accept(key, k.token()));
    }

    private static <V> Map<String, V> bounded(BiConsumer<String, V> evicted) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                if (size() <= MOST) {
                    return false;
                }
                if (evicted != null) {
                    evicted.accept(eldest.getKey(), eldest.getValue());
                }
                return true;
            }
        };
    }

    synchronized boolean written(String key) {
        Long at = written.get(key);
        if (at != null && System.nanoTime() - at >= ttlNanos) {
            written.remove(key); // the ledger forgot it too by now
            return false;
        }
        return at != null;
    }

    synchronized void wrote(String key) {
        written.put(key, System.nanoTime());
        kept.remove(key);
    }

    /** False when closed (nothing is kept past the stop: let it go now). */
    synchronized boolean keep(String key, long token, long sinceNanos) {
        if (closed) {
            return false;
        }
        kept.put(key, new Kept(token, sinceNanos));
        return true;
    }

    /** Every claim kept, taken out and let go all at once, waited for {@code wait} at most; none kept after this. */
    void close(BiConsumer<String, Long> release, java.time.Duration wait) {
        Map<String, Kept> all;
        synchronized (this) {
            closed = true;
            all = Map.copyOf(kept);
            kept.clear();
        }
        var releases = new java.util.ArrayList<Thread>();
        all.forEach((key, k) -> {
            try {
                releases.add(Thread.ofVirtual().name("ferry-target-mark-release").start(() -> release.accept(key, k.token())));
            } catch (Throwable e) { // no thread to be had: it runs out with its lease
            }
        });
        long end = System.nanoTime() + wait.toNanos();
        try {
            for (var thread : releases) {
                long left = end - System.nanoTime();
                if (left <= 0 || !thread.join(java.time.Duration.ofNanos(left))) {
                    return; // the rest run out with their lease
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The claim kept for the event's target, taken out (while this try uses it, no other finds it); null when none. */
    synchronized Kept takeKept(String key) {
        return kept.remove(key);
    }
}
