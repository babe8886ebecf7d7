package dev.ferry.domain.listener;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.ordering.OrderingGroups;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.ordering.OrderingGroups.Step;
import dev.ferry.domain.retry.FailureDecision;
import dev.ferry.domain.retry.FailureDecision.Setback;
import dev.ferry.domain.transport.Disposition;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;

/**
 * The middle of a delivery's path, run in its group's turn: claim each event in the ledger, handle it, complete it —
 * and when anything goes otherwise, ask {@link FailureDecision} and carry the decision out: hold the delivery in hand
 * and try again later (its group waits), or settle it. Whatever the handler, sink, decoder or ledger throws — an
 * {@code Error} too — ends in a decision.
 */
final class Processor implements OrderingGroups.Worker<InFlight> {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    record Shared(String name, Handler handler, IdempotencyLedger ledger, ListenerConfig config, Clock clock,
                  Intake intake, Counters counters, ListenerObserver observer, Settler settler,
                  FailureCounts failureCounts, FailureDecision.Policies policies, ScheduledExecutorService scheduler,
                  BooleanSupplier running, SplittableRandom random, String ledgerScope, Executor completer,
                  GroupParker parker, boolean redelivers, dev.ferry.domain.decode.Decoder decoder, HandlerWatch watch) {

        /** A random of its own for one decision (the shared one is split under its lock). */
        SplittableRandom nextRandom() {
            synchronized (random) {
                return random.split();
            }
        }
    }

    private final Shared s;
    private final JournalNotes notes;
    private final EventKeys keys;
    private final ParkingSteps parking;
    private final LedgerSteps ledger;
    private final EventSteps events;
    private OrderingGroups<InFlight> groups;

    Processor(Shared shared) {
        this.s = shared;
        this.notes = JournalNotes.of(shared);
        this.keys = new EventKeys(shared.ledger(), shared.ledgerScope());
        this.parking = new ParkingSteps(shared.parker(), shared.name());
        this.ledger = new LedgerSteps(shared, this::giveBack);
        this.events = new EventSteps(shared, keys, notes, ledger);
    }

    JournalNotes notes() {
        return notes;
    }

    void groups(OrderingGroups<InFlight> groups) {
        this.groups = groups;
    }

    @Override
    public Step step(InFlight item) {
        try {
            return run(item);
        } catch (Throwable e) { // a fault of the engine itself: the delivery still ends in a decision
            ledger.releaseHeld(item);
            LOG.log(Level.ERROR, "processing message " + item.delivery.id() + " of '" + s.name() + "' failed", e);
            return decide(item, new FailureDecision.Threw("the listener", JournalNotes.describe(e)));
        } finally {
            // an interrupt a handler, sink or ledger left set would reach the runner's next item (a sink answers Retry); a stop's is kept
            if (Thread.currentThread().isInterrupted() && s.running().getAsBoolean()) {
                Thread.interrupted();
            }
        }
    }

    @Override
    public void release(InFlight item) {
        if (item.started) { // one whose step threw may have claims to let go of, or an effect done unrecorded
            giveBack(item);
        } else {
            ledger.letGoOfMark(item); // never started: as it is, less a failed try's receive-limit mark
            s.settler().settle(item, Disposition.RELEASE);
        }
    }

