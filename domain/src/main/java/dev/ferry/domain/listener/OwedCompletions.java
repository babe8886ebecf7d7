package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.Claim;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Completions owed: an event's effect happened but its claim's completion could not be recorded then (the ledger failing,
 * the listener stopping). Each is asked again in the background, backing off, while a lease lasts, and once more at the
 * end of a stop; a fenced one (its claim ran out) has its effect recorded anew when nobody holds the key.
 */
final class OwedCompletions {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    private static final int MAX_TAKEN_ANEW = 10_000;

    private final Processor.Shared s;
    private final Set<InFlight.HeldClaim> owed = ConcurrentHashMap.newKeySet();
    /**
     * Claims taken anew whose completion failed, by key: the next try completes that one. Bounded by count; one whose
     * lease has run out holds nothing any more and makes room (the next try's claim takes the key again).
     */
    private final Map<String, TakenAnew> takenAnew = new ConcurrentHashMap<>();

    /** A claim taken anew: its token, and when it was asked for ({@link System#nanoTime}), to tell its lease ran out. */
    private record TakenAnew(long token, long askedAt) {}

    /** The threads the ledger's I/O goes on (a seam for tests: one that cannot start them). */
    java.util.concurrent.ThreadFactory threads;

    OwedCompletions(Processor.Shared shared) {
        this.s = shared;
        this.threads = Thread.ofVirtual().name("ferry-" + shared.name() + "-owed").factory();
    }

    /**
     * The effect happened, but the claim had expired. If nobody holds the key now, claim it anew and complete it, so
     * later copies see the effect as done instead of running it again and again (a handler that always outlasts an
     * unextended lease would otherwise never settle). A live holder is left alone: fencing still holds. A store failure
     * is thrown: the caller waits it out as any completion's (swallowed, the delivery was acked unrecorded, its ledger
     * said to work, and a later copy ran the effect again).
     */
    void recordFencedEffect(String key) {
        var taken = takenAnew.remove(key);
        if (taken != null && completeAnew(key, taken)) {
            return;
        }
        long askedAt = System.nanoTime();
        if (Uninterrupted.call(() -> s.ledger().claim(key, s.config().lease())) instanceof Claim.Acquired again) {
            completeAnew(key, new TakenAnew(again.token(), askedAt));
        }
    }

    /**
     * Completes a claim taken anew; on a store failure it is kept for the next try, which completes it. Let go of
     * instead (and a release can fail too), the next try's claim found the key held — by this claim — took that for a
     * live holder's, and the delivery was acked with its effect unrecorded.
     */
    private boolean completeAnew(String key, TakenAnew taken) {
        try {
            return Uninterrupted.complete(s.ledger(), key, taken.token(), s.config().completedTtl());
        } catch (Throwable e) {
            if (takenAnew.size() >= MAX_TAKEN_ANEW) { // deliveries that left without another try: those run out go
                long now = System.nanoTime();
                long lease = s.config().lease().toNanos();
                takenAnew.values().removeIf(t -> now - t.askedAt() > lease);
            }
            if (takenAnew.size() < MAX_TAKEN_ANEW) {
                takenAnew.put(key, taken);
            } else { // full of live claims: let go of, at least the next claim may take it
                try {
                    s.ledger().release(key, taken.token());
                } catch (Throwable alsoDown) {
                    e.addSuppressed(alsoDown);
                }
            }
            throw e;
        }
    }

    /**
     * A completion owed: the event's effect happened, but its delivery leaves (put back, or on to its
     * next event) with the completion unrecorded — the store failed and the delivery could not wait
     * in hand for it. Asked again in the background after the store backoff, for as long as a lease:
     * meanwhile the claim keeps other copies waiting, and the copy that comes back finds it completed.
     */
    void owe(InFlight.HeldClaim claim) {
        if (claim == null || !s.running().getAsBoolean() && recordOwed(claim)) {
            return; // stopping: tried now, the scheduler goes with the listener
        }
        owed.add(claim);
        oweAgain(claim, 1, System.nanoTime() + s.config().lease().toNanos());
    }

