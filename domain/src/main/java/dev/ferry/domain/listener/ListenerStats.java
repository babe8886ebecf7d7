package dev.ferry.domain.listener;

import java.time.Instant;
import java.util.Optional;

/**
 * A snapshot of a listener's counters, readable at any time ({@link Listener#stats()}).
 *
 * @param received          deliveries received
 * @param acked             deliveries acknowledged (deleted)
 * @param redelivered       deliveries put back with a delay (retry, throttle, in progress elsewhere)
 * @param released          deliveries put back at once (a failed group's tail, shutdown)
 * @param deadLettered      deliveries sent to the dead-letter destination
 * @param handedOver        deliveries left to the handler to settle (skip-delete); a count of hand-overs, not of
 *                          settlements: the handler's own settle of each counts once more, in {@code acked} or the like
 * @param duplicatesDropped events skipped because the ledger had them completed
 * @param throttled         Throttled outcomes
 * @param failures          Retry outcomes and handler exceptions
 * @param decodeFailures    deliveries that could not be decoded
 * @param fenced            completions refused by the ledger because the claim had expired
 * @param inFlight          deliveries received and not yet settled, right now
 * @param leaseExtensions   lease extensions carried out
 * @param settleFailures    settlements the transport refused (the message comes back later)
 * @param polls             polls made
 * @param lastReceive       when a poll last returned a message, null before the first
 * @param ledgerFailures    ledger calls that failed (the message waited in hand; nothing was spent)
 * @param held              times a delivery was kept in hand to be tried again (retry, throttle, ledger down)
 * @param staleDropped      copies whose lease ran out while they waited behind their group, dropped unhandled
 *                          (a newer copy of the same message is on its way)
 * @param claimsLost        ledger claims the ledger would not extend (their lease had run out: another worker
 *                          may hold the key, and a copy of the event run beside this one)
 * @param keptByHandler     deliveries handed over and not yet settled by their handler (skip-delete), right now; one
 *                          the listener put back with events its handler kept counts too, until the handler settles them
 *                          (one a stop let go of while its handler had kept nothing does not)
 */
public record ListenerStats(
        long received,
        long acked,
        long redelivered,
        long released,
        long deadLettered,
        long handedOver,
        long duplicatesDropped,
        long throttled,
        long failures,
        long decodeFailures,
        long fenced,
        long inFlight,
        long leaseExtensions,
        long settleFailures,
        long polls,
        Instant lastReceive,
        long ledgerFailures,
        long held,
        long staleDropped,
        long claimsLost,
        long keptByHandler) {

    /** The counters of earlier versions, {@code keptByHandler} zero. */
    public ListenerStats(long received, long acked, long redelivered, long released, long deadLettered, long handedOver,
                         long duplicatesDropped, long throttled, long failures, long decodeFailures, long fenced,
                         long inFlight, long leaseExtensions, long settleFailures, long polls, Instant lastReceive,
                         long ledgerFailures, long held, long staleDropped, long claimsLost) {
        this(received, acked, redelivered, released, deadLettered, handedOver, duplicatesDropped, throttled, failures,
                decodeFailures, fenced, inFlight, leaseExtensions, settleFailures, polls, lastReceive, ledgerFailures, held,
                staleDropped, claimsLost, 0);
    }

    /** The counters of earlier versions, {@code claimsLost} zero. */
    public ListenerStats(long received, long acked, long redelivered, long released, long deadLettered, long handedOver,
                         long duplicatesDropped, long throttled, long failures, long decodeFailures, long fenced,
                         long inFlight, long leaseExtensions, long settleFailures, long polls, Instant lastReceive,
                         long ledgerFailures, long held, long staleDropped) {
        this(received, acked, redelivered, released, deadLettered, handedOver, duplicatesDropped, throttled, failures,
                decodeFailures, fenced, inFlight, leaseExtensions, settleFailures, polls, lastReceive, ledgerFailures, held,
                staleDropped, 0, 0);
    }

    /** The counters of earlier versions, the newer ones zero. */
    public ListenerStats(long received, long acked, long redelivered, long released, long deadLettered, long handedOver,
                         long duplicatesDropped, long throttled, long failures, long decodeFailures, long fenced,
                         long inFlight, long leaseExtensions, long settleFailures, long polls, Instant lastReceive) {
        this(received, acked, redelivered, released, deadLettered, handedOver, duplicatesDropped, throttled, failures,
                decodeFailures, fenced, inFlight, leaseExtensions, settleFailures, polls, lastReceive, 0, 0, 0, 0, 0);
    }

    public Optional<Instant> lastReceiveTime() {
        return Optional.ofNullable(lastReceive);
    }

    /**
     * Deliveries settled one way or the other, each once (a stale copy dropped counts: it left the listener's hands). One
     * handed over (skip-delete) counts when its handler settles it, in {@code acked} or the like: counted at its hand-over
     * too, it counted twice, and a listener read as having settled more than it received. Kept, it is in {@link
     * #keptByHandler} meanwhile.
     */
    public long settled() {
        return acked + redelivered + released + deadLettered + staleDropped;
    }

    /** One line for logs, like the Ruby QueuePoller's stats. */
    public String line() {
        return "received=" + received + " acked=" + acked + " redelivered=" + redelivered + " released=" + released
                + " deadLettered=" + deadLettered + " duplicates=" + duplicatesDropped + " throttled=" + throttled
                + " failures=" + failures + " inFlight=" + inFlight + " leaseExtensions=" + leaseExtensions
                + " settleFailures=" + settleFailures + " ledgerFailures=" + ledgerFailures + " held=" + held
                + " staleDropped=" + staleDropped + (claimsLost == 0 ? "" : " claimsLost=" + claimsLost)
                + (keptByHandler == 0 ? "" : " keptByHandler=" + keptByHandler);
    }
}
