package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.retry.FailureDecision;
import dev.ferry.domain.transport.Source;
import java.lang.System.Logger.Level;
import java.time.Duration;

/** What a listener's configuration and its source make of its failure decisions and its completions. */
final class ListenerPolicies {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private ListenerPolicies() {
    }

    /** Refuses what the listener cannot work with: see {@link #checkOnPoison}, and a lease its source cannot grant. */
    static void check(dev.ferry.domain.parking.OnPoison onPoison, ListenerConfig config, IdempotencyLedger ledger,
                      Source source) {
        checkOnPoison(onPoison, config, ledger);
        var longest = source.longestLease();
        if (longest != null && config.lease().compareTo(longest) > 0) {
            throw new IllegalArgumentException("lease " + dev.ferry.domain.model.Durations.text(config.lease())
                    + " is longer than the source '" + source.name() + "' can lease a message ("
                    + dev.ferry.domain.model.Durations.text(longest) + "): each lease would be cut to it while the "
                    + "listener counted on the whole, and a copy handed out meanwhile would run beside its handler");
        }
    }

    /** Refuses what on-poison park cannot work with: skip-delete, a ledger that does not keep parked groups. */
    static void checkOnPoison(dev.ferry.domain.parking.OnPoison onPoison, ListenerConfig config, IdempotencyLedger ledger) {
        if (onPoison == dev.ferry.domain.parking.OnPoison.PARK && config.skipDelete()) {
            throw new IllegalStateException("on-poison park and skip-delete do not go together: a handler that "
                    + "settles its own messages dead-letters them past the parking");
        }
        if (onPoison == dev.ferry.domain.parking.OnPoison.PARK && !(ledger instanceof dev.ferry.domain.parking.GroupParking)) {
            throw new IllegalStateException("on-poison park keeps parked groups in the ledger, and "
                    + (ledger == null ? "this listener has none" : ledger.getClass().getSimpleName() + " does not keep them")
                    + ": give it a ledger that implements GroupParking (InMemoryLedger, MvStoreLedger, DynamoDbLedger)");
        }
    }

    /** The least a Throttled waits, whatever the throttle pause configured. */
    static final Duration LEAST_THROTTLE_FLOOR = Duration.ofMillis(10);

    /** The failure decisions' policies: the hold limit the source and the lease allow, the throttle floor. */
    static FailureDecision.Policies of(ListenerConfig config, Source source) {
        var holdLimit = source.maxHoldInHand().compareTo(config.holdLimit()) < 0 ? source.maxHoldInHand() : config.holdLimit();
        if (!config.extendLeases() && source.redeliversAfterLease() && holdLimit.compareTo(config.lease().dividedBy(2)) > 0) {
            // nobody extends the lease: a wait held in hand past it would see the copy come back and run first
            holdLimit = config.lease().dividedBy(2);
        }
        // a Throttled waits at least 100 ms (throttlePause, when shorter, but never under 10 ms): Throttled(0) is not
        // tried again at once — with a throttlePause of 0 it was, in a loop, its group and a worker pinned, nothing counted
        var throttleFloor = config.throttlePause().compareTo(FailureDecision.THROTTLE_FLOOR) < 0
                ? config.throttlePause() : FailureDecision.THROTTLE_FLOOR;
        throttleFloor = throttleFloor.compareTo(LEAST_THROTTLE_FLOOR) < 0 ? LEAST_THROTTLE_FLOOR : throttleFloor;
        return new FailureDecision.Policies(config.retry(), config.deadLetter(), holdLimit, FailureDecision.STORE_BACKOFF,
                throttleFloor);
    }

    /**
     * Whether completions are recorded off the workers: the ledger's completions wait on I/O, and the
     * delivery can be kept in hand meanwhile — its lease extended, and a source that holds at all.
     * Asked once; a ledger that throws when asked (a plugin's) keeps them on the workers.
     */
    static boolean defersCompletions(String name, ListenerConfig config, IdempotencyLedger ledger, Duration holdLimit) {
        if (ledger == null || !config.extendLeases() || holdLimit.isZero()) {
            return false;
        }
        try {
            return ledger.completionWaits();
        } catch (Throwable e) {
            LOG.log(Level.WARNING, "the ledger of ''{0}'' failed to say how it completes; completions stay on the workers: {1}",
                    name, JournalNotes.describe(e));
            return false;
        }
    }
}
