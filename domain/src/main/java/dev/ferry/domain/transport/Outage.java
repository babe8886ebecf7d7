package dev.ferry.domain.transport;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * For a sink: what it answers while the service it writes to cannot be reached. For a while, an
 * outage is waited out ({@link Outcome.Throttled}: no attempt spent, the listener's intake paused) —
 * answered {@code Retry}, a broker restart or a network outage of minutes would spend every event's
 * attempts and dead-letter what arrived meanwhile. Past {@code patience} without a call that worked,
 * it is taken for what no waiting cures (a topic that does not exist, credentials that never load,
 * which look the same from here) and answered {@code Retry}, so the events reach their dead-letter
 * queue in the end instead of holding their groups, and the listener, for ever. Thread-safe.
 */
public final class Outage {

    /** How long an outage is waited out by default: a broker's or a region's restart, with room. */
    public static final Duration DEFAULT_PATIENCE = Duration.ofMinutes(15);

    private final long patienceNanos;
    private final LongSupplier nanoTime;
    /** When the calls began failing (nanoTime, never 0 while they fail); 0 while they work. */
    private volatile long since;
    private volatile String problem;

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
     * A call failed because the service could not be reached (or failed itself): {@code Throttled} for
     * {@code wait} while the outage is younger than the patience, else {@code Retry} with the problem.
     */
    public Outcome failed(String problem, Duration wait) {
        long now = nanoTime.getAsLong();
        long first = since;
        long lasted;
        if (first == 0) {
            since = now == 0 ? 1 : now; // 0 means none
            lasted = 0;
        } else {
            lasted = now - first;
        }
        this.problem = problem;
        if (lasted < patienceNanos) {
            return Outcome.throttled(wait);
        }
        return Outcome.retry(problem + " (unreachable for " + Durations.text(Duration.ofNanos(lasted))
                + ", longer than the " + Durations.text(Duration.ofNanos(patienceNanos)) + " an outage is waited out)");
    }

    /** A call worked: the outage, if any, is over. */
    public void worked() {
        if (since != 0) {
            since = 0;
            problem = null;
        }
    }

    /** The outage under way, for {@link Sink#holdingBack()}; empty when the last call worked. */
    public Optional<String> holdingBack() {
        var p = problem;
        return since == 0 || p == null ? Optional.empty() : Optional.of(p);
    }
}
