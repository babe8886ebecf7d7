package dev.ferry.domain.transport;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * For a sink: what it answers for an event while the service it writes to cannot be reached. For a
 * while, an outage is waited out ({@link Outcome.Throttled}: no attempt spent, the listener's intake
 * paused) — answered {@code Retry}, a broker restart or a network outage of minutes would spend every
 * event's attempts and dead-letter what arrived meanwhile. Once an event has met the outage for
 * longer than {@code patience}, it is taken for what no waiting cures (a topic that does not exist,
 * credentials that never load, a partition that stays down — all look alike from here) and answered
 * {@code Retry}, so it reaches its dead-letter queue in the end instead of holding its group, and the
 * listener's intake, for ever. Timed per event (by its key): other events getting through — other
 * partitions of a topic with one down — do not start its wait again. Thread-safe.
 */
public final class Outage {

    /** How long an outage is waited out by default: a broker's or a region's restart, with room. */
    public static final Duration DEFAULT_PATIENCE = Duration.ofMinutes(15);

    /** Events timed at once; past it the oldest is forgotten (its wait starts again if it comes back). */
    static final int MAX_EVENTS = 10_000;

    /** How long after its last failure an outage is still reported by {@link #holdingBack()}. */
    static final Duration REPORTED_FOR = Duration.ofMinutes(1);

    private final long patienceNanos;
    private final LongSupplier nanoTime;
    /** When each event first met the outage (nanoTime), oldest first; guarded by this. */
    private final Map<String, Long> since = new LinkedHashMap<>();
    /** Events timed now, read without the lock on the path of every call that works. */
    private volatile int timed;
    private volatile String problem;
    private volatile long lastFailure;

    public Outage(Duration patience) {
        this(patience, System::nanoTime);
    }

    /** With a clock of one's own ({@link System#nanoTime} by default), for tests. */
    public Outage(Duration patience, LongSupplier nanoTime) {
        if (Objects.requireNonNull(patience, "patience").isNegative()) {
            throw new IllegalArgumentException("patience must not be negative, was " + patience);
        }
        this.patienceNanos = Durations.nanos(patience);
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /**
     * The event {@code key} could not be written because the service could not be reached (or failed
     * itself): {@code Throttled} for {@code wait} while the event has met the outage for less than the
     * patience, else {@code Retry} with the problem.
     */
    public synchronized Outcome failed(String key, String problem, Duration wait) {
        long now = nanoTime.getAsLong();
        Long first = since.get(key);
        if (first == null) {
            if (since.size() >= MAX_EVENTS) {
                var eldest = since.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
            since.put(key, now);
            first = now;
        }
        timed = since.size();
        this.problem = problem;
        this.lastFailure = now;
        long lasted = now - first;
        if (lasted < patienceNanos) {
            return Outcome.throttled(wait);
        }
        return Outcome.retry(problem + " (unreachable for " + Durations.text(Duration.ofNanos(lasted))
                + ", longer than the " + Durations.text(Duration.ofNanos(patienceNanos)) + " an outage is waited out)");
    }

    /**
     * The service answered for the event {@code key} — took it, or refused it for a reason of its own: the
     * event's wait, if it had one, is over, and the service is reachable.
     */
    public void worked(String key) {
        if (timed == 0) {
            return;
        }
        synchronized (this) {
            since.remove(key);
            timed = since.size();
            if (timed == 0) {
                problem = null;
            }
        }
    }

    /**
     * The outage under way, for {@link Sink#holdingBack()}: the last failure's problem while an event
     * still waits on it and that failure is recent (an event that went elsewhere is not waited for).
     */
    public Optional<String> holdingBack() {
        var p = problem;
        return p == null || nanoTime.getAsLong() - lastFailure > Durations.nanos(REPORTED_FOR) ? Optional.empty()
                : Optional.of(p);
    }
}
