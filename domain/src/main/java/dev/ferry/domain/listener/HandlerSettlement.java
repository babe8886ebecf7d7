package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import java.util.Objects;

/**
 * A handler's own settlement of a delivery ({@link Listener#settle}): one it kept (skip-delete), or one
 * still in hand — then it stands, and the listener neither settles it again nor tries it again. Its
 * claims are completed (on an {@code Ack}) or released by whoever takes the delivery back.
 */
final class HandlerSettlement {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final Hands hands;
    private final Processor processor;
    private final Settler settler;
    private final OwnThreads threads;
    private final java.util.function.BooleanSupplier running;

    HandlerSettlement(Hands hands, Processor processor, Settler settler, OwnThreads threads,
                      java.util.function.BooleanSupplier running) {
        this.running = running;
        this.threads = threads;
        this.hands = hands;
        this.processor = processor;
        this.settler = settler;
    }

    void settle(Delivery delivery, Disposition disposition) {
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(disposition, "disposition"); // before anything changes: a kept delivery stays kept
        if (disposition instanceof Disposition.Redeliver r
                && r.delay().compareTo(dev.ferry.domain.retry.FailureDecision.LONGEST_REDELIVERY) > 0) {
            // as the listener's own: a Kafka record put back for a year held its key, and its partition's commits
            disposition = Disposition.redeliver(dev.ferry.domain.retry.FailureDecision.LONGEST_REDELIVERY);
        }
        hands.handlerSettling.incrementAndGet();
        try {
            var settled = disposition;
            // as the listener's own thread: a stop its observer asks for here starts and returns, as on a handler's
            // (run here, it waited up to its deadline for this settle — the one that asked it — to end)
            threads.asOwn(() -> {
                settleCounted(delivery, settled);
                return null;
            });
        } finally {
            hands.handlerSettling.decrementAndGet();
        }
    }

    /**
     * The handlers' settles under way, by delivery: a second of the same delivery at the same moment (a callback fired twice
     * on two threads) found it in no hand while the first completed its claims, and went out beside it.
     */
    private final java.util.concurrent.ConcurrentHashMap<Delivery, Disposition> underWay =
            new java.util.concurrent.ConcurrentHashMap<>();

    private void settleCounted(Delivery delivery, Disposition disposition) {
        var owned = underWay(delivery, disposition);
        if (owned == null) {
            ignored(delivery, disposition);
            return;
        }
        java.util.List<InFlight.HeldClaim> ackedEarly;
        try {
            ackedEarly = settleOnce(delivery, disposition);
        } finally {
            if (owned) {
                underWay.remove(delivery, disposition);
            }
        }
        if (ackedEarly != null) { // an ack that removes nothing, off the settles under way: one of the same delivery
            processor.completeAcked(ackedEarly); // meanwhile (a later event's, kept) was refused while the ledger answered
            tookEarly(delivery); // its line too: a log that blocked held the mark, and one that threw left claims owed
        }
    }

    /**
     * This settle registered as under way: null when one that removes the message is under way already (refused); else
     * whether this one holds the entry — a settle that removes takes it over from one that puts back, so a third at the
     * same moment sees it (two acks beside a release both went out).
     */
    private Boolean underWay(Delivery delivery, Disposition disposition) {
        while (true) {
            var prior = underWay.putIfAbsent(delivery, disposition);
            if (prior == null) {
                return true;
            }
            if (removes(prior)) {
                return null;
            }
            if (!removes(disposition)) {
                return false; // two that put back: each goes, as before
            }
            if (underWay.replace(delivery, prior, disposition)) {
                return true;
            }
        }
    }

