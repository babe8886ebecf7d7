package dev.ferry.domain.listener;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.FailureDecision;
import dev.ferry.domain.retry.FailureDecision.Setback;
import java.time.Duration;

/**
 * One event of a delivery, in its group's turn: claimed in the ledger, handed to the handler, and
 * completed (or its completion left to the completer when it is the delivery's last) — or the
 * setback that stood in the way, for {@link Processor} to decide on. Whatever the handler throws,
 * an {@code Error} too, is a setback.
 */
final class EventSteps {

    private final Processor.Shared s;
    private final EventKeys keys;
    private final JournalNotes notes;
    private final LedgerSteps ledger;

    EventSteps(Processor.Shared shared, EventKeys keys, JournalNotes notes, LedgerSteps ledger) {
        this.s = shared;
        this.keys = keys;
        this.notes = notes;
        this.ledger = ledger;
    }

    /** The listener's name: what a mark of its own on the ledger is keyed by ({@link ReceiveLimit#decodingMark}). */
    String listener() {
        return s.name();
    }

    /** Runs one event; null when it is done (or a duplicate), else what stood in the way. */
    Setback run(InFlight item, Event event) {
        InFlight.HeldClaim claim = null;
        String key = s.ledger() == null ? null : keys.of(item, event);
        if (s.ledger() != null) {
            Claim answer;
            var leaseBefore = item.leaseUntil; // before the lease asked for: a change after it is seen below
            var lease = remainingLease(item);
            long leaseNanos = Durations.nanos(lease);
            if (s.redelivers() && leaseNanos <= MAX_TICK && leaseNanos <= LeaseKeeper.tickNanos(s.config())) {
                // its lease ends before the keeper's next round (a wait since it was looked at: an earlier completion, a
                // parked-group lookup): a claim now would end before anyone could extend it, and the copy the transport
                // hands out then would claim the event beside this handler. Left to that copy, unclaimed
                return new FailureDecision.ClaimedElsewhere(Duration.ZERO);
            }
            long asked = System.nanoTime();
            try {
                answer = resumed(item, key, lease);
                if (answer == null) {
                    // the claim ends when the message's visibility does, never later: a crashed worker's
                    // claim is free again by the time its message is handed to someone else (#8)
                    answer = s.ledger().claim(key, lease);
                }
                if (answer == null) {
                    throw new NullPointerException("the ledger returned no claim for " + key);
                }
            } catch (Throwable e) {
                return ledger.storeFailed(item, "claim", e);
            }
            if (answer instanceof Claim.Acquired a) {
                claim = new InFlight.HeldClaim(key, a.token(), LeaseKeeper.nanosAfter(asked, lease)); // held till then
                if (item.settled.get() || s.redelivers() && leaseNanos - (System.nanoTime() - asked) < STALE_CHECKED_WITHIN
                        && stale(s, item)) { // or given back by a stop while the ledger answered: its handler is not called
                    // the lease ran out (or nearly) while the ledger answered a short claim, which the check of a slow
                    // answer below does not look at: run, the handler held a claim the keeper could not extend before
                    // it ended, and the copy the transport hands out now claimed it too. Let go, and left to that copy
                    ledger.release(claim);
                    return new FailureDecision.ClaimedElsewhere(Duration.ZERO);
                }
                var setback = ledger.hold(item, claim, lease, System.nanoTime() - asked, leaseBefore);
                if (setback != null) {
                    return setback;
                }
            } else {
                ledger.worked(item);
                switch (answer) {
                    case Claim.Completed c -> {
                        s.counters().duplicates.increment();
                        notes.duplicate(item, key);
                        return null;
                    }
                    case Claim.InProgress p when EarlyAcks.owns(item, key) -> {
                        // skip-delete: an earlier event of this very delivery holds it, kept for its handler: the same
                        // event twice in one message (S3 records repeating a sequencer) — asked again, it waited for ever
                        s.counters().duplicates.increment();
                        notes.duplicate(item, key);
                        return null;
                    }
                    case Claim.InProgress p -> {
                        // a plugin's ledger that does not say until when: asked again shortly (it threw here, and the
                        // engine's fault was counted as the message's own, dead-lettering it)
                        return new FailureDecision.ClaimedElsewhere(p.leaseUntil() == null ? FailureDecision.CLAIM_RECHECK
                                : Duration.between(s.clock().instant(), p.leaseUntil()));
                    }
                    case Claim.Acquired a -> throw new AssertionError("taken above");
                }
            }
        }
        long start = System.nanoTime();
        Outcome outcome;
        String threw = null;
        dev.ferry.domain.handle.HeldElsewhereException heldElsewhere = null;
        dev.ferry.domain.handle.LedgerFailedException ledgerFailed = null;
        var call = s.watch().begin(item.delivery.id());
        boolean ledgerRetry = item.handlerStoreFailures > 0; // its ledger failing is still said while this try runs
        if (ledgerRetry) {
            s.intake().ledgerRetryRunning(1);
        }
        if (s.config().skipDelete()) {
            EarlyAcks.calling(item);
        }
        try {
            outcome = s.handler().handle(event, item.delivery);
            if (outcome == null) {
                threw = "nothing (a handler must return an Outcome)";
            }
        } catch (Throwable e) {
            outcome = null;
            heldElsewhere = wrapped(e, dev.ferry.domain.handle.HeldElsewhereException.class);
            ledgerFailed = heldElsewhere != null ? null : wrapped(e, dev.ferry.domain.handle.LedgerFailedException.class);
            // whatever its message or cause does (throws, runs out of memory): thrown out of here, past the claim's
            // release below, the delivery waited on its own claim for ever
            threw = heldElsewhere != null || ledgerFailed != null ? null : JournalNotes.describe(e);
        } finally {
            if (ledgerRetry) {
                s.intake().ledgerRetryRunning(-1);
            }
        }
        item.claim = null; // answered: past here, a throw of the engine's must not let go of a claim whose effect happened
        long took = System.nanoTime() - start;
        if (Thread.currentThread().isInterrupted() && s.running().getAsBoolean()) {
            // one the handler left set (a stop's is kept): the ledger's completion and the delivery's next event must
            // not meet it — an SDK call aborts on it, a sink answers Retry
            Thread.interrupted();
        }
        if (s.watch().end(call)) { // the reason says so, whichever way the handler answered the interrupt
            String timedOut = "past its timeout of " + Durations.text(s.config().handlerTimeout()) + " (interrupted): ";
            if (heldElsewhere != null) {
                threw = JournalNotes.describe(heldElsewhere); // the call ran past its timeout: a failed attempt all the same
                heldElsewhere = null;
            } // a ledger's failure stays the ledger's: one that hangs to its bound (10 s) made the call run past its timeout
            if (threw != null) {
                threw = timedOut + threw;
            } else if (outcome instanceof Outcome.Retry r) {
                outcome = new Outcome.Retry(r.after(), timedOut + r.reason());
            }
        }
        if (heldElsewhere != null) {
            // part of its work is another worker's for now (a fan-out target's mark): waited for in hand like an event's
            // claim held elsewhere — no attempt spent, the intake not paused; not an outcome for observers (nor is a claim
            // held elsewhere found before the call: the event is handled when the wait is over)
            ledger.release(claim);
            return new FailureDecision.ClaimedElsewhere(heldElsewhere.remaining() == null ? FailureDecision.CLAIM_RECHECK
                    : heldElsewhere.remaining());
        }
        if (ledgerFailed != null) {
            // the handler's own ledger call failed (a fan-out target's mark): the ledger's failure, not the event's nor a
            // sink's throttling — waited out in hand, no attempt spent, the source not ready while it lasts. Its claim kept
            // as a throttle's is: released to the ledger that is down, the release failed, and its next try waited a lease
            // on its own claim left behind
            keepOrRelease(item, claim, STORE_WAIT);
            var failed = (FailureDecision.StoreFailed) ledger.storeFailed(item, ledgerFailed.operation(),
                    ledgerFailed.getCause() != null ? ledgerFailed.getCause() : ledgerFailed);
            return new FailureDecision.StoreFailed(failed.operation(), failed.problem(),
                    Math.max(failed.consecutive(), ++item.handlerStoreFailures));
        }
        s.observer().handled(event, outcome != null ? outcome : Outcome.retry("handler threw " + threw), took);
        if (outcome instanceof Outcome.Done) {
            item.handlerStoreFailures = 0;
            s.intake().succeeded();
            if (s.config().skipDelete()) {
                EarlyAcks.kept(item, claim);
                return null;
            }
            if (claim != null) {
                if (s.completer() != null && item.nextEvent == item.events.size() - 1) {
                    item.toComplete = claim; // recorded off this worker once the loop is over: see completeLater
                    return null;
                }
                // the one to complete before the call: a throw past the ledger's failure (its warning's log, no memory)
                // left the claim tracked nowhere — neither extended nor owed, and the next try waited it out and ran again
                item.toComplete = claim;
                var setback = ledger.complete(item, claim);
                if (setback != null) {
                    return setback;
                }
                item.toComplete = null;
            }
            return null;
        }
        keepOrRelease(item, threw == null ? claim : null, outcome);
        if (threw != null) {
            ledger.release(claim);
            s.counters().failures.increment();
            notes.failed(item, key, "the handler threw " + threw);
            return new FailureDecision.Threw("the handler", threw);
        }
        switch (outcome) {
            case Outcome.Retry r -> notes.failed(item, key, "retry: " + r.reason());
            case Outcome.Reject r -> notes.failed(item, key, "rejected: " + r.reason());
            default -> { }
        }
        switch (outcome) {
            case Outcome.Retry r -> s.counters().failures.increment();
            case Outcome.Throttled t -> {
                s.counters().throttled.increment();
                s.intake().throttled();
            }
            default -> { }
        }
        return new FailureDecision.Answered(outcome);
    }


