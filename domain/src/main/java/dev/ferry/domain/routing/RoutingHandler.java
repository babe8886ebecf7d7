package dev.ferry.domain.routing;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.HeldElsewhereException;
import dev.ferry.domain.handle.LedgerFailedException;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link Handler} that sends each event to the sinks its {@link Router} picks.
 *
 * <p>Fan-out is tracked per target when a ledger is given: a target that confirmed an event is
 * recorded under a mark of its own ({@link LedgerKeys#target}, a key space no event id can reach),
 * so when another target fails and the message comes back, the target that already has it is not
 * written twice. A ledger that fails while tracking is not the event's fault: it is thrown as a
 * {@link LedgerFailedException} (waited out in hand, no attempt spent, the source's ledger failure). A target whose mark
 * another worker holds (one that died while publishing there: its mark outlives its message's
 * lease by a little) is waited for in hand: {@link HeldElsewhereException}, which spends no attempt
 * and, unlike {@code Throttled}, does not pause the source's intake.
 *
 * <p>Outcomes of several targets combine as: any {@code Reject} → Reject; else any {@code Retry}
 * → Retry (longest delay, and not sooner than a throttled target's wait); else any {@code Throttled} → Throttled (longest wait); else a target's mark the ledger
 * failed at → {@link LedgerFailedException}; else any target held elsewhere → {@link HeldElsewhereException} (the
 * longest of their claims); else Done.
 *
 * <p>A target that asked to wait (throttled) keeps its mark's claim for the event's next try in hand here, so that a
 * 429 storm does not ask the ledger twice at every wait. {@link #close()} lets those claims go: call it after the
 * listeners using this handler stopped, so that another instance taking their events over need not wait a lease for
 * them. An event rejected here (dead-lettered) lets its targets' kept claims go at once.
 */
public final class RoutingHandler implements Handler, AutoCloseable {

    private final Router router;
    private final Map<String, Sink> sinks;
    private final IdempotencyLedger targetLedger;
    private final Duration lease;
    private final Duration ttl;
    private final TargetMarks marks;

    private RoutingHandler(Router router, Map<String, Sink> sinks, IdempotencyLedger targetLedger,
                           Duration lease, Duration ttl) {
        this.router = Objects.requireNonNull(router, "router");
        this.sinks = Map.copyOf(sinks);
        this.targetLedger = targetLedger;
        this.lease = lease;
        this.ttl = ttl;
        this.marks = new TargetMarks(ttl, this::releaseAside);
        var missing = router.referencedSinks().stream().filter(s -> !this.sinks.containsKey(s)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("routes refer to sinks that do not exist: " + missing
                    + " (sinks: " + this.sinks.keySet() + ")");
        }
    }

    /** Without per-target tracking: fine when each event goes to at most one sink. */
    public static RoutingHandler of(Router router, Map<String, Sink> sinks) {
        return new RoutingHandler(router, sinks, null, null, null);
    }

    /**
     * With per-target tracking in {@code ledger}, so fan-out retries skip targets already done. {@code lease} bounds a
     * target's claim while it is written, {@code ttl} how long a target done is remembered: both more than zero (a
     * {@code ttl} of 0, taken for "the default", forgot each target as it was done, and every retry wrote it again).
     */
    public static RoutingHandler tracked(Router router, Map<String, Sink> sinks, IdempotencyLedger ledger,
                                         Duration lease, Duration ttl) {
        Objects.requireNonNull(ledger, "ledger");
        for (var d : new Duration[] {Objects.requireNonNull(lease, "lease"), Objects.requireNonNull(ttl, "ttl")}) {
            if (!d.isPositive()) {
                throw new IllegalArgumentException("lease and ttl must be more than 0, were " + lease + " and " + ttl);
            }
        }
        return new RoutingHandler(router, sinks, ledger, lease, ttl);
    }

    @Override
    public Outcome handle(Event event, Delivery delivery) {
        var decision = router.route(event);
        if (!decision.matched()) {
            return switch (router.unmatched()) {
                case IGNORE -> Outcome.done();
                case REJECT -> Outcome.reject("no route matches event type '" + event.type() + "' (event " + event.key() + ")");
            };
        }
        var targets = decision.sinks();
        if (targets.size() == 1) {
            // one target: nothing to combine, nothing to keep apart — but an event that comes back may have reached it
            // under a route of several targets before that route was cut to this one (an incident's fix, redeployed)
            var target = targets.getFirst();
            if (targetLedger != null && delivery != null && (delivery.receiveCount() > 1 || movedBack(delivery))) {
                var marked = alreadyWritten(target, event, delivery);
                if (marked != null) {
                    return marked;
                }
            }
            return publish(sinks.get(target), event);
        }
        // Tracking per target only pays off when there is more than one target to keep apart.
        boolean tracked = targetLedger != null && targets.size() > 1;
        var outcomes = new ArrayList<Outcome>(targets.size());
        var held = new ArrayList<HeldElsewhereException>(0);
        LedgerFailedException troubled = null;
        for (var target : targets) {
            if (Thread.currentThread().isInterrupted()) {
                // stopping: the targets left are not written now — written, a sink that then answered "interrupted"
                // would have its mark let go, and the event would be written there again when it comes back
                outcomes.add(Outcome.retry("interrupted before publishing to " + target));
                continue;
            }
            var sink = sinks.get(target);
            try {
                outcomes.add(tracked ? publishTracked(target, sink, event, delivery) : publish(sink, event));
            } catch (HeldElsewhereException e) {
                held.add(e); // the other targets are written meanwhile: their marks spare them the next call
            } catch (LedgerFailedException e) {
                troubled = e; // as a mark held elsewhere: the others are written meanwhile
            }
        }
        var combined = combine(outcomes);
        if (tracked && combined instanceof Outcome.Reject) {
            // dead-lettered: its next try (a redrive) may be another instance's, which would wait out a kept claim
            for (var target : targets) {
                var key = markKey(delivery, event, target);
                var kept = marks.takeKept(key);
                if (kept != null) {
                    release(key, kept.token());
                }
            }
        }
        if (combined instanceof Outcome.Done && troubled != null) {
            throw troubled;
        }
        if (combined instanceof Outcome.Done && !held.isEmpty()) {
            throw longest(held);
        }
        return combined;
    }

    private static HeldElsewhereException longest(List<HeldElsewhereException> held) {
        var longest = held.getFirst();
        for (var e : held) {
            if (longest.remaining() != null && (e.remaining() == null || e.remaining().compareTo(longest.remaining()) > 0)) {
                longest = e; // unknown is the longest: asked again soon all the same
            }
        }
        return longest;
    }

    /**
     * Publishes to one target of several, once: its mark is kept under the route's name for the target
     * (unique in the map of sinks, where two sinks may call themselves alike: a topic's name on two
     * clusters), in the scope the event itself was claimed in (a source sharing it must find the mark).
     */
    private Outcome publishTracked(String target, Sink sink, Event event, Delivery delivery) {
        var key = markKey(delivery, event, target);
        if (marks.written(key)) {
            return Outcome.done(); // seen written at an earlier try: the ledger not asked again at every wait of a storm
        }
        var kept = keptMark(key, target);
        long token;
        long since;
        if (kept != null) {
            token = kept.token();
            since = kept.sinceNanos();
        } else {
            Claim claim;
            try {
                claim = Objects.requireNonNull(targetLedger.claim(key, lease), "the ledger returned no claim");
            } catch (Throwable e) { // the store's fault, not the event's: waited out, no attempt spent, said as the ledger's
                throw new LedgerFailedException("the claim of target " + target + "'s mark", e);
            }
            switch (claim) {
                case Claim.Completed c -> {
                    marks.wrote(key);
                    return Outcome.done();
                }
                // another worker is writing this target (or died doing so, its mark not yet run out): wait for it in
                // hand — not this event's fault, nor a throttled downstream (Throttled paused the whole source's intake)
                case Claim.InProgress p -> throw new HeldElsewhereException("target " + target + " of event " + event.key(),
                        p.leaseUntil() == null ? null : Duration.between(java.time.Instant.now(), p.leaseUntil()));
                case Claim.Acquired a -> {
                    token = a.token();
                    since = System.nanoTime();
                }
            }
        }
        var outcome = publish(sink, event);
        if (outcome instanceof Outcome.Done) {
            markWritten(key, token);
            marks.wrote(key);
        } else if (outcome instanceof Outcome.Throttled t && t.retryAfter().compareTo(lease.dividedBy(2)) < 0) {
            // compared, not in nanoseconds: a plugin's "for ever" (centuries) overflowed, and the fan-out threw
            if (!marks.keep(key, token, since)) { // waited out, as the event's own claim is: kept for its next try
                release(key, token); // closed: nothing kept past the stop
            }
        } else {
            release(key, token);
        }
        return outcome;
    }

    private static String markKey(Delivery delivery, Event event, String target) {
        return LedgerKeys.target(dev.ferry.domain.listener.Listener.ledgerScopeOf(delivery), event.key(), target);
    }

    private void release(String key, long token) {
        try {
            targetLedger.release(key, token);
        } catch (Throwable e) {
            // not let go: the mark runs out with its lease
        }
    }

    /**
     * Lets go of the claims kept for throttled targets' next tries (an instance that takes their events over would wait a
     * lease for each); later ones are let go at once. Call it after the listeners using this handler stopped. All at once,
     * waited for {@link #CLOSE_WAIT} at most (one after another, a slow ledger held a stop for minutes): those not let go
     * by then, or that a failing ledger refuses, run out with their lease. Safe to call twice.
     */
    @Override
    public void close() {
        marks.close(this::release, CLOSE_WAIT);
    }

    /** The longest {@link #close()} waits for the kept claims to be let go. */
    public static final Duration CLOSE_WAIT = Duration.ofSeconds(3);

    /**
     * The mark the event's last try kept (a throttled target), if it is still ours: fresh, used as it is; older than a
     * quarter of its lease, extended first. Lost (its lease ran out), null: claimed anew.
     */
    private TargetMarks.Kept keptMark(String key, String target) {
        var kept = marks.takeKept(key);
        if (kept == null || System.nanoTime() - kept.sinceNanos() < dev.ferry.domain.model.Durations.nanos(lease) / 4) {
            return kept;
        }
        try {
            return targetLedger.extend(key, kept.token(), lease) ? kept.extended() : null;
        } catch (Throwable e) {
            if (!marks.keep(key, kept.token(), kept.sinceNanos())) { // still ours, as far as is known: asked again
                release(key, kept.token());
            }
            throw new LedgerFailedException("the extension of target " + target + "'s mark", e);
        }
    }

    /**
     * The target has the event: its mark is recorded, so that the event's next try (another target throttled, the
     * ledger down for the next one) does not write it again. A mark the ledger no longer held for us (its lease ran out,
     * an MVStore reopened from disk after a failed write) answered "no" and was dropped in silence: it is claimed anew
     * and completed when nobody holds it. One the ledger could not record now is asked again on a thread of its own,
     * backing off, for a lease.
     */
    private void markWritten(String key, long token) {
        long left = recordMark(key, token);
        if (left == 0) {
            return;
        }
        if (marksAskedAgain.incrementAndGet() > MAX_MARKS_ASKED_AGAIN) { // a ledger failing for every write: bounded
            marksAskedAgain.decrementAndGet();
            return;
        }
        try {
            Thread.ofVirtual().name("ferry-target-mark").start(() -> {
                try {
                    long until = System.nanoTime() + dev.ferry.domain.model.Durations.nanos(lease); // an embedder's centuries too
                    long current = left;
                    for (long pause = 200; current != 0 && System.nanoTime() - until < 0; pause = Math.min(pause * 2, 5_000)) {
                        Thread.sleep(pause);
                        current = recordMark(key, current);
                    }
                } catch (InterruptedException e) {
                    // given up: without the mark, a retry may write the target again
                } finally {
                    marksAskedAgain.decrementAndGet();
                }
            });
        } catch (Throwable e) { // no thread to be had: without the mark, a retry may write the target again
            marksAskedAgain.decrementAndGet();
        }
    }

    private static final int MAX_MARKS_ASKED_AGAIN = 10_000;
    /** Marks being asked again in the background now. */
    private final java.util.concurrent.atomic.AtomicInteger marksAskedAgain = new java.util.concurrent.atomic.AtomicInteger();

    /** A kept claim pushed out of memory, let go on a thread of its own (never the caller's: it holds a lock). */
    private void releaseAside(String key, long token) {
        try {
            Thread.ofVirtual().name("ferry-target-mark-release").start(() -> release(key, token));
        } catch (Throwable e) { // no thread to be had: it runs out with its lease
        }
    }

    /**
     * 0 when the mark is recorded, or another worker holds it now (fenced: its write is its own); else the token to record
     * it with when the ledger answers — the claim taken anew when the first was lost, which is ours to complete.
     */
    private long recordMark(String key, long token) {
        long current = token;
        try {
            if (!targetLedger.complete(key, current, ttl) && targetLedger.claim(key, lease) instanceof Claim.Acquired again) {
                current = again.token();
                targetLedger.complete(key, current, ttl);
            }
            return 0;
        } catch (Throwable e) {
            return current == 0 ? 1 : current; // never 0 while owed
        }
    }

    /**
     * A message a redrive or a release moved back from a dead-letter queue: received once here, done in part before.
     * SQS's own move task (a native redrive) adds no mark of Ferry's but keeps the dead letter's reason, and a moved
     * message is a new one to SQS, received once: without that, its event was written again to a lone target. Its
     * source is the source's name, which a dead letter carries apart from its queue's where the two differ.
     */
    private static boolean movedBack(Delivery delivery) {
        var attributes = delivery.attributes();
        return !attributes.isEmpty() && (attributes.containsKey(DeadLetterAttributes.REDRIVE)
                || attributes.containsKey(dev.ferry.domain.parking.GroupParker.RELEASE_ATTRIBUTE)
                || attributes.containsKey(DeadLetterAttributes.REASON) && delivery.source().equals( // not one a sink sent on
                        attributes.getOrDefault(DeadLetterAttributes.SOURCE_NAME, attributes.get(DeadLetterAttributes.SOURCE))));
    }

    /**
     * Done when the target's mark says the event was written there (under a fan-out), the store's trouble
     * when the ledger cannot say; null when it was not (or the ledger cannot look marks up).
     */
    private Outcome alreadyWritten(String target, Event event, Delivery delivery) {
        var key = LedgerKeys.target(dev.ferry.domain.listener.Listener.ledgerScopeOf(delivery), event.key(), target);
        try {
            return targetLedger.peek(key).orElse(null) instanceof Claim.Completed ? Outcome.done() : null;
        } catch (Throwable e) {
            throw new LedgerFailedException("the look-up of target " + target + "'s mark", e);
        }
    }

    private static Outcome publish(Sink sink, Event event) {
        try {
            var outcome = sink.publish(event);
            return outcome != null ? outcome : Outcome.retry("sink " + sink.name() + " returned no outcome");
        } catch (Throwable e) { // an Error from a plugin sink too: one target's failure, a decision like any other
            return Outcome.retry("sink " + sink.name() + " failed: " + dev.ferry.domain.model.Thrown.describe(e));
        }
    }

    static Outcome combine(List<Outcome> outcomes) {
        Outcome.Reject reject = null;
        Outcome.Retry retry = null;
        Outcome.Throttled throttled = null;
        for (var outcome : outcomes) {
            switch (outcome) {
                case Outcome.Done d -> { }
                case Outcome.Reject r -> reject = reject == null ? r : reject;
                case Outcome.Retry r -> retry = retry == null || r.after().compareTo(retry.after()) > 0 ? r : retry;
                case Outcome.Throttled t -> throttled = throttled == null
                        || t.retryAfter().compareTo(throttled.retryAfter()) > 0 ? t : throttled;
            }
        }
        if (reject != null) {
            return reject;
        }
        if (retry != null && throttled != null && throttled.retryAfter().compareTo(retry.after()) > 0) {
            // not sooner than a throttled target asked: tried again at once, it was sent more while it said "wait"
            return Outcome.retryAfter(throttled.retryAfter(), retry.reason() + " (and a target asked to wait "
                    + throttled.retryAfter().toSeconds() + " s)");
        }
        if (retry != null) {
            return retry;
        }
        if (throttled != null) {
            return throttled;
        }
        return Outcome.done();
    }
}
