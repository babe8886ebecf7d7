package dev.ferry.adapters.http;

import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link HttpSink}'s {@code maxConcurrent} places, each taken by a publish ({@link SinkPermit}) and held — once it
 * is answered 2xx — by that answer's body until it ends. An endpoint whose 2xx bodies stall holds every place for the
 * timeout: the sink answered {@code Throttled} and said nothing — no warning, nothing in {@code holdingBack}, its
 * health up. A body given up at the timeout is warned of (at most once a minute), and while places are held by bodies
 * not ended after one was, {@link #holdingBack} says how many. Thread-safe.
 */
final class SinkPlaces {

    private static final Logger LOG = LoggerFactory.getLogger(HttpSink.class);
    /** How long after a body was given up the places bodies hold are reported: as an outage is, a minute. */
    private static final long REPORTED_FOR_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Semaphore free;
    private final int max;
    private final String name;
    private final String target;
    private final Duration timeout;
    /** Places held by 2xx bodies not ended yet. */
    private final AtomicInteger heldByBodies = new AtomicInteger();
    /** When (nanoTime) a body was last given up at the timeout; 0 while none was. */
    private volatile long lastGivenUp;
    /**
     * Written on a thread of its own: a body is given up on the JDK's one delay thread ({@link AnswerBodies}), which
     * a blocked log (stdout backed up) would hold — and every other body's give-up, and its place, with it.
     */
    private final RateLimitedWarning givenUp = new RateLimitedWarning(Duration.ofMinutes(1),
            r -> Thread.ofPlatform().daemon(true).name("ferry-http-sink-warning").start(r));

    /**
     * {@code max} places of the sink {@code name}, whose requests go to {@code target} (shown redacted) and whose
     * answers, bodies and all, come within {@code timeout}.
     */
    SinkPlaces(int max, String name, String target, Duration timeout) {
        this.free = new Semaphore(max);
        this.max = max;
        this.name = name;
        this.target = Redact.url(target);
        this.timeout = timeout;
    }

    /** Takes a place, waiting up to {@code wait} for one: false when none came. */
    boolean take(Duration wait) throws InterruptedException {
        return free.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Places free now (for tests). */
    int free() {
        return free.availablePermits();
    }

    void giveBack() {
        free.release();
    }

    /**
     * A 2xx's body holds a place from now until it gives it back ({@link #givenBackByABody}); counted just before it
     * has it (it may end, and give it back, the moment it does).
     */
    void heldByABody() {
        heldByBodies.incrementAndGet();
    }

    /** The body counted by {@link #heldByABody} was not passed the place after all. */
    void notHeldByABody() {
        heldByBodies.decrementAndGet();
    }

    void givenBackByABody() {
        heldByBodies.decrementAndGet();
        free.release();
    }

    /**
     * A 2xx's body did not end within the timeout and was given up; its place, if it held one, was held until then.
     * Warned of at most once a minute, on a thread of its own; the give-up gave the place back before this.
     */
    void bodyGivenUp() {
        lastGivenUp = System.nanoTime() | 1;
        givenUp.count(1, total -> LOG.warn("HTTP sink '{}' ({}): a 2xx's body not ended within the timeout: its "
                + "place among max-concurrent held until then ({}){}; the endpoint sends its answers' bodies slowly or "
                + "never ends them, and the sink takes at most max-concurrent events a timeout (logged at most once a "
                + "minute)", name, target, Durations.text(timeout),
                total == 1 ? "" : ", and " + (total - 1) + " more bodies given up since the last warning"));
    }

    /**
     * How many places 2xx bodies not ended hold, while any does and a body was given up at the timeout within the last
     * minute. Not while bodies merely drain: every 2xx's body holds its place for a moment, and said then, health
     * would be degraded on most probes of a busy, healthy sink.
     */
    Optional<String> holdingBack() {
        int held = heldByBodies.get();
        long last = lastGivenUp;
        if (held <= 0 || last == 0 || System.nanoTime() - last > REPORTED_FOR_NANOS) {
            return Optional.empty();
        }
        return Optional.of(held + " of " + max + " places among max-concurrent held by 2xx answers from " + target
                + " whose bodies have not ended (each until it ends or the timeout of " + Durations.text(timeout)
                + " passes: a body was given up at it within the last minute)");
    }
}