    /**
     * The claim it kept while it waited, extended for {@code lease} and taken up again (one ledger call, not a release
     * and a claim); null when there is none for {@code key} or the ledger says it is no longer ours (then claimed anew).
     * A call that throws keeps it for the next try.
     */
    private Claim resumed(InFlight item, String key, Duration lease) {
        if (item.pausedClaim.get() == null) {
            return null; // nearly every event: a read, not a write, before its claim
        }
        var paused = item.pausedClaim.getAndSet(null);
        if (paused == null) {
            return null;
        }
        boolean ours;
        try {
            ours = paused.key().equals(key) && s.ledger().extend(paused.key(), paused.token(), lease);
        } catch (Throwable e) {
            item.pausedClaim.compareAndSet(null, paused); // kept for the next try
            if (item.settled.get()) { // let go meanwhile (a stop past its deadline): nobody else would release it
                ledger.release(item.pausedClaim.getAndSet(null));
            }
            throw e;
        }
        if (!ours) {
            ledger.release(paused); // not ours any more, or not this event's: a plugin ledger's "no" may still hold it
            return null;
        }
        return new Claim.Acquired(paused.key(), paused.token(), s.clock().instant().plus(lease));
    }

    /** The wait in hand a ledger's failure under the handler is taken for, to keep the event's claim over. */
    private static final Outcome STORE_WAIT = Outcome.throttled(Duration.ofSeconds(1));

