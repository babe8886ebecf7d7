package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.transport.Acknowledger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import dev.ferry.domain.model.Durations;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Keeps the leases of deliveries still in hand — running, waiting behind their group, held to be
 * tried again, or kept by an asynchronous handler — from running out: once {@code extendAt} of a
 * lease has passed, the transport's leases go out in one batch, then the ledger claims, each on a
 * thread of its own.
 */
final class LeaseKeeper {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final String name;
    private final Acknowledger acknowledger;
    private final IdempotencyLedger ledger;
    private final ListenerConfig config;
    private final Clock clock;
    private final Hands hands;
    private final Counters counters;
    private final ListenerObserver observer;
    private final Settler settler;

    LeaseKeeper(String name, Acknowledger acknowledger, IdempotencyLedger ledger, ListenerConfig config, Clock clock,
                Hands hands, Counters counters, ListenerObserver observer, Settler settler) {
        this.settler = settler;
        this.name = name;
        this.acknowledger = acknowledger;
        this.ledger = ledger;
        this.config = config;
        this.clock = clock;
        this.hands = hands;
        this.counters = counters;
        this.observer = observer;
        this.claims = new ClaimLeases(name, ledger, hands, counters, aside);
    }

    /** The time between two of the keeper's rounds: a quarter of a lease past extend-after, within 5 ms to 1 s. */
    static long tickNanos(ListenerConfig config) {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(5), Math.min(TimeUnit.SECONDS.toNanos(1),
                (Durations.nanos(config.lease()) - Durations.nanos(config.extendAfter())) / 4));
    }

    /**
     * The lease keeper's thread: a round every tick until {@code stopped} and the settler has sent what it holds (at a
     * stop a window's worth may wait behind a slow acknowledger, their leases lapsing unextended: another instance ran
     * them again) or its call under way hangs; {@code eachRound} runs too, until {@code stopped}.
     */
    void run(BooleanSupplier stopped, Runnable eachRound) {
        long tick = tickNanos(config);
        // after the stop, not behind a send that hangs: nothing is extended there, and the thread would wait with it for ever
        while (!stopped.getAsBoolean() || !settler.drained() && !settleHangs()) {
            try {
                TimeUnit.NANOSECONDS.sleep(tick);
            } catch (InterruptedException e) { // the stop's (a settle call under way may outlast its join), or one a plugin's
                continue;                      // acknowledger left set: returning ended every lease extension for good
            }
            try {
                if (!stopped.getAsBoolean()) {
                    eachRound.run();
                    sayIfHeld();
                }
            } catch (Throwable e) { // each on its own: a round's chores failing (no thread to be had) must not stop extensions
                aside.write(() -> LOG.log(Level.WARNING, "the lease keeper's round of '" + name + "' failed; it goes on", e));
            }
            if (!config.extendLeases()) {
                continue;
            }
            try {
                extendDue();
            } catch (Throwable e) { // an extension that failed is tried again next round
                aside.write(() -> LOG.log(Level.WARNING, "lease extension of '" + name + "' failed; will try again", e));
            } finally {
                extendingSince = 0;
            }
        }
    }

    /** Whether the pollers were held behind the settler when last said, and when that was (nanoTime). */
    private boolean saidHeld;
    private long saidHeldAt;

    /**
     * Says when the pollers begin to wait behind the settler (at most once a minute), and when they go on: held unsaid,
     * a listener that took nothing in for minutes, its acknowledgement calls slow or throttled, looked idle.
     */
    private void sayIfHeld() {
        boolean held = settler.behind(Math.max(config.maxInFlight(), Settler.BATCH));
        long now = System.nanoTime();
        if (held && !saidHeld && (saidHeldAt == 0 || now - saidHeldAt > TimeUnit.MINUTES.toNanos(1))) {
            saidHeld = true;
            saidHeldAt = now | 1;
            aside.write(() -> LOG.log(Level.WARNING, "pollers of ''{0}'' wait: more settlements are queued for the "
                    + "transport than the window holds; its acknowledgement calls are slow or throttled", name));
        } else if (!held && saidHeld) {
            saidHeld = false;
            aside.write(() -> LOG.log(Level.INFO, "pollers of ''{0}'' go on: the settlements queued were sent", name));
        }
    }

    /** When the extension call under way began (nanoTime), 0 when none is: see {@link #stuckExtension}. */
    private volatile long extendingSince;

    /** How long the transport's extension under way has gone on, when longer than {@code limit}; null when not. */
    java.time.Duration stuckExtension(java.time.Duration limit) {
        long since = extendingSince;
        if (since == 0) {
            return null;
        }
        long took = System.nanoTime() - since;
        return took > Durations.nanos(limit) ? java.time.Duration.ofNanos(took) : null;
    }

    /** Those in hand first: a handler's lease lapsing lets a copy run beside it, a queued ack's a copy run again after. */
    private void extendDue() {
        try {
            extendInHand();
        } finally {
            extendQueued();
        }
    }

    private void extendInHand() {
        var now = clock.instant();
        long nowNanos = System.nanoTime();
        var ahead = config.lease().minus(config.extendAfter());
        var threshold = now.plus(ahead);
        long thresholdNanos = nanosAfter(nowNanos, ahead);
        var due = new ArrayList<InFlight>();
        for (var item : hands.inFlight()) {
            // due by the earliest the transport's lease may end (a slow answer ends it before leaseUntil)
            if (!item.settled.get() && due(item, threshold, thresholdNanos, nowNanos)) {
                due.add(item);
            }
        }
        var kept = new java.util.HashSet<InFlight>();
        for (var item : hands.handedOver()) {
            long past = item.keptPastLeaseNanos;
            if (past != InFlight.NO_NANOS) {
                keepClaimsOfKept(item, past, nowNanos);
            } else if (due(item, threshold, thresholdNanos, nowNanos)) {
                due.add(item);
                kept.add(item);
            }
        }
        claims.round();
        if (due.isEmpty()) {
            return;
        }
        for (var item : due) {
            // before the transport's call, each on a thread of its own, and whatever it answers (a refused lease keeps its
            // claims all the same): extended once the whole call answered, one slow chunk of it (an SQS call may take
            // 15 s) outlasted the claims' margin, every claim of the round was lost for good, a copy ran beside its
            // handler. One taken during the call is extended by its taker (extending: the keeper read the claims before)
            item.extending = true;
            claims.extendClaimsOf(item, config.lease());
        }
        long callStart = System.nanoTime();
        extendingSince = callStart | 1; // never 0 while a call is under way; the claims kept on their own schedule meanwhile
        List<Delivery> answer;
        Throwable failed = null;
        try (var during = claimsDuring(Set.copyOf(due), callStart)) {
            answer = acknowledger.extendLeases(due.stream().map(i -> i.delivery).toList(), config.lease());
        } catch (Throwable e) {
            // the transport unreachable a while: every lease refused — the claims kept (the copies may go to another
            // worker while these handlers still run), asked again as a refusal is, and the throw said below
            failed = e;
            answer = due.stream().map(i -> i.delivery).toList();
        } finally {
            extendingSince = 0;
        }
        var notExtended = refusals(answer);
        var newLease = now.plus(config.lease());
        int extended = 0;
        for (var item : due) {
            if (notExtended.contains(item.delivery)) {
                item.extending = false; // its lease unmoved: a claim taken from here on ends with it
                // its claims were extended all the same: the transport may have handed the message to another worker (a
                // lease ended, a Kafka partition revoked); while this handler runs, the claim keeps the copy from running
                // beside it. Tried again next round while its lease lasts; past it the message is gone or another's
                if (!now.isBefore(item.leaseUntil)) {
                    if (kept.contains(item)) {
                        // kept by its handler, still at work on it: its claims are kept until it settles the delivery (the
                        // copy waits, then finds it done) — taken back here, they were let go and the copy ran it again
                        item.keptPastLeaseNanos = nowNanos;
                    }
                    // in flight, its runner completes or releases its claims; handed over during this call, it is found
                    // kept next round (taken back here, it was let go with its claims). Either way asked again in half a
                    // lease, not every round: a handler hung past its lease was a transport call, a claim extension and a
                    // warning each second until its timeout
                    item.askAgainNanos = nowNanos + Durations.nanos(config.lease()) / 2;
                } else {
                    // not asked again every round: a refusal that lasts (SQS's 12 hours from the receive leave less than
                    // a whole lease) was a call and a warning each second — again within a quarter of the time ahead,
                    // and within half of what is left of the lease (by either clock: a throttled round passes in time)
                    long untilEnd = Durations.nanos(Duration.between(now, item.leaseUntil));
                    long excuse = item.excuseNanos;
                    if (excuse != InFlight.NO_NANOS) {
                        untilEnd = Math.min(untilEnd, excuse - nowNanos);
                    }
                    item.askAgainNanos = nowNanos + askAgainIn(Durations.nanos(ahead), untilEnd);
                }
                continue;
            }
            extendedTo(item, newLease, nowNanos);
            extended++;
        }
        counters.leaseExtensions.add(extended);
        tell(extended);
        if (failed != null) {
            if (failed instanceof Error err) {
                throw err;
            }
            throw failed instanceof RuntimeException r ? r
                    : new dev.ferry.domain.model.FerryException("lease extension failed", failed, true);
        }
        if (!notExtended.isEmpty()) {
            int refused = notExtended.size();
            aside.write(() -> LOG.log(Level.WARNING, "{0} lease(s) of ''{1}'' could not be extended; those messages may be "
                    + "handled twice (the ledger drops the duplicate)", refused, name));
        }
    }

    /**
     * Due by the listener's clock or by the time that has really passed, whichever says so first: a wall
     * clock stepped back (NTP, a VM resumed) would otherwise hold every extension back by the step while
     * the transport's leases, which run in real time, end — and another instance takes the messages.
     */
    private static boolean due(InFlight item, java.time.Instant threshold, long thresholdNanos, long nowNanos) {
        long askAgain = item.askAgainNanos;
        if (askAgain != InFlight.NO_NANOS && nowNanos - askAgain < 0) {
            return false; // refused a moment ago
        }
        long excuseNanos = item.excuseNanos;
        return !item.excuseUntil.isAfter(threshold) || excuseNanos != InFlight.NO_NANOS && excuseNanos - thresholdNanos <= 0;
    }

    /**
     * The leases of deliveries whose settlements wait for the settler (acks behind a slow acknowledger): out of the
     * window once queued, a wide window's last waited past its lease behind a throttled dead-letter queue, and came back
     * to run again — a thousand queued, 100 a call of 200 ms, drained nothing in a minute. Their claims are not asked:
     * completed with the settlement. A refusal is one sent meanwhile, mostly: asked again in a quarter of the time ahead.
     */
    private void extendQueued() {
        var now = clock.instant();
        long nowNanos = System.nanoTime();
        var ahead = config.lease().minus(config.extendAfter());
        var threshold = now.plus(ahead);
        long thresholdNanos = nanosAfter(nowNanos, ahead);
        if (settleHangs()) {
            return; // a send that hangs: what waits behind it goes back to the queue for others, not held for 12 hours
        }
        var due = new ArrayList<InFlight>();
        settler.forEachQueued(item -> {
            if (due(item, threshold, thresholdNanos, nowNanos)) {
                due.add(item);
            }
        });
        if (due.isEmpty()) {
            return;
        }
        List<Delivery> answer;
        extendingSince = System.nanoTime() | 1;
        try (var during = claimsDuring(Set.of(), extendingSince)) { // the claims in hand kept meanwhile too (a review)
            answer = acknowledger.extendLeases(due.stream().map(i -> i.delivery).toList(), config.lease());
        } catch (Throwable e) { // the transport failing a while: asked again as a refusal is
            answer = due.stream().map(i -> i.delivery).toList();
            aside.write(() -> LOG.log(Level.DEBUG, "lease extension of settlements queued in '" + name + "' failed", e));
        } finally {
            extendingSince = 0;
        }
        var refused = refusals(answer);
        var newLease = now.plus(config.lease());
        int extended = 0;
        for (var item : due) {
            if (refused.contains(item.delivery)) {
                item.askAgainNanos = nowNanos + Durations.nanos(config.lease().minus(config.extendAfter())) / 4;
                continue;
            }
            extendedTo(item, newLease, nowNanos);
            extended++;
        }
        counters.leaseExtensions.add(extended);
        tell(extended);
    }

    /** Whether the settler's call under way has gone on past max(2 × lease, the health check's floor): taken as hung. */
    private boolean settleHangs() {
        var limit = config.lease().multipliedBy(2);
        return settler.calls.stuck(limit.compareTo(HealthCheck.STUCK_CALL_FLOOR) < 0 ? HealthCheck.STUCK_CALL_FLOOR : limit) != null;
    }

    /** Of what the transport answered, the deliveries it refused: a null answer, or nulls in it, say nothing of them. */
    private static Set<Delivery> refusals(List<Delivery> answer) {
        return answer == null ? Set.of()
                : answer.stream().filter(java.util.Objects::nonNull).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** {@code item}'s lease extended, asked at {@code nowNanos}, to {@code newLease}. */
    private void extendedTo(InFlight item, java.time.Instant newLease, long nowNanos) {
        item.leaseUntil = newLease;
        item.extending = false;           // after the lease moved: a claim taken from here on sees it moved (hold)
        item.excuseUntil = newLease;      // taken before the call: never later than the transport's
        item.excuseNanos = nanosAfter(nowNanos, config.lease());
        item.askAgainNanos = InFlight.NO_NANOS;
    }

    /** The claims in hand kept while the transport's call under way, begun at {@code start}, lasts; null without a ledger. */
    private ClaimsDuringCall claimsDuring(Set<InFlight> extendedNow, long start) {
        return ledger == null ? null : ClaimsDuringCall.start(name, hands, claims, config, extendedNow, start, tickNanos(config));
    }

    /** Its warnings, written aside: a log that blocks must not hold the one thread that keeps every lease. */
    private final AsideLog aside = new AsideLog("ferry-lease-log");
    private final ClaimLeases claims;

    /** How long a kept delivery's claims are kept past its lease for a handler that does not settle it. */
    static final Duration KEPT_PAST_LEASE = Duration.ofMinutes(15);

    /**
     * A kept delivery whose lease the transport would not extend: its claims extended every half lease (the transport
     * no longer asked) until its handler settles it — then they are completed or released as for any kept delivery —
     * or, {@link #KEPT_PAST_LEASE} on, taken back, its claims left to run out.
     */
    private void keepClaimsOfKept(InFlight item, long past, long nowNanos) {
        if (nowNanos - past > Durations.nanos(KEPT_PAST_LEASE)) {
            hands.takeBack(item.delivery);
            return;
        }
        long askAgain = item.askAgainNanos;
        if (askAgain == InFlight.NO_NANOS || nowNanos - askAgain >= 0) {
            claims.extendClaimsOf(item, config.lease());
            item.askAgainNanos = nowNanos + Durations.nanos(config.lease()) / 2;
        }
    }

    /** After a refusal: a quarter of the time ahead, at most half of what is left of the lease (asked again before it ends). */
    static long askAgainIn(long aheadNanos, long untilEndNanos) {
        return Math.max(0, Math.min(aheadNanos / 4, untilEndNanos / 2));
    }

    /** {@code nanos} (a {@link System#nanoTime()} reading) plus {@code d}, comparable by difference: at most a century on. */
    static long nanosAfter(long nanos, Duration d) {
        return nanos + Math.min(Durations.nanos(d), CENTURY_NANOS);
    }

    private static final long CENTURY_NANOS = Duration.ofDays(36_525).toNanos();

    /** Extensions not yet told to the observer. */
    private final java.util.concurrent.atomic.AtomicLong untold = new java.util.concurrent.atomic.AtomicLong();
    /** Whether a thread is telling the observer now. */
    private final java.util.concurrent.atomic.AtomicBoolean telling = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Tells the observer of {@code extended} extensions on a virtual thread, one at a time: an observer
     * that blocks (a metrics push to a server that hangs) must not hold this thread, the only one that
     * keeps every lease. What gathers while it blocks is told in one call when it answers.
     */
    private void tell(int extended) {
        if (extended == 0) {
            return;
        }
        untold.addAndGet(extended);
        if (!telling.compareAndSet(false, true)) {
            return; // the telling thread under way takes it
        }
        try {
            Thread.ofVirtual().name("ferry-" + name + "-lease-observer").start(this::tellAll);
        } catch (Throwable e) { // no thread to be had: told next round
            telling.set(false);
        }
    }

    private void tellAll() {
        do {
            try {
                for (long n; (n = untold.getAndSet(0)) > 0; ) {
                    observer.leasesExtended((int) Math.min(n, Integer.MAX_VALUE));
                }
            } catch (Throwable e) { // the observer is guarded; anything else still lets a later round tell
                LOG.log(Level.DEBUG, "telling the observer of lease extensions failed", e);
            } finally {
                telling.set(false);
            }
        } while (untold.get() > 0 && telling.compareAndSet(false, true)); // added after the last look: told here
    }

}