    private Step run(InFlight item) {
        // a runner has it: a stop no longer gives it back as waiting in hand (it would be released while it runs,
        // past a slow parked-group lookup, and handled all the same) — said before the look below, which sees its give-back
        item.held = false;
        if (item.settled.get() || ledger.settledByItsHandler(item)) { // settled by its handler while it waited in hand
            ledger.oweCompletion(item); // acked by a stop while its completion was asked, and that failed: owed, not lost
            return InFlight.stepAfterHandlersOwn(item); // its handler's ack or dead letter: its group goes on
        }
        if (EventSteps.stale(s, item)) {
            // the transport handed this message out again (or is about to): a newer copy runs, this one is stale
            return dropStale(item, false);
        }
        var earlier = ledger.earlierCompletionPending(item);
        if (earlier != null) {
            return hold(item, earlier); // its group's earlier delivery is not recorded yet: run after it is
        }
        ParkingSteps.Lookup lookup;
        String owed; // a dead letter given up on before, its copy refused: read before it may run, or it waits (journal down)
        try {
            lookup = parking.lookUp(item);
            owed = item.started ? null : notes.deadLetterOwed(item, s.failureCounts().deadLetterOwed(item.delivery));
        } catch (Throwable e) {
            return decide(item, ledger.storeFailed(item, "parked-group lookup or event journal read", e));
        }
        if (lookup.asked()) {
            ledger.worked(item);
        }
        if (lookup.behind() != null) {
            return apply(item, new FailureDecision.Settle(Disposition.deadLetter(GroupParker.behind(lookup.behind())), false));
        }
        if (item.malformed != null) {
            return apply(item, FailureDecision.decide(new FailureDecision.Malformed(item.malformed), null, null, null));
        }
        if (!item.started) {
            if (owed != null) { // given up on before, its copy refused: it goes there now, not to its handler again
                if (EventSteps.stale(s, item)) { // its lease ran out (the journal's read was slow): the copy out now goes
                    return dropStale(item, false);
                }
                item.started = true;
                notes.deadLettered(item, owed);
                s.settler().settle(item, Disposition.deadLetter(owed));
                return Step.DONE;
            }
            var dead = FailureDecision.onReceive(counts(item, 0), s.config().deadLetter());
            if (dead != null) {
                // an earlier copy's ack made within its lease may still be on its way (then refused, it is a pass): its
                // passes and those acks are read at once, under the settler's lock (a refused ack's pass is never lost
                // or counted twice; one recorded after the read is of a later moment)
                int passes = s.settler().passesWithAcksInFlight(item.delivery.id());
                var c = counts(item, 0);
                dead = FailureDecision.onReceive(new FailureDecision.Counts(c.receiveCount(), c.failures(),
                        c.throttles(), passes), s.config().deadLetter());
            }
            if (dead != null) {
                dev.ferry.domain.idempotency.Claim done; // see EventKeys#state: all done, held elsewhere, or neither
                try {
                    done = keys.state(ReceiveLimit.decoded(item, events, s.ledger()), s.clock());
                } catch (Throwable e) { // it may be done: not dead-lettered blind, it waits for the ledger in hand
                    return decide(item, ledger.storeFailed(item, "duplicate check", e));
                }
                boolean behind = ReceiveLimit.behindItsGroupsPoison(item); // or its first: waiting, or found done, too
                if (done instanceof dev.ferry.domain.idempotency.Claim.InProgress held) {
                    // another's handler may finish it: it waits, as below the limit (a dead one's claim lapses)
                    return decide(item, EventKeys.waitFor(held, s.clock()));
                }
                if (done == null && !behind) {
                    item.started = true;
                    if (item.events == null) { // its decoder threw on this receive too: the reason says what with
                        dead = new FailureDecision.Settle(Disposition.deadLetter(((Disposition.DeadLetter) dead.disposition())
                                .reason() + "; " + ReceiveLimit.decodeProblem(item.decodeProblem)), false);
                    }
                    return apply(item, dead);
                }
            }
            item.started = true;
        }
        if (item.events == null && !s.redelivers() && s.failureCounts().get(item.delivery.id()).failures() > 0
                && events.decodeAgain(item) instanceof dev.ferry.domain.decode.Decoded.Malformed m) {
            return apply(item, FailureDecision.decide(new FailureDecision.Malformed(m.reason()), null, null, null));
        }
        if (item.malformed != null) { // decoded in its turn, behind its group's poison past the limit: malformed
            return apply(item, FailureDecision.decide(new FailureDecision.Malformed(item.malformed), null, null, null));
        }
        if (item.events == null) {
            // a decoder's throw: a transport that hands it out again takes it back, decoded by its next poll in its group's
            // order (repeated from memory, the trouble passing went unseen); held in hand, it is decoded on each attempt
            notes.decodeFailed(item, "the decoder threw " + item.decodeProblem); // said by message id, as a handler's is
            var decision = decision(item, new FailureDecision.Threw("the decoder", item.decodeProblem));
            return apply(item, s.redelivers() && decision instanceof FailureDecision.Hold h
                    ? new FailureDecision.Settle(Disposition.redeliver(h.delay()), false) : decision);
        }
        if (item.toComplete != null) {
            var setback = ledger.complete(item, item.toComplete);
            if (setback != null) {
                return decide(item, setback);
            }
            item.toComplete = null;
            item.nextEvent++;
        }
        int first = item.nextEvent;
        while (item.nextEvent < item.events.size()) {
            if (item.settled.get() || item.nextEvent > first && EventSteps.stale(s, item)) {
                // an earlier event's handler (or a lookup) ran past the lease or a stop's deadline: handed out again or given
                // back, its copy takes up from here finding those done done; this one would run the rest beside it
                return ledger.settledByItsHandler(item) ? InFlight.stepAfterHandlersOwn(item) : dropStale(item, false);
            }
            var setback = events.run(item, item.events.get(item.nextEvent));
            if (setback != null) {
                return decide(item, setback);
            }
            item.nextEvent++;
        }
        try {
            parking.passed(item);
        } catch (Throwable e) {
            return decide(item, ledger.storeFailed(item, "parked-group release", e));
        }
        if (item.toComplete != null) {
            // the last completion waits on the ledger's I/O, the worker need not (a transport-ordered group's next waits)
            item.nextEvent = item.events.size() - 1;
            ledger.completeLater(item);
            return Step.DONE;
        }
        if (s.config().skipDelete() && item.handedToHandler > 0 && item.settledEarly.get() == null && EarlyAcks.over(item)) {
            ledger.settledByHandler(item, Disposition.ACK); // its handler acked every event it kept while later ones ran
            item.asyncClaims.clear();
            s.settler().settle(item, Disposition.ACK);
            return Step.DONE;
        }
        if (s.config().skipDelete() && item.handedToHandler > 0) {
            // given back by the stop while its handle() ran, yet kept by its handler (unless it settled early: below)
            boolean handedOver = s.settler().hands().handOver(item, item.settledEarly.get() == null && !s.running().getAsBoolean());
            if (handedOver) {
                s.counters().handedOver.increment();
            }
            var early = item.settledEarly.get(); // the handler settled it before handle() returned (a stop took it meanwhile)
            if (early != null && (!handedOver || s.settler().hands().takeBack(item.delivery) != null)) {
                ledger.settledByHandler(item, early);
            }
            return Step.DONE;
        }
        s.settler().settle(item, Disposition.ACK);
        return Step.DONE;
    }