    /**
     * Keeps {@code claim} while the delivery waits in hand, for a wait well within its claim's lease (not extended
     * meanwhile; let go when it leaves the listener's hands): released and claimed again at every short wait, a 429
     * storm was two ledger writes per message per Retry-After on every instance — the ledger throttled in turn, and a
     * release that failed left a claim its own next try waited on. A longer wait lets it go, as before.
     */
    private void keepOrRelease(InFlight item, InFlight.HeldClaim claim, Outcome waiting) {
        if (claim == null) {
            return;
        }
        if (!waitsWithinItsClaim(item, waiting)) {
            ledger.release(claim);
            return;
        }
        item.pausedClaim.set(claim);
        if (item.settled.get()) { // let go meanwhile (a stop past its deadline): nobody else would release it
            ledger.release(item.pausedClaim.getAndSet(null));
        }
    }

    /** Whether the outcome asks for a wait of at most half of what is left of the delivery's lease (its claim's too). */
    private boolean waitsWithinItsClaim(InFlight item, Outcome outcome) {
        Duration wait = switch (outcome) {
            case Outcome.Throttled t -> t.retryAfter();
            case Outcome.Retry r when r.after().isPositive() -> r.after(); // zero: the listener's backoff, not known here
            case null, default -> null;
        };
        try {
            return wait != null && wait.multipliedBy(2).compareTo(Duration.between(s.clock().instant(), item.leaseUntil)) < 0;
        } catch (Throwable e) { // a clock that throws: let it go, as before
            return false;
        }
    }

