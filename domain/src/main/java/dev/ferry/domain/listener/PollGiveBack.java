package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Thrown;
import dev.ferry.domain.transport.Disposition;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.function.ObjIntConsumer;

/**
 * What a poll on its way into hand gives back when taking one of its deliveries fails, or its taking stops part way (an
 * Error: no memory, a stack overflow): each slot filled or given up, each delivery in its group, settled or given back,
 * whatever throws meanwhile — each step on its own. A throw out of the give-back left what the poll had taken in hand in
 * no lane (never run, never released, its leases extended for good), its other slots and places in the window held for
 * good, the rest never given back (on Kafka or HTTP, held for good), and the listener never idle: every stop waited out
 * its whole deadline.
 */
final class PollGiveBack {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    /**
     * A test's stand-in for an Error as a poll's slot is taken in hand — at "accept", in the delivery's taking; at
     * "accepted", once it is in hand, out of that taking's guard — given the slot; null outside tests. Read once a poll.
     */
    static volatile ObjIntConsumer<String> slotFault;

    private PollGiveBack() {
    }

    /** Runs a test's {@link #slotFault}, as read for the poll: null outside tests, and nothing is run. */
    static void inject(ObjIntConsumer<String> fault, String step, int slot) {
        if (fault != null) {
            fault.accept(step, slot);
        }
    }

    /**
     * Taking {@code slot}'s delivery in hand threw {@code e}: released if it was in hand by then, else its slot given up,
     * its place in the window freed and the delivery given back; one of a group, every later slot of the poll too (true:
     * the poll's taking ends here) — released alone, its group's later ones in the poll ran ahead of it. The delivery is
     * the one the taking read: not read from {@code batch} again. Never throws.
     */
    static boolean slotFailed(Poller.Shared s, AsideLog aside, Hands.Batch inHand, List<Delivery> batch, int slot,
                              Delivery delivery, Throwable e, List<InFlight> accepted) {
        try {
            var loggable = Thrown.loggable(e);
            aside.write(() -> LOG.log(Level.ERROR, "taking message " + delivery.id() + " of '" + s.name()
                    + "' in hand failed; it is released", loggable));
        } catch (Throwable lineFailed) { // no memory for the line: the delivery is given back all the same
        }
        giveBack(s, inHand, slot, delivery, accepted);
        if (delivery.groupKey() == null) {
            return false;
        }
        givenBackFrom(s, inHand, batch, slot + 1, accepted);
        return true;
    }

    /**
     * A poll's taking stopped at {@code from} by a throw out of its loop: each slot from there released or given up and
     * its delivery given back, then what it took before handed on ({@link #handOn}) even if the give-back threw: a throw
     * there (a plugin's list that threw on every read) skipped the hand-on, and left what the poll took in hand in no
     * lane, its group blocked for good. Throws only what the give-back threw.
     */
    static void stoppedAt(Poller.Shared s, Hands.Batch inHand, List<Delivery> batch, int from, List<InFlight> accepted) {
        try {
            givenBackFrom(s, inHand, batch, from, accepted);
        } finally {
            try {
                handOn(s, accepted);
            } catch (Throwable e) { // what submitAll could not queue it released before it threw
            }
        }
    }

    /**
     * Each slot from {@code from} released or given up, its delivery given back: after a grouped delivery whose taking
     * failed (released), the group's later ones in the poll ran first — given back too, they come back behind it.
     * Never throws.
     */
    static void givenBackFrom(Poller.Shared s, Hands.Batch inHand, List<Delivery> batch, int from, List<InFlight> accepted) {
        for (int slot = from; slot < batch.size(); slot++) {
            giveBack(s, inHand, slot, batch.get(slot), accepted);
        }
    }

    /**
     * What a poll took in hand, to its groups; released once the listener stops running, each on its own (one whose
     * settlement threw kept the rest in hand). Throws what {@code submitAll} throws, having released what it did not queue.
     */
    static void handOn(Poller.Shared s, List<InFlight> accepted) {
        if (s.running().getAsBoolean()) {
            s.groups().submitAll(accepted, item -> item.orderingKey);
        } else {
            for (var item : accepted) {
                release(s, item);
            }
        }
    }

    /**
     * Gives back deliveries never in hand, each on its own: one whose give-back threw kept the rest from theirs. Never
     * throws: a source's own list that throws as it is read (its copy threw) gives back what it could, the rest come back
     * when their leases run out — thrown on, its throw was told in place of the one that ended the poll.
     */
    static void unhandled(Settler settler, List<Delivery> deliveries) {
        try {
            for (var delivery : deliveries) {
                unhandledOne(settler, delivery);
            }
        } catch (Throwable e) { // reading the list, never a give-back: each of those is caught on its own
        }
    }

    private static void unhandledOne(Settler settler, Delivery delivery) {
        try {
            settler.giveBackUnhandled(delivery);
        } catch (Throwable e) { // its settlement not queued (no memory): it comes back when its lease runs out
        }
    }

    /**
     * One slot: its item released if it is in hand and not handed on with the others; else given up, and given back —
     * once: a give-back started again (a throw part way through the first) finds the slot given up, and leaves it.
     */
    private static void giveBack(Poller.Shared s, Hands.Batch inHand, int slot, Delivery delivery, List<InFlight> accepted) {
        if (!s.hands().giveUp(inHand, slot)) { // taken in hand, or given up before; else counted down here
            var taken = s.hands().inSlot(inHand, slot); // null: settled already, or never taken
            if (taken != null && !accepted.contains(taken)) { // one handed on is its group's: released too, it ran after
                release(s, taken);
            }
            return;
        }
        try {
            s.hands().capacity().release(1);
        } catch (Throwable e) { // its permit is back before a waiter is woken: thrown on, the slot was given up twice
        }
        unhandledOne(s.settler(), delivery);
    }

    private static void release(Poller.Shared s, InFlight item) {
        try {
            s.settler().settle(item, Disposition.RELEASE);
        } catch (Throwable e) { // its settlement not queued (no memory): it comes back when its lease runs out
        }
    }
}
