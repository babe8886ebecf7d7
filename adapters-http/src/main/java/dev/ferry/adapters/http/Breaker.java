package dev.ferry.adapters.http;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stops calling an endpoint that fails everything: after {@code threshold} failures in a row it
 * opens for {@code openFor}; then one probe call goes through, and its result closes or reopens it.
 * While open, callers are told how long to wait, so the source slows down instead of burning
 * receives on calls that would fail. Every admitted call must end in exactly one of
 * {@link #success}, {@link #failure} or {@link #skipped} (#16): a probe that reports nothing
 * leaves the breaker half-open with its one probe slot taken, answering "wait" for ever. A call
 * ends on the thread it was admitted on (a publish is one thread's call), which is how the probe is
 * told from calls admitted before the breaker opened.
 */
final class Breaker {

    private final int threshold;
    private final long openForNanos;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** The thread whose call is the half-open probe, or null. */
    private final AtomicReference<Thread> probe = new AtomicReference<>();
    private volatile long openUntil;
    private volatile boolean open;

    Breaker(int threshold, Duration openFor) {
        this.threshold = threshold;
        this.openForNanos = openFor.toNanos();
    }

    /** Zero when a call may go ahead; otherwise how long the caller should hold back. */
    Duration admit() {
        if (!open) {
            return Duration.ZERO;
        }
        long wait = openUntil - System.nanoTime();
        if (wait > 0) {
            return Duration.ofNanos(wait);
        }
        // half-open: exactly one probe at a time
        return probe.compareAndSet(null, Thread.currentThread()) ? Duration.ZERO : Duration.ofSeconds(1);
    }

    /** The endpoint answered (2xx, or a 4xx / 429 it meant). */
    void success() {
        consecutiveFailures.set(0);
        open = false;
        probe.set(null);
    }

    /**
     * The endpoint failed (5xx, 408, no connection, timeout) after the in-process retries, refused
     * the credentials (401/403 when they are retried), or the call threw: nothing is known to have
     * worked, so it counts as a failure.
     */
    void failure() {
        if (consecutiveFailures.incrementAndGet() >= threshold || probe.get() != null) {
            openUntil = System.nanoTime() + openForNanos;
            open = true;
            probe.set(null);
        }
    }

    /**
     * The admitted call was never made (no connection slot, interrupted): the endpoint said
     * nothing, so the state stays as it is, but a probe slot this call held is given back, or the
     * half-open breaker would wait for an answer that never comes and hold everything back forever.
     * Only the probe's own call gives it back: a call admitted before the breaker opened, skipped while
     * the probe is out, let a second probe through, and a third, as many as such calls ended.
     */
    void skipped() {
        probe.compareAndSet(Thread.currentThread(), null);
    }

    /**
     * The endpoint answered, for one event only (a 409: its key in use): a half-open probe this call was
     * closes the breaker — the endpoint is up — while a run of failures is neither ended nor added to.
     */
    void answered() {
        if (probe.get() != null) {
            success();
        }
    }

    /**
     * Whether calls are held back now: open, within its cool-down or with its probe under way. Past the cool-down the
     * next call goes through as the probe — said open till then, a quiet route's health, its gauge and the console
     * said "holding back" for hours after the endpoint was back (its events back in the queue, no call to close it).
     */
    boolean isOpen() {
        return open && (openUntil - System.nanoTime() > 0 || probe.get() != null);
    }

    /**
     * A publish's end: {@code retry} whether it ended in a Retry, {@code busy} whether its last answer was a
     * 409 (its key in use), {@code timedOutOrFailed} whether one of its attempts timed out or failed.
     */
    void report(boolean retry, boolean busy, boolean timedOutOrFailed) {
        if (retry && (!busy || timedOutOrFailed)) {
            failure(); // a 409 after this publish's own attempt timed out is the endpoint still behind on it
        } else if (busy) {
            answered(); // a 409 alone: the endpoint up, answering for one event — no failure, and no success either
                        // (that ended a streak of timeouts, so a slow endpoint never opened it)
        } else {
            success();
        }
    }
}