    /** The {@code type} (a handler's signal to the engine) {@code e} is or wraps (a decorator's), else null. */
    private static <T extends Throwable> T wrapped(Throwable e, Class<T> type) {
        try {
            for (int depth = 0; e != null && depth < 8; depth++, e = e.getCause()) {
                if (type.isInstance(e)) {
                    return type.cast(e);
                }
            }
        } catch (Throwable unreadable) { // a cause that throws (an Error too): not a wait, a failure like any other
            return null;
        }
        return null;
    }

    /**
     * On a transport that keeps a message while it is ours (Kafka): the transport gave it to another consumer (its
     * partition revoked). A held head retried here then ran after its next owner had dead-lettered it and gone on to its
     * group's later messages; its group's next message ran here after a dead letter refused for the revocation. A
     * transport's throw is taken as held: asked again before the next attempt.
     */
    static boolean gone(Processor.Shared s, InFlight item) {
        try {
            return !s.settler().holds(item.delivery);
        } catch (Throwable e) {
            return false;
        }
    }

    /** A claim answered with less than this left of its lease is looked at for a stale delivery (a tick is 1 s at most). */
    private static final long STALE_CHECKED_WITHIN = 3_000_000_000L;
    /** The keeper's longest tick: a lease longer than this is never within one (no tick computed per event). */
    private static final long MAX_TICK = 1_000_000_000L;

    /**
     * Whether the delivery is stale: on a transport that hands a message out again when its lease ends, the lease is
     * over or ends before the lease keeper's next round — a claim taken now would end before anyone could extend it,
     * and the copy handed out then would claim the event beside this one's handler (which it had not run yet). On one
     * that keeps it while it is ours, it is {@link #gone}.
     */
    static boolean stale(Processor.Shared s, InFlight item) {
        if (!s.redelivers()) {
            return gone(s, item);
        }
        var now = s.clock().instant();
        var until = item.leaseUntil;
        long seconds = until.getEpochSecond() - now.getEpochSecond();
        if (seconds < 0) {
            return true; // over
        }
        if (seconds > 2) {
            return false; // a tick is a second at most: the common case, without arithmetic per event
        }
        long left = seconds * 1_000_000_000L + (until.getNano() - now.getNano());
        return left <= LeaseKeeper.tickNanos(s.config());
    }

    /** What is left of the item's visibility lease, at least a millisecond. */
    private Duration remainingLease(InFlight item) {
        var left = Duration.between(s.clock().instant(), item.leaseUntil);
        if (left.compareTo(Duration.ofMillis(1)) < 0) {
            // past its lease: the message is someone else's soon, or (a source that does not hand it out again) still ours
            return s.redelivers() ? Duration.ofMillis(1) : s.config().lease();
        }
        return left;
    }

    /** Decodes a held delivery again, after its decoder threw: its events when that works now. */
    /**
     * {@link #decodeAgain}, watched as a handler call is: past the handler timeout it is interrupted, and one that does
     * not return is a wedge the health says (a decoding tried in the delivery's turn, past the receive limit, which a
     * hang held a worker and its group in silence, the lease extended for ever). A malformed answer is its problem.
     */
    dev.ferry.domain.decode.Decoded decodeWatched(InFlight item) {
        var call = s.watch().begin(item.delivery.id());
        try {
            var decoded = decodeAgain(item);
            if (!(decoded instanceof dev.ferry.domain.decode.Decoded.Events)) {
                s.counters().decodeFailures.increment(); // first tried here: a delivery past the receive limit
            }
            if (decoded instanceof dev.ferry.domain.decode.Decoded.Malformed m) {
                item.decodeProblem = "malformed: " + m.reason();
                item.malformed = m.reason(); // run in its turn (behind its group's poison), it goes as malformed
            }
            return decoded;
        } finally {
            s.watch().end(call);
        }
    }

    dev.ferry.domain.decode.Decoded decodeAgain(InFlight item) {
        try {
            var decoded = s.decoder().decode(item.delivery);
            if (decoded instanceof dev.ferry.domain.decode.Decoded.Events e) {
                item.events = e.events();
                item.decodeProblem = null;
            } else if (decoded == null) {
                item.decodeProblem = "null (a decoder must return Events or Malformed)";
            }
            return decoded;
        } catch (Throwable e) {
            item.decodeProblem = JournalNotes.describe(e);
            return null;
        }
    }
}
