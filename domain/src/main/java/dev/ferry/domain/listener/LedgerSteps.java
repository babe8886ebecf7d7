package dev.ferry.domain.listener;

import dev.ferry.domain.retry.FailureDecision;
import dev.ferry.domain.retry.FailureDecision.Setback;
import dev.ferry.domain.transport.Disposition;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The processor's part in the idempotency ledger once an event's effect happened: completing its claim (on the worker,
 * or later on the completer while the group goes on), recording an effect whose claim was fenced, releasing a claim
 * whose event will run again, and counting the store's failures and recoveries. Failures come back as a {@link Setback}
 * for the processor to decide on; nothing here throws.
 */
final class LedgerSteps {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final Processor.Shared s;
    private final Consumer<InFlight> giveBack;
    /** Completions owed (see {@link #owe}) and not yet recorded. */
    private final OwedCompletions owed;
    /** A transport-ordered group's delivery whose completion is being recorded off its worker, by group. */
    private final Map<String, InFlight> recording = new ConcurrentHashMap<>();
    java.util.concurrent.Executor completer; // for tests: one other than the listener's, set before its start

    /** {@code giveBack} settles a delivery the completer cannot take any more (shutdown). */
    LedgerSteps(Processor.Shared shared, Consumer<InFlight> giveBack) {
        this.s = shared;
        this.giveBack = giveBack;
        this.owed = new OwedCompletions(shared);
    }

    /** The completion {@code item} holds undone, if any, taken off it and owed (see {@link #owe(InFlight.HeldClaim)}). */
    void oweCompletion(InFlight item) {
        owe(item.toComplete);
        item.toComplete = null;
    }

    /** An effect happened whose completion could not be recorded now: see {@link OwedCompletions#owe}. */
    void owe(InFlight.HeldClaim claim) {
        owed.owe(claim);
    }

    /** At the end of a stop: see {@link OwedCompletions#settle}. */
    void settleOwed(Duration within, List<InFlight.HeldClaim> alsoOwed) {
        owed.settle(within, alsoOwed);
    }

    /** Completes a claim whose effect happened; null when done (or fenced), else the store failure. */
    Setback complete(InFlight item, InFlight.HeldClaim claim) {
        boolean completed;
        try {
            completed = Uninterrupted.complete(s.ledger(), claim.key(), claim.token(), s.config().completedTtl());
            if (!completed) {
                owed.recordFencedEffect(claim.key()); // its effect happened: recorded anew before the delivery goes
            }
        } catch (Throwable e) {
            return storeFailed(item, "complete", e);
        }
        worked(item);
        if (!completed) {
            s.counters().fenced.increment();
            LOG.log(Level.WARNING, "completion of {0} was fenced: its claim expired while the handler ran "
                    + "(message {1}); extend the lease or shorten the handler", claim.key(), item.delivery.id());
        }
        return null;
    }

    /**
     * Waits, before a delivery of a transport-ordered group (an SQS FIFO group, a Kafka key) runs, until
     * the completion of the group's delivery before it is recorded. Going on beside it, a later delivery
     * was completed and acknowledged (Kafka: completed) first; killed then, the process left the earlier
     * one unrecorded and on the transport, and it ran again after the later one — a sink that keeps the
     * last value kept the older. Unordered deliveries go on: no transport keeps their order across a
     * crash. A ledger that answers (milliseconds) is waited for on the worker; one that does not, in hand (the
     * worker freed for other groups, the wait asked about again every {@link #EARLIER_RECHECK}). Bounded by
     * the hold limit, counted from the first wait (then it goes on, and says so).
     *
     * @return null to go on now, else how long to wait in hand before asking again
     */
    Duration earlierCompletionPending(InFlight item) {
        if (s.completer() == null || item.delivery.groupKey() == null) {
            return null;
        }
        var earlier = recording.get(item.orderingKey);
        if (earlier == null || earlier == item || recorded(earlier)) {
            item.waitingForEarlierSince = 0;
            return null;
        }
        long now = System.nanoTime();
        if (item.waitingForEarlierSince == 0) {
            item.waitingForEarlierSince = now | 1;
            long spinUntil = now + EARLIER_SPIN_NANOS;
            for (long pause = 10_000; !recorded(earlier) && System.nanoTime() - spinUntil < 0; pause = Math.min(pause * 2, 2_000_000)) {
                java.util.concurrent.locks.LockSupport.parkNanos(this, pause);
            }
            if (recorded(earlier)) {
                item.waitingForEarlierSince = 0;
                return null;
            }
        } else if (now - item.waitingForEarlierSince > dev.ferry.domain.model.Durations.nanos(s.policies().holdLimit())) {
            item.waitingForEarlierSince = 0;
            LOG.log(Level.WARNING, "message " + item.delivery.id() + " of '" + s.name() + "' goes on before the completion "
                    + "of message " + earlier.delivery.id() + " of its group is recorded (the ledger has not answered "
                    + "for the hold limit): should this process die now, that message runs again after it");
            return null;
        }
        return EARLIER_RECHECK;
    }

