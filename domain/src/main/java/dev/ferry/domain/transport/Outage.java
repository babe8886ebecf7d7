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
 * event's attempts and dead-letter what arrived meanwhile. Once the outage has lasted longer than
 * {@code patience} for an event, it is taken for what no waiting cures (a topic that does not exist,
 * credentials that never load, a partition that stays down — all look alike from here) and answered
 * {@code Retry}, so it reaches its dead-letter queue in the end instead of holding its group, and the
 * listener's intake, for ever.
 *
 * <p>How long it has lasted for an event is the longer of two: since the event first met it (other
 * events getting through — other partitions of a topic with one down — do not start that wait again),
 * and since the sink's run of failures began, with nothing written since (so that, once nothing has
 * been written for longer than the patience, an event arriving now is not waited out for a patience
 * of its own: every window of events would hold the intake that long). An event not seen failing for
 * longer than the patience (one dead-lettered and sent again days later) starts a new wait; so does
 * the sink after a minute without failures. Thread-safe.
 */
public final class Outage {

    /** How long an outage is waited out by default: a broker's or a region's restart, with room. */
    public static final Duration DEFAULT_PATIENCE = Duration.ofMinutes(15);

    /**
     * Events timed at once (as many as a listener holds in flight at most); past it the one that failed
     * longest ago is forgotten (its wait starts again if it comes back).
     */
    static final int MAX_EVENTS = 100_000;

    /**
     * How long after its last failure an outage is still reported by {@link #holdingBack()}, and after
     * which a failure of the sink's starts a new run of failures.
     */
    static final Duration REPORTED_FOR = Duration.ofMinutes(1);

    private final long patienceNanos;
    /** After this long without failing, an event's wait starts again. */
    private final long forgetNanos;
    private final LongSupplier nanoTime;
    /**
     * Each event met by the outage: {first met, last failed, the wait it was told then} (nanoTime, nanos), least recently
     * failed first; guarded by this.
     */
    private final Map<String, long[]> since = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
            return size() > MAX_EVENTS;
        }
    };
    /** Whether anything is timed: read without the lock on the path of every call that works. */
    private volatile boolean engaged;
    /** When the sink's run of failures without a success began (nanoTime), while {@link #failing}; guarded by this. */
    private long failingSince;
    private boolean failing;
    private volatile String problem;
    /** {@link #problem} without what the service answered: for those who reach the health endpoints. */
    private volatile String brief;
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
        this.forgetNanos = Math.max(patienceNanos, Durations.nanos(REPORTED_FOR));
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /**
     * The event {@code key} could not be written because the service could not be reached (or failed
     * itself): {@code Throttled} for {@code wait} while the outage has lasted less than the patience for
     * it, else {@code Retry} with the problem.
     */
    public Outcome failed(String key, String problem, Duration wait) {
        return failed(key, problem, problem, wait);
    }

    /**
     * {@link #failed(String, String, Duration)}, with {@code brief}: the problem without the service's own words (its
     * error message may name an account, a user, a resource), for {@link #holdingBackInBrief()}.
     */
    public Outcome failed(String key, String problem, String brief, Duration wait) {
        return met(dev.ferry.domain.idempotency.LedgerKeys.bounded(key), problem, brief, wait);
    }

    /** {@link #failed(String, String, String, Duration)} of a key held as the ledger holds it (a long one hashed). */
    private synchronized Outcome met(String key, String problem, String brief, Duration wait) {
        long now = nanoTime.getAsLong();
        if (!failing || now - lastFailure > Durations.nanos(REPORTED_FOR)) {
            failing = true;
            failingSince = now;
        }
        var times = since.get(key);
        if (times == null || forgotten(times, now)) {
            // a service down past the patience: every event dead-lettered left its key here, none ever worked, and
            // the map kept 100,000 of them (keys of up to 1 Ki) until the service answered — those over go first
            forgetWaitsOver(now);
            times = new long[] {now, now, 0};
            since.put(key, times);
        }
        times[1] = now;
        times[2] = wait == null || wait.isNegative() ? 0 : Durations.nanos(wait);
        engaged = true;
        this.problem = problem;
        this.brief = Objects.requireNonNull(brief, "brief");
        this.lastFailure = now;
        long lasted = Math.max(now - times[0], now - failingSince);
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
        if (!engaged) {
            return;
        }
        // timed as the ledger keeps it: a key as long as a JSON string may be (256 Ki characters), kept whole for each
        // event an outage met, held gigabytes until the outage ended
        String timed = dev.ferry.domain.idempotency.LedgerKeys.bounded(key);
        synchronized (this) {
            since.remove(timed);
            failing = false;
            // and the events whose waits are over — gone to the DLQ, handled elsewhere, given back at a stop: never marked
            // worked, they kept the map filling and every call that works on this lock, for good
            forgetWaitsOver(nanoTime.getAsLong());
            engaged = !since.isEmpty();
            if (!engaged) {
                problem = null;
                brief = null;
            }
        }
    }

    /**
     * Whether an event's wait is over: not seen failing for longer than the patience (at least a minute) after the wait
     * it was told. Counted from its last failure alone, an event told to wait longer than that (a 503 or 413 with a
     * {@code Retry-After} of an hour) met its outage anew each time it came back: waited out for ever, never
     * dead-lettered, its group held.
     */
    private boolean forgotten(long[] times, long now) {
        return now - times[1] - times[2] > forgetNanos;
    }

    /** Forgets the events whose waits are over, least recently failed first; looks past a few still told to wait. */
    private void forgetWaitsOver(long now) {
        int waitingLong = 0;
        for (var it = since.values().iterator(); it.hasNext() && waitingLong < SCANNED; ) {
            var times = it.next();
            if (now - times[1] <= forgetNanos) {
                break; // least recently failed first: the rest failed later
            }
            if (forgotten(times, now)) {
                it.remove();
            } else {
                waitingLong++; // told to wait longer than that: still timed (a few looked at each time)
            }
        }
    }

    /** How many events told to wait long one success looks past, at most, for those whose wait is over. */
    private static final int SCANNED = 64;

    /** Events timed now (for tests). */
    synchronized int timed() {
        return since.size();
    }

    /**
     * The outage under way, for {@link Sink#holdingBack()}: the last failure's problem while an event
     * still waits on it and that failure is recent (an event that went elsewhere is not waited for).
     */
    public Optional<String> holdingBack() {
        return reported(problem);
    }

    /** {@link #holdingBack()} in brief, for {@link Sink#holdingBackInBrief()}. */
    public Optional<String> holdingBackInBrief() {
        return reported(brief);
    }

    private Optional<String> reported(String p) {
        return p == null || nanoTime.getAsLong() - lastFailure > Durations.nanos(REPORTED_FOR) ? Optional.empty()
                : Optional.of(p);
    }
}