    private Step decide(InFlight item, Setback setback) {
        return apply(item, decision(item, setback));
    }

    /** The failure decision for a setback, its failure counted when it is the message's own. */
    private FailureDecision.Decision decision(InFlight item, Setback setback) {
        var id = item.delivery.id();
        boolean own = setback instanceof FailureDecision.Threw
                || setback instanceof FailureDecision.Answered(Outcome.Retry r);
        int failures = own ? s.failureCounts().recordFailure(id) : s.failureCounts().get(id).failures();
        return FailureDecision.decide(setback, counts(item, failures), s.policies(), s.nextRandom());
    }

    private Step apply(InFlight item, FailureDecision.Decision decision) {
        if (ledger.settledByItsHandler(item)) { // not handled again (it was acked already, say), nor dead-lettered after it
            return InFlight.stepAfterHandlersOwn(item);
        }
        return switch (decision) {
            case FailureDecision.Hold h -> hold(item, h.delay());
            case FailureDecision.Settle st when !(st.disposition() instanceof Disposition.Ack) && ackedDespite(item) ->
                    giveBack(item) ? Step.FAILED : Step.DONE;
            case FailureDecision.Settle st -> {
                var disposition = st.disposition();
                boolean stale = disposition instanceof Disposition.DeadLetter && (item.settled.get() || (s.redelivers()
                        ? !s.clock().instant().isBefore(item.leaseUntil) : EventSteps.gone(s, item))); // not parked
                if (disposition instanceof Disposition.DeadLetter dead && !stale && parking.parks(item)) {
                    try { // before it leaves: the group's next message must find the group parked
                        disposition = parking.park(item, dead);
                    } catch (Throwable e) {
                        yield decide(item, ledger.storeFailed(item, "park", e));
                    }
                    if (disposition == null) { // the group was released while this message was on its way: it goes on
                        yield run(item);
                    }
                }
                if (disposition instanceof Disposition.DeadLetter dead && !stale && !item.settled.get()) {
                    notes.deadLettered(item, dead.reason()); // not one a stop released meanwhile: owed, it came back unrun
                }
                if (st.excused()) {
                    s.failureCounts().recordThrottle(item.delivery.id());
                }
                if (!(disposition instanceof Disposition.Ack)) {
                    ledger.letGoOfClaims(item);
                }
                if (stale) {
                    // its lease ran out while it was decided on, or a stop gave it back: the copy out again decides (a
                    // dead letter sent now would sit in the DLQ beside its outcome, a park hold its group behind a head
                    // in no DLQ). Not excused: it ran and failed, and the receive limit must still catch it
                    yield dropStale(item, item.started);
                }
                s.settler().settle(item, disposition);
                yield disposition instanceof Disposition.Ack || disposition instanceof Disposition.DeadLetter
                        ? Step.DONE : Step.FAILED;
            }
        };
    }

