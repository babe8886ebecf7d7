package dev.ferry.domain.listener;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.Disposition;
import java.lang.System.Logger.Level;

/**
 * The processor's part in parked groups ({@code on-poison: park}): whether a delivery's group is
 * parked (and whether the delivery belongs to the release under way), recording a dead letter of
 * an ordered group, and a released delivery's pass. Ledger failures are thrown: the processor
 * decides on them as on any store failure, the delivery in hand.
 */
final class ParkingSteps {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    /**
     * What the lookup found: the group flows (or the delivery passes), or it waits behind
     * {@code behind}'s head; {@code asked} whether the ledger was asked (and answered).
     */
    record Lookup(ParkedGroup behind, boolean asked) {
        static final Lookup NOT_ASKED = new Lookup(null, false);
        static final Lookup GOES_ON = new Lookup(null, true);
    }

    private final GroupParker parker;
    private final String source;

    ParkingSteps(GroupParker parker, String source) {
        this.parker = parker;
        this.source = source;
    }

    /** Whether this delivery's group is parked when it is poisoned: on-poison park, and an ordered delivery. */
    boolean parks(InFlight item) {
        return parker != null && item.delivery.groupKey() != null;
    }

    /**
     * Looks the delivery's group up, once (the answer is kept on the delivery); marks a delivery of
     * the release under way as such. A delivery that waits behind the head is not marked looked up:
     * if its park cannot be recorded now, it is looked up again when it resumes.
     */
    Lookup lookUp(InFlight item) {
        if (!parks(item) || item.parkChecked) {
            return Lookup.NOT_ASKED;
        }
        var parked = parker.parked(source, item.delivery.groupKey()).orElse(null);
        var pass = GroupParker.pass(item.delivery.attributes().get(GroupParker.RELEASE_ATTRIBUTE));
        boolean passes = parked != null && pass != null && parked.passes(pass.token());
        if (parked != null && !passes && !parked.drained()) {
            item.parkedBehind = true;
            return new Lookup(parked, true);
        }
        item.parkChecked = true;
        item.parkedBehind = false; // found waiting behind the head before, it goes on now: a failure of its own parks it as
                                   // the head (kept, its park found the group flowing and ran the handler once more)
        if (passes) {
            item.releaseToken = pass.token();
            item.releaseNumber = pass.number();
        }
        return Lookup.GOES_ON;
    }

    /**
     * Records a dead letter of an ordered group before it leaves, so the group's next message finds
     * the group parked; returns the disposition to settle with (the head's says so). Null when a
     * delivery found waiting behind the head finds the group released meanwhile: it is to be handled.
     */
    Disposition park(InFlight item, Disposition.DeadLetter dead) {
        var parked = parker.park(source, item.delivery.groupKey(), headKey(item), item.delivery.id(), dead.reason(),
                item.releaseToken, item.parkedBehind);
        if (parked == null) {
            item.parkedBehind = false;
            return null;
        }
        return item.delivery.id().equals(parked.headMessageId()) ? Disposition.deadLetter(GroupParker.at(parked)) : dead;
    }

    /** Records that a delivery of the release under way was handled (once); a no-op for any other delivery. */
    void passed(InFlight item) {
        if (item.releaseToken == null || item.passRecorded) {
            return;
        }
        parker.passed(source, item.delivery.groupKey(), item.releaseToken, item.releaseNumber);
        item.passRecorded = true;
    }

    /** {@link #passed}, true once done (it throws when the store fails). */
    boolean passedNow(InFlight item) {
        passed(item);
        return true;
    }

    /**
     * {@link #passed}, for a delivery acknowledged at shutdown: a failure is logged. Was it the last one sent back, the
     * group stays parked, closing, and a release does not end it (it finds nothing to move, and that pass never comes):
     * a new message of the group, parked behind it and sent back by a release, does — its pass is the last one then.
     */
    void passedQuietly(InFlight item) {
        try {
            passed(item);
        } catch (Throwable e) {
            // no apostrophes: MessageFormat reads them as quotes
            LOG.log(Level.WARNING, "could not record that released message {0} of group {1} was handled: {2}; "
                    + "if it was the last one sent back, the group stays parked and a release, even with "
                    + "--give-up-missing, does not end it: it flows again once a new message of the group parks "
                    + "behind it and ferry groups release sends that one back",
                    item.delivery.id(), item.delivery.groupKey(), JournalNotes.describe(e));
        }
    }

    /** The event the delivery stopped at, or its message id when it could not be decoded. */
    private static String headKey(InFlight item) {
        if (item.events != null && !item.events.isEmpty()) {
            return item.events.get(Math.min(item.nextEvent, item.events.size() - 1)).key();
        }
        return "message " + item.delivery.id();
    }
}