    private void oweAgain(InFlight.HeldClaim claim, int attempt, long untilNanos) {
        long delay = dev.ferry.domain.model.Durations.nanos(s.policies().storeBackoff().delay(attempt, s.nextRandom()));
        if (System.nanoTime() + delay - untilNanos > 0) {
            owed.remove(claim);
            LOG.log(Level.WARNING, "the completion of {0} could not be recorded within a lease; a later copy may "
                    + "run its effect again", claim.key());
            return;
        }
        try {
            // the timer only: the ledger's I/O goes on a thread of its own, never on the scheduler's one thread
            s.scheduler().schedule(() -> {
                // one of the two, once: a start that throws may have handed the thread on already (both, and the
                // claim was asked again twice over each round after)
                var once = new java.util.concurrent.atomic.AtomicBoolean();
                try {
                    threads.newThread(() -> {
                        if (once.compareAndSet(false, true) && owed.contains(claim) && !recordOwed(claim)) {
                            oweAgain(claim, attempt + 1, untilNanos);
                        }
                    }).start();
                } catch (Throwable noThread) { // (OutOfMemoryError) thrown into the timer's task, it was dropped unlogged:
                    if (once.compareAndSet(false, true)) { // never asked again, a later copy ran the effect again
                        oweAgain(claim, attempt + 1, untilNanos);
                    }
                }
            }, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopping) {
            recordOwed(claim); // the listener stops: one last try, now
        }
    }

    /**
     * At the end of a stop: each completion still owed, and {@code alsoOwed}, is tried once more, now, all at once
     * and for no longer than {@code within} (a ledger that hangs must not hold the stop); what fails is logged.
     */
    void settle(Duration within, List<InFlight.HeldClaim> alsoOwed) {
        var claims = java.util.stream.Stream.concat(owed.stream(), alsoOwed.stream()).distinct().toList();
        if (claims.isEmpty()) {
            return;
        }
        var recorded = new java.util.concurrent.atomic.AtomicInteger();
        var started = new java.util.ArrayList<Thread>(claims.size());
        Throwable noThread = null;
        int notStarted = 0;
        for (var claim : claims) {
            // one of the two, once: a start that throws may have handed the thread on already, which then records it
            // (counted "not recorded" all the same, a later copy said to run again an effect whose completion was)
            var once = new java.util.concurrent.atomic.AtomicBoolean();
            Thread t = null;
            try {
                t = threads.newThread(() -> {
                    if (once.compareAndSet(false, true) && recordOwed(claim)) {
                        recorded.incrementAndGet();
                    }
                });
                t.start();
                started.add(t);
            } catch (Throwable e) { // (OutOfMemoryError) thrown on, the rest were skipped and the stop failed half-way.
                // Not tried here instead: a ledger that hangs would hold the stop. Counted as failed
                if (once.compareAndSet(false, true)) {
                    noThread = e;
                    notStarted++;
                } else if (t != null) { // under way all the same: waited for with the others, it counts itself
                    started.add(t);
                }
            }
        }
        if (noThread != null) {
            say("no thread to be had to record {0} owed completion(s) of ''{1}'' at its stop ({2}): not recorded, a "
                    + "later copy may run their effects again", notStarted, s.name(), JournalNotes.describe(noThread));
        }
        Shutdown.joinQuietly(started, within);
        int failed = claims.size() - recorded.get();
        if (failed > 0) {
            say("{0} completion(s) of ''{1}'' could not be recorded before it stopped; a later copy may run their "
                    + "effects again", failed, s.name());
        }
    }

    /** A warning of the stop's; a log that throws on every line must not fail it (its journal's notes left open). */
    private static void say(String message, Object... params) {
        try {
            LOG.log(Level.WARNING, message, params);
        } catch (Throwable logFailing) {
        }
    }

    /** True when the owed completion is recorded (or fenced, its effect then recorded anew); false when the store failed. */
    private boolean recordOwed(InFlight.HeldClaim claim) {
        try {
            if (!Uninterrupted.complete(s.ledger(), claim.key(), claim.token(), s.config().completedTtl())) {
                recordFencedEffect(claim.key());
            }
            owed.remove(claim);
            s.intake().ledgerWorked();
            return true;
        } catch (Throwable e) {
            s.counters().ledgerFailures.increment();
            return false;
        }
    }
}