    /**
     * Drops a copy whose lease ran out (the transport handed the message out again). On a transport that locks a group
     * (SQS FIFO: a delivery with a group key), its later messages here go too: run now, they overtook the new copy.
     * {@code ranAndFailed}: its own handling ran past the lease and failed (its receive is not excused).
     */
    private Step dropStale(InFlight item, boolean ranAndFailed) {
        ledger.letGoOfClaims(item); // a completion that failed before its lease ran out (held for the ledger) is still owed
        s.settler().dropStale(item, !ranAndFailed);
        return item.delivery.groupKey() != null ? Step.FAILED : Step.DONE;
    }

    /** Every effect done, only the last completion missing, past waiting in hand (HTTP waits none): acked and owed. */
    private boolean ackedDespite(InFlight item) {
        try { // put back, it ran again; not past its lease (the new copy decides), nor if its group's pass cannot be kept
            return item.effectDone() && (!s.redelivers() || s.clock().instant().isBefore(item.leaseUntil))
                    && parking.passedNow(item);
        } catch (Throwable e) {
            return false;
        }
    }

    private Step hold(InFlight item, Duration delay) {
        if (item.settled.get()) { // given back by a stop as it failed: a hold the stop drops, or resumes to find it settled,
            ledger.letGoOfClaims(item); // let go of nothing — a completion owed to no one, events its handler kept left to no one
        }
        item.held = true;
        s.counters().held.increment();
        try {
            long nanos = Math.max(0, dev.ferry.domain.model.Durations.nanos(delay));
            s.scheduler().schedule(() -> resume(item), nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            giveBack(item);
        } catch (Throwable e) { // before its resume was queued (OwnThreads#start): held, its group waited for good
            Step step = giveBack(item) ? Step.FAILED : Step.DONE; // given back: its group goes on, as after a failure
            LOG.log(Level.ERROR, "holding message " + item.delivery.id() + " of '" + s.name() + "' failed", e);
            return step;
        }
        return Step.HELD;
    }

    private void resume(InFlight item) {
        // one settled meanwhile goes back to its group too (settled, then the settler threw — no memory — and the throw
        // decided a hold): run, it ends at once and its group's later items go back; left out, the group waited for good
        if (!s.running().getAsBoolean()) {
            if (!item.settled.get()) {
                giveBack(item);
            }
            return;
        }
        try {
            groups.resume(item.orderingKey, item);
        } catch (Throwable e) {
            giveBack(item);
        }
    }

    /**
     * Hands a delivery back that is held or waiting (shutdown): released, so it comes back at once — unless all its events
     * are done and only the ledger's completion is missing, then acked (run again, its effect repeated). True if released.
     */
    boolean giveBack(InFlight item) {
        if (ledger.settledByItsHandler(item)) {
            return false; // its handler's settlement stands, and its claims go as that says
        }
        if (item.effectDone()) {
            if (!item.completing.compareAndSet(false, true)) {
                return false; // the completer is recording it now, and settles it after
            }
            try {
                if (ledger.complete(item, item.toComplete) != null) {
                    ledger.owe(item.toComplete); // the effect happened: recorded once the ledger answers, before the stop ends
                }
                parking.passedQuietly(item);
                s.settler().settle(item, Disposition.ACK);
                item.toComplete = null;
            } finally {
                item.completing.set(false);
            }
            return false;
        }
        ledger.letGoOfClaims(item); // an earlier event's effect happened: recorded, though the delivery goes back
        s.settler().settle(item, Disposition.RELEASE);
        return true;
    }

    /** At the end of a stop: completions still owed are tried once more (see {@link LedgerSteps#owe}). */
    void settleOwed(Duration within, java.util.List<InFlight.HeldClaim> acked) {
        ledger.settleOwed(within, acked); // acked by the stop while their completion was asked: tried too, in parallel
    }

    void settledByHandler(InFlight item, Disposition disposition) { // skip-delete: see LedgerSteps#settledByHandler
        ledger.settledByHandler(item, disposition);
    }

    void completeAcked(java.util.List<InFlight.HeldClaim> acked) {
        ledger.completeAcked(acked);
    }

    private FailureDecision.Counts counts(InFlight item, int failures) {
        var c = s.failureCounts().get(item.delivery.id());
        return new FailureDecision.Counts(item.delivery.receiveCount(), Math.max(failures, c.failures()),
                c.throttles(), c.passes());
    }
}