    /** How long a worker waits for an earlier completion before the delivery waits in hand instead. */
    private static final long EARLIER_SPIN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final Duration EARLIER_RECHECK = Duration.ofMillis(200);

    private static boolean recorded(InFlight item) {
        return item.toComplete == null || item.settled.get();
    }

    /** Records the delivery's last completion on the completer, then acknowledges it: see {@link #finishCompletion}. */
    void completeLater(InFlight item) {
        if (item.delivery.groupKey() != null && item.orderingKey != null) {
            recording.put(item.orderingKey, item);
        }
        recordLater(item);
    }

    /** Hands the completion to the completer (again, after a failure: the group's later deliveries may be waiting on it). */
    private void recordLater(InFlight item) {
        item.held = false; // (when asked again) no longer waiting in hand
        try {
            (completer != null ? completer : s.completer()).execute(() -> finishCompletion(item));
        } catch (RejectedExecutionException stopping) {
            giveBack.accept(item); // records it here, then acknowledges
        } catch (Throwable noThread) { // no thread to be had (OutOfMemoryError): thrown on, it ended unlogged in the
            if (item.toComplete != null && item.completing.compareAndSet(false, true)) { // timer's task, left in hand
                ackOwing(item, "finding a thread to record", noThread); // owed: recorded here, I/O would hold the timer
            } // (else a stop is giving it back: that settles it)
        }
    }

    /** A fault of the engine itself: the effect happened, so the delivery is acknowledged and its completion owed. */
    private void ackOwing(InFlight item, String failed, Throwable e) {
        try {
            owe(item.toComplete); // a copy within the lease, or a duplicate, finds it done
            s.settler().settle(item, Disposition.ACK);
            item.toComplete = null; // after the settle: a shutdown in between must not see it finished
            LOG.log(Level.ERROR, failed + " the completion of message " + item.delivery.id() + " of '" + s.name()
                    + "' failed; acknowledged, its completion owed", e);
        } catch (Throwable again) { // this allocates too (OutOfMemoryError): thrown on, it left the delivery taken, in
        } finally { // hand, neither held nor asked again — its lease extended, its group waiting — until the stop
            item.completing.set(false); // (taken by its caller) freed before the retry below is scheduled
        }
        try {
            if (item.toComplete != null) { // not acknowledged: held, and asked again as a failed completion is
                holdAndAskAgain(item);
            }
        } catch (Throwable notEven) { // held all the same: the stop gives it back (giveBackHeld), which settles it
        }
    }

    private void holdAndAskAgain(InFlight item) {
        item.held = true; // first: should the rest fail, the stop gives it back
        s.counters().held.increment();
        var delay = s.policies().storeBackoff().delay(Math.max(1, item.storeFailures), s.nextRandom());
        s.scheduler().schedule(() -> recordLater(item), dev.ferry.domain.model.Durations.nanos(delay),
                TimeUnit.NANOSECONDS);
    }

