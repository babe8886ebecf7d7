package dev.ferry.domain.listener;

import dev.ferry.domain.model.Durations;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The ledger claims of what the listener holds, extended on their own schedule while the lease keeper waits for the
 * transport's extension call. They were extended once before the call and then only by the keeper's next round, after
 * it: an SQS call over a silent connection, tried again, took a minute — four 30 s leases of 2 s, or two of the default
 * 30 s — and every claim in hand ran out under its handler; a copy the transport handed out meanwhile ran beside it.
 * The extensions that failed are asked again each tick too, as the keeper's rounds ask them.
 */
final class ClaimsDuringCall implements AutoCloseable {

    private final Watch watch;
    private final long untilNanos;
    private final long tickNanos;
    private final Thread thread;
    private volatile boolean over;

    private ClaimsDuringCall(String name, Watch watch, long untilNanos, long tickNanos) {
        this.watch = watch;
        this.untilNanos = untilNanos;
        this.tickNanos = tickNanos;
        this.thread = Thread.ofVirtual().name("ferry-" + name + "-claims-during-call").unstarted(this::run);
    }

    /**
     * Starts the watch of a call begun at {@code startNanos}, whose {@code extendedNow} had their claims extended just
     * before it: from then on every claim in hand is extended once {@code extendAfter} has passed since it last was (or,
     * for one not extended before the call, once its delivery falls due), each {@code tickNanos}, until closed, and
     * {@link LeaseKeeper#KEPT_PAST_LEASE} at most (a call that never returns).
     */
    static ClaimsDuringCall start(String name, Hands hands, ClaimLeases claims, ListenerConfig config,
                                  Set<InFlight> extendedNow, long startNanos, long tickNanos) {
        var watch = new Watch(hands, claims, config, extendedNow, startNanos);
        long until = startNanos + Durations.nanos(LeaseKeeper.KEPT_PAST_LEASE); // a call that never returns: not for ever
        var call = new ClaimsDuringCall(name, watch, until, tickNanos);
        try {
            call.thread.start();
        } catch (Throwable noThread) { // none to be had: the claims wait for the keeper's next round, as before
            call.over = true;
        }
        return call;
    }

    private void run() {
        while (!over && System.nanoTime() - untilNanos < 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(tickNanos);
            } catch (InterruptedException e) {
                return; // closed
            }
            if (!over) {
                watch.round(System.nanoTime());
            }
        }
    }

    @Override
    public void close() {
        over = true;
        thread.interrupt();
    }

    /** What the watch knows: when each claim in hand is next due (nanoTime). Used by its own thread only. */
    private static final class Watch {
        private final Hands hands;
        private final ClaimLeases claims;
        private final ListenerConfig config;
        private final long every;
        private final Map<InFlight, Long> dueAt = new HashMap<>();
        private final long keptFor = Durations.nanos(LeaseKeeper.KEPT_PAST_LEASE);

        Watch(Hands hands, ClaimLeases claims, ListenerConfig config, Set<InFlight> extendedNow, long startNanos) {
            this.hands = hands;
            this.claims = claims;
            this.config = config;
            this.every = Durations.nanos(config.extendAfter());
            for (var item : extendedNow) {
                dueAt.put(item, startNanos + every);
            }
        }

        void round(long nowNanos) {
            for (var item : hands.inFlight()) {
                if (!item.settled.get()) { // one settled is on its way out: its claims completed or let go
                    keep(item, nowNanos);
                }
            }
            for (var item : hands.handedOver()) {
                // kept by its handler (skip-delete): out of flight, so marked settled, its claims still held — skipped as
                // settled, no kept delivery's claims were kept during a call (a copy ran beside its handler)
                keep(item, nowNanos);
            }
            // the extensions that failed (the ledger down a moment) asked again, as the keeper's rounds do, after those
            // due now (asked afresh, the failed ask dropped): left to the keeper's next round, after the call, the
            // ledger back in seconds was asked only on the schedule above, once the claim had run out — lost, a copy
            // ran beside its handler. A ledger still down is probed by one claim a tick, as by the keeper's rounds
            claims.round();
        }

        private void keep(InFlight item, long nowNanos) {
            long kept = item.keptPastLeaseNanos;
            if (kept != InFlight.NO_NANOS && nowNanos - kept - keptFor > 0) {
                return; // kept past its lease longer than the keeper keeps such claims: let run out
            }
            Long due = dueAt.get(item);
            // one not extended before the call: due as its delivery is (its claims were extended with its lease),
            // or, kept past its lease, when the keeper would ask again (its rounds wait for this call)
            long askAgain = item.askAgainNanos;
            long ahead = Durations.nanos(config.lease()) - every;
            boolean now = due != null ? nowNanos - due >= 0
                    : kept != InFlight.NO_NANOS ? askAgain == InFlight.NO_NANOS || nowNanos - askAgain >= 0
                    : item.excuseNanos != InFlight.NO_NANOS && item.excuseNanos - ahead - nowNanos <= 0;
            if (now) {
                claims.extendClaimsOf(item, config.lease());
                dueAt.put(item, nowNanos + every);
            }
        }
    }
}
