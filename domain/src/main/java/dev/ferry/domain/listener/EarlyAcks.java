package dev.ferry.domain.listener;

/**
 * A handler's ack of a delivery of several events that comes while the listener is still among its events (skip-delete:
 * the first event's effect made while a later one runs, or waits in hand for a retry). It settled the message — deleted
 * it — and the later events never ran. Now it settles the events the handler kept so far (and the one in its call, when
 * made from within that call), not the message: the later events still run, and the message leaves once they are done
 * and the handler has acked after the last one it kept. Left before (put back or dead-lettered for a later event, given
 * back), the events it acked are recorded done and those kept after it stay with the handler. All under the item's lock.
 */
final class EarlyAcks {

    private EarlyAcks() {
    }

    /**
     * A handler's ack of {@code item} while it is among its events: taken here, with the claims of the events it kept so
     * far, taken off the item (the caller completes them: their effects are made) — or null, and it settles the message.
     */
    static java.util.List<InFlight.HeldClaim> ackLater(InFlight item) {
        synchronized (item) {
            if (item.caller == null || item.eventsOver || item.settled.get() && !item.partlyKept // let go of at a stop: kept
                    || item.settledEarly.get() != null
                    || item.events == null || item.events.size() < 2) { // no call made (or no skip-delete): as before
                return null;
            }
            item.ackedEarly = true;
            // made from within the call under way, it speaks for that event too; from elsewhere (an earlier event's
            // callback) not: that event's effect may still fail, and its handler's dead letter then reached nothing.
            // Kept once made (calling() clears it): another thread's ack after it took the cover back, and the message
            // waited for a settle that never came
            item.ackSinceCall |= item.caller == Thread.currentThread();
            item.keptAfterAck = false;
            if (item.ackedClaims == null) {
                item.ackedClaims = new java.util.HashSet<>();
            }
            var acked = java.util.List.copyOf(item.asyncClaims);
            item.asyncClaims.clear(); // taken off here: no one else completes (or releases) them
            item.ackedClaims.addAll(acked); // still this item's own while their completions are under way
            return acked;
        }
    }

    /**
     * Whether {@code key}'s claim is this item's own: kept for its handler, or acked and being completed — the same event
     * twice in one message (S3 records repeating a sequencer) is a duplicate then, not another's claim to wait out.
     */
    static boolean owns(InFlight item, String key) {
        if (item.asyncClaims.stream().anyMatch(c -> c.key().equals(key))) {
            return true;
        }
        synchronized (item) {
            return item.ackedClaims != null && item.ackedClaims.stream().anyMatch(c -> c.key().equals(key));
        }
    }

    /** The worker is about to hand the handler the item's next event (or the same one again), skip-delete only. */
    static void calling(InFlight item) {
        synchronized (item) {
            item.caller = Thread.currentThread();
            item.ackSinceCall = false;
        }
    }

    /** The handler kept an event (done, skip-delete), holding {@code claim} (null when none). */
    static void kept(InFlight item, InFlight.HeldClaim claim) {
        synchronized (item) {
            item.handedToHandler++;
            if (claim != null) {
                item.asyncClaims.add(claim); // completed when the handler settles the delivery
                if (item.ackedEarly && item.ackSinceCall) {
                    item.ackedClaims.add(claim);
                }
            }
            if (!item.ackSinceCall) {
                item.keptAfterAck = true;
            }
        }
    }

    /**
     * The worker is past the item's events, or lets it go: from now on a handler's ack settles the delivery. True when an
     * ack taken earlier covers every event its handler kept.
     */
    static boolean over(InFlight item) {
        synchronized (item) {
            item.eventsOver = true;
            return item.ackedEarly && !item.keptAfterAck;
        }
    }

    /** Whether the worker is among the events of a message of several, skip-delete (a call made, the events not over). */
    static boolean amongSeveral(InFlight item) {
        synchronized (item) {
            return item.caller != null && !item.eventsOver && item.events != null && item.events.size() > 1;
        }
    }

    /**
     * Whether a stop let go of the item while its worker is still among its events (Hands.settlingOurs): a handler's settle
     * finds it where it was, for the next — taken away, the ack of an event kept after it found nothing, and that event's
     * claim ran out: it ran again.
     */
    static boolean stillAmong(InFlight item) {
        synchronized (item) {
            return item.partlyKept && !item.eventsOver;
        }
    }

    /** Whether the handler acked {@code claim}'s event already: a later settle that is no ack does not release it. */
    static boolean acked(InFlight item, InFlight.HeldClaim claim) {
        synchronized (item) {
            return item.ackedClaims != null && item.ackedClaims.contains(claim);
        }
    }
}