    /**
     * Records a deferred completion, then acknowledges the delivery. The effect has happened, so a ledger that fails is
     * asked again (after the store backoff, the delivery in hand and its lease kept) rather than the delivery put back:
     * running it again would repeat its effect, behind later deliveries of its group. At shutdown a delivery still
     * waiting is acknowledged. A delivery whose lease ran out meanwhile (the transport may have handed it out again) is
     * recorded once more if the ledger answers, then dropped as stale: its receipt no longer settles anything.
     */
    private void finishCompletion(InFlight item) {
        if (!item.completing.compareAndSet(false, true)) {
            return; // a shutdown is giving it back: that settles it
        }
        boolean freed = false;
        try {
            if (item.toComplete == null) {
                return;
            }
            boolean settled = item.settled.get(); // given back by a stop's deadline while its handler ran on, then
            var setback = complete(item, item.toComplete); // Done: recorded even so (dropped, its copy ran it again)
            boolean stale = !settled && s.redelivers() && !s.clock().instant().isBefore(item.leaseUntil);
            if (settled || setback == null || stale || !s.running().getAsBoolean()) {
                if (setback != null) {
                    owe(item.toComplete); // the effect happened: recorded once the ledger answers, or its copy runs it again
                }
                if (stale) {
                    s.settler().dropStale(item, true);
                } else if (!settled) {
                    s.settler().settle(item, Disposition.ACK);
                }
                item.toComplete = null; // after the settle: a shutdown in between must not see it finished
                if (item.orderingKey != null) {
                    recording.remove(item.orderingKey, item);
                }
                return;
            }
            freed = true; // before the retry is scheduled: one that began before this thread went on found it taken, and
            item.completing.set(false); // returned — nothing asked again, the delivery in hand for good
            holdAndAskAgain(item);
        } catch (RejectedExecutionException stopping) {
            owe(item.toComplete); // its completion failed as the listener stopped: owed, the stop's last pass tries it
            s.settler().settle(item, Disposition.ACK);
        } catch (Throwable e) { // if freed (its retry not scheduled), taken again: unless a stop is giving it back
            if (!freed || item.completing.compareAndSet(false, true)) {
                freed = true; // ackOwing frees it, before it asks again
                ackOwing(item, "recording", e);
            }
        } finally {
            if (!freed) {
                item.completing.set(false);
            }
        }
    }

    /**
     * Lets go of the claim held for a handler that never answered (its step threw: a log, no memory). Left marked
     * the delivery's, the lease keeper extended it, and every later try found the key held — by the delivery itself.
     */
    void releaseHeld(InFlight item) {
        var claim = item.claim;
        item.claim = null;
        release(claim);
    }

    /** Leaving unacknowledged: the claims of its sinks still waiting are released; an effect done stays owed to the ledger. */
    void letGoOfClaims(InFlight item) {
        List<InFlight.HeldClaim> acked = null;
        boolean keptPart;
        synchronized (item) { // one step for a handler's ack: taken before it (EarlyAcks), or finding it remembered after
            if (item.settledEarly.get() == null && EarlyAcks.over(item)) { // its handler acked every event it kept
                acked = List.copyOf(item.asyncClaims);
                item.asyncClaims.clear();
            }
            keptPart = s.settler().hands().keepPart(item); // remembered as put back: a settle of it reaches no transport
        }
        if (acked != null) {
            completeAcked(acked);
        }
        if (!keptPart) { // else the events its handler kept (skip-delete) stay with it
            settledByHandler(item, LET_GO); // those it acked done, the others released
            item.asyncClaims.clear();
        }
        letGoOfMark(item); // a receive-limit mark left by a try that failed
        oweCompletion(item);
    }

    private static final Disposition LET_GO = Disposition.redeliver(Duration.ZERO);

    /** Lets go of the receive-limit mark a failed try of {@code item} left held ({@link ReceiveLimit}), if any. */
    void letGoOfMark(InFlight item) {
        release(item.takeDecodingMark());
    }

    /** Releases a claim whose event will run again; a failure only logs (the claim's lease runs out). */
    void release(InFlight.HeldClaim claim) {
        if (claim == null) {
            return;
        }
        try {
            s.ledger().release(claim.key(), claim.token());
        } catch (Throwable e) {
            LOG.log(Level.WARNING, "ledger release of {0} failed (its lease will run out): {1}", claim.key(), JournalNotes.describe(e));
        }
    }

    /**
     * skip-delete: the handler settled a delivery it kept. On {@code Ack} its events are completed in the ledger now
     * (their effect is confirmed); on anything else their claims are released so the redelivery runs them again.
     */
    void settledByHandler(InFlight item, Disposition disposition) {
        if (s.ledger() == null) {
            return;
        }
        List<InFlight.HeldClaim> decided;
        synchronized (item) { // decided once: a stop let go of it among its events, a second settle (a later event's) came
            decided = List.copyOf(item.asyncClaims); // and an event put back was completed by it, recorded done
            item.asyncClaims.clear();
        }
        for (var claim : decided) {
            if (!(disposition instanceof Disposition.Ack) && !EarlyAcks.acked(item, claim)) { // acked before: done
                release(claim);
            } else {
                completeKept(claim);
            }
        }
    }

    /** Claims of events a handler acked while later ones were still to run ({@link EarlyAcks}): completed now. */
    void completeAcked(List<InFlight.HeldClaim> acked) {
        if (s.ledger() != null) {
            acked.forEach(this::completeKept);
        }
    }