    /** Settles it; the claims an early ack took ({@link EarlyAcks}), to complete, or null. */
    private java.util.List<InFlight.HeldClaim> settleOnce(Delivery delivery, Disposition disposition) {
        var item = hands.takeBack(delivery);
        var inHand = item == null ? hands.inFlight(delivery) : null; // looked for once: a scan of the whole window
        // not asked of a receive in hand: one numbered as the one put back (an HTTP resend, a Kafka re-read) was taken for it
        if (item == null && inHand == null && hands.putBackWithKept(delivery) && (item = hands.takeBack(delivery)) == null) {
            LOG.log(System.Logger.Level.DEBUG, "a settle of {0} ({1}) reaches no transport: the listener settled the "
                    + "message already, with events its handler kept", delivery.id(), disposition);
            return null; // its claims completed or released by a first settle, or let run out; an ack deleted the message
        }
        var kept = item;
        boolean early = false;
        if (item == null) {
            // settled before its handle() returned: the runner completes its claims as it would hand it over —
            // unless it did so meanwhile, and then they are completed here (whoever takes it back does it)
            kept = inHand;
            var acked = kept != null && disposition instanceof Disposition.Ack ? EarlyAcks.ackLater(kept) : null;
            if (acked != null) {
                return acked;
            }
            if (kept != null) {
                // recorded, the runner completes its claims as it hands it over — unless it did so meanwhile; refused,
                // the runner settled it first: handed over in between (then it is there to take back now, and no one
                // else would complete its claims), or settled by the listener itself (then there is nothing to take)
                early = hands.settleEarly(kept, disposition);
                item = hands.takeBack(delivery);
                if (!early && item == null && kept.partlyKept) { // put back with events its handler kept, as this came (no
                    LOG.log(System.Logger.Level.DEBUG, "a settle of {0} ({1}) reaches no transport: the listener put "
                            + "the message back as it came", delivery.id(), disposition); // ledger: none to take back)
                    return null;
                }
            } else {
                // handed over between the two looks (in the handed-over set before it leaves flight): there now
                item = kept = hands.takeBack(delivery);
            }
        }
        if (item == null && !early && !running.getAsBoolean() && !hands.removingNow(delivery)
                && !settler.removedOrRemoving(delivery)) { // one refused below (settled twice) decides nothing
            // the stop gave it back while its handle() still ran: its runner (or this, if it kept it meanwhile) completes
            // its claims as this settle says — else they stayed held, and the copy put back waited them out and ran again
            item = kept = hands.settledWhileGivenBack(delivery, disposition);
        }
        if (item != null && item.partlyKept && disposition instanceof Disposition.Ack) {
            var acked = EarlyAcks.ackLater(item); // let go of by a stop while a later event runs (Hands.settlingOurs),
            if (acked != null) {                  // however found: its worker still among its events, an ack made in
                return acked;                     // its call covers it
            }
        }
        if (item != null) {
            processor.settledByHandler(item, disposition);
            if (item.partlyKept) { // put back for a later event (or dead-lettered): its copy is the transport's now — an
                LOG.log(System.Logger.Level.DEBUG, "the settle of {0} ({1}) completed or released the events its handler "
                        + "kept; the message itself was settled by the listener already", delivery.id(), disposition);
                return null; // ack of this receive deleted the message, and the events after the kept ones never ran
            }
        } else if (!early && (hands.removingNow(delivery) || settler.removedOrRemoving(delivery))) {
            // in no hand, and its message taken away (or being — the listener's own settle queued this instant): a second
            // settle of it (a callback that fired twice, a handler that returned and settled too) would delete again, or
            // copy a handled message to the DLQ. Not asked of one recorded early: in hand, it is this receive's own
            ignored(delivery, disposition);
            return null;
        }
        settler.enqueueFromHandler(delivery, disposition, kept);
        return null;
    }

    private static void tookEarly(Delivery delivery) {
        try {
            LOG.log(System.Logger.Level.DEBUG, "the ack of {0} came while later events of it were still to run: it "
                    + "settles the events its handler took so far, the message leaves once the rest are done", delivery.id());
        } catch (Throwable e) { // the log's own failure: the ack is taken all the same
        }
    }

    private static boolean removes(Disposition d) {
        return d instanceof Disposition.Ack || d instanceof Disposition.DeadLetter;
    }

    private static void ignored(Delivery delivery, Disposition disposition) {
        LOG.log(System.Logger.Level.WARNING, "a settle of {0} ({1}) was ignored: it was acked or dead-lettered already "
                + "(settled twice?)", delivery, disposition);
    }
}