    private void completeKept(InFlight.HeldClaim claim) {
        try {
            if (!Uninterrupted.complete(s.ledger(), claim.key(), claim.token(), s.config().completedTtl())) {
                s.counters().fenced.increment();
                owed.recordFencedEffect(claim.key()); // its effect happened: a later copy must find it done
            }
        } catch (Throwable e) { // owed as the engine's own completions are: only logged, the claim ran out and the
            s.counters().ledgerFailures.increment(); // next copy ran it again
            LOG.log(Level.WARNING, "ledger completion of {0} failed after its asynchronous work was settled; "
                    + "tried again while its claim lasts: {1}", claim.key(), JournalNotes.describe(e));
            owe(claim);
        }
    }

    /**
     * A delivery its handler settled ({@code Listener.settle}) before it failed or threw: that settlement
     * stands. Its claims are completed or released as it said, and its slot freed (the settlement went out
     * when it was made). False when its handler did not settle it.
     */
    boolean settledByItsHandler(InFlight item) {
        var early = item.settledEarly.get();
        if (early == null) {
            return false;
        }
        settledByHandler(item, early);
        item.asyncClaims.clear();
        owe(item.toComplete); // an effect whose completion failed: recorded once the ledger answers, or its copy runs it again
        item.toComplete = null;
        s.settler().settle(item, early);
        return true;
    }

    /** Counts a failure of the store (the ledger, or the parker on it) and returns it as a setback. */
    Setback storeFailed(InFlight item, String operation, Throwable e) {
        s.counters().ledgerFailures.increment();
        String failure = JournalNotes.describe(e); // a plugin ledger's exception may not even print
        s.intake().ledgerFailed(operation, failure);
        return new FailureDecision.StoreFailed(operation, failure, ++item.storeFailures);
    }

    /** Claims asked for at least this long are checked for a lease that ran out while the ledger answered. */
    static final Duration CHECKED_CLAIM = Duration.ofSeconds(1);

    /**
     * A claim acquired for {@code item}, asked for {@code lease} when its delivery's lease ended at
     * {@code leaseBefore}, held for the handler ({@code item.claim}): null when it holds, else it is let go and
     * what stood in the way — the ledger's failure (counted, on the health check; the message waits as in an
     * outage, and the wait grows while it lasts):
     * <ul>
     * <li>answered after its own lease ran out (a throttled ledger, its retries, a disk that hung): another
     *     instance may hold the key by now, and the lease keeper's extension would be refused — run on, the
     *     event could be handled twice;
     * <li>answered while the lease keeper extended the delivery's lease, before the keeper could see the claim (it
     *     read the claims before its call to the transport, or moved the lease since): extended now to match (to a
     *     whole lease while the call is under way), or it could lapse before the keeper's next round; refused or
     *     failing, let go.
     * </ul>
     */
    Setback hold(InFlight item, InFlight.HeldClaim claim, Duration lease, long tookNanos, java.time.Instant leaseBefore) {
        if (lease.compareTo(CHECKED_CLAIM) >= 0 && tookNanos >= dev.ferry.domain.model.Durations.nanos(lease)) {
            release(claim);
            return storeFailed(item, "claim", new dev.ferry.domain.model.FerryException("the ledger answered after the "
                    + "claim's lease of " + dev.ferry.domain.model.Durations.text(lease) + " ran out (it took "
                    + dev.ferry.domain.model.Durations.text(Duration.ofNanos(tookNanos)) + ")", true));
        }
        item.claim = claim; // from here on the lease keeper extends it with its delivery
        boolean extending = item.extending; // read after the claim is set: the keeper sets it before reading the claim
        if (extending || !leaseBefore.equals(item.leaseUntil)) {
            Throwable failed;
            try {
                var left = extending ? s.config().lease() : Duration.between(s.clock().instant(), item.leaseUntil);
                failed = s.ledger().extend(claim.key(), claim.token(), left.isNegative() ? Duration.ofMillis(1) : left) ? null
                        : new dev.ferry.domain.model.FerryException("the claim ran out before it could be extended with "
                                + "its message's lease (the ledger answered slowly)", true);
            } catch (Throwable e) {
                failed = e;
            }
            if (failed != null) {
                item.claim = null;
                release(claim);
                return storeFailed(item, "claim", failed);
            }
        }
        worked(item);
        return null;
    }

    /** The store answered: the delivery's run of store failures is over. */
    void worked(InFlight item) {
        item.storeFailures = 0;
        s.intake().ledgerWorked();
    }
}
