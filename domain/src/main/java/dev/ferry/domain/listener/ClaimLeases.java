package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.model.Durations;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ledger claims' leases of what the listener holds, kept by the {@link LeaseKeeper} beside the transport's: each
 * extension on a thread of its own, a refused claim said once and asked no more, and an extension that failed (the
 * ledger unreachable a while) asked again each round — one claim for all while the ledger fails, every one once it
 * answers — until its lease is over: not only at the next transport round, which comes when the claim is due to end,
 * too late for a ledger back after ten seconds. Each extension is given half of what is left of the claim, as last
 * confirmed, to answer in ({@link IdempotencyLedger#extend(String, long, Duration, Duration)}).
 */
final class ClaimLeases {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    private static final int MAX_LOST = 10_000;

    private final String name;
    private final IdempotencyLedger ledger;
    private final Hands hands;
    private final Counters counters;
    private final AsideLog aside;
    private final LineBurst extensionFailures;

    /** Claims the ledger refused to extend. */
    private final Set<InFlight.HeldClaim> lost = ConcurrentHashMap.newKeySet();
    /** Claims whose extension is under way. */
    private final Set<InFlight.HeldClaim> extending = ConcurrentHashMap.newKeySet();
    /** Claims asked again while their extension was under way: sent once it answers, when it asks for longer. */
    private final Map<InFlight.HeldClaim, Asked> next = new ConcurrentHashMap<>();
    /**
     * Claims whose extension failed, with what it asked for: the lease wanted and when (nanoTime) — or whose ask,
     * queued behind a call, found them held nowhere for a moment as that call answered.
     */
    private final Map<InFlight.HeldClaim, Asked> failed = new ConcurrentHashMap<>();
    /**
     * The ends claims' last extensions confirmed (nanoTime: the send, plus the lease it asked for). Those of claims let
     * go of are forgotten each round once as many again have gathered as were kept at the last such round.
     */
    private final Map<InFlight.HeldClaim, Confirmed> confirmed = new ConcurrentHashMap<>();

    /** An end confirmed ({@code end}) of a claim as taken ({@code takenUntil}: its {@link InFlight.HeldClaim#untilNanos}). */
    private record Confirmed(long takenUntil, long end) { }
    private volatile int pruneAt = PRUNE_AT_LEAST;
    private static final int PRUNE_AT_LEAST = 256;

    /**
     * An ask: the lease wanted, when, and {@code by} the claim as it was taken then — a resume takes a paused claim up
     * again (one of equal key and token, a new end): an ask queued or failed before it, sent later with the older one,
     * was given the time to answer of the end confirmed before the pause, more than the claim had after it.
     */
    private record Asked(Duration lease, long atNanos, InFlight.HeldClaim by) {
        /** What is left of the lease asked for (at least a millisecond: the ledger then says whether the claim is still ours). */
        Duration left(long nowNanos) {
            long left = Durations.nanos(lease) - (nowNanos - atNanos);
            return Duration.ofNanos(Math.max(left, 1_000_000));
        }

        /** Whichever of the two asks for the later end, by the claim as the newer of them found it. */
        static Asked later(Asked a, Asked b) {
            var end = endsNoEarlier(a, b) ? a : b;
            var newer = a.atNanos - b.atNanos >= 0 ? a : b;
            return end.by == newer.by ? end : new Asked(end.lease, end.atNanos, newer.by);
        }

        static boolean endsNoEarlier(Asked a, Asked b) {
            return a.atNanos - b.atNanos + Durations.nanos(a.lease) - Durations.nanos(b.lease) >= 0;
        }

        /** Whether the lease asked for is over: the claim has run out by now, and asking again changes nothing. */
        boolean over(long nowNanos) {
            return nowNanos - atNanos - Durations.nanos(lease) >= 0;
        }
    }

    /**
     * Whether the last extension asked again answered. While it does not, one failed claim is asked per round for all of
     * them (a probe); once one answers, every one is asked again — a ledger down for ten seconds keeps its claims, and a
     * throttled one is not asked by every claim in hand every second.
     */
    private volatile boolean answering = true;

    ClaimLeases(String name, IdempotencyLedger ledger, Hands hands, Counters counters, AsideLog aside) {
        this.name = name;
        this.ledger = ledger;
        this.hands = hands;
        this.counters = counters;
        this.aside = aside;
        this.extensionFailures = new LineBurst(LOG, "failed ledger lease extensions", null, aside::write);
    }

    /** Extends every claim {@code item} holds to {@code lease} from now. */
    void extendClaimsOf(InFlight item, Duration lease) {
        if (ledger == null) {
            return;
        }
        var claims = new ArrayList<>(item.asyncClaims);
        for (var held : new InFlight.HeldClaim[] {item.claim, item.toComplete}) {
            if (held != null) {
                claims.add(held);
            }
        }
        long nowNanos = System.nanoTime();
        for (var claim : claims) {
            failed.remove(claim); // asked now, for a lease of its own
            extend(claim, new Asked(lease, nowNanos, claim));
        }
    }

    /**
     * Each round: the claims whose extension failed are asked again, for what is left of the lease they asked for,
     * while the listener still holds them; lost claims of deliveries that left its hands are forgotten. The keeper's
     * rounds call it, and those of the watch while it waits on the transport ({@link ClaimsDuringCall}); the two may
     * meet as the call ends: each failed ask is taken out once (removed by value), and a claim still being asked waits
     * for its answer.
     */
    void round() {
        if (failed.isEmpty() && lost.isEmpty() && next.isEmpty() && confirmed.size() < pruneAt) {
            return;
        }
        var current = held(); // each claim held, as it was last taken
        var held = current.keySet();
        lost.retainAll(held);
        next.keySet().retainAll(held); // asked while a call that never answers was under way
        failed.keySet().retainAll(held);
        confirmed.keySet().retainAll(held);
        pruneAt = Math.max(PRUNE_AT_LEAST, 2 * confirmed.size());
        long nowNanos = System.nanoTime();
        boolean all = answering;
        for (var entry : failed.entrySet()) {
            if (!failed.remove(entry.getKey(), entry.getValue()) || entry.getValue().over(nowNanos)) {
                continue;
            }
            var asked = entry.getValue();
            var now = current.get(entry.getKey());
            extend(entry.getKey(), now == null || now == asked.by ? asked : new Asked(asked.lease, asked.atNanos, now));
            if (!all) {
                return; // the ledger still failing: this one asks for all of them
            }
        }
    }

    private Map<InFlight.HeldClaim, InFlight.HeldClaim> held() {
        var held = new java.util.HashMap<InFlight.HeldClaim, InFlight.HeldClaim>();
        inHand(true, claim -> {
            held.put(claim, claim);
            return false;
        });
        return held;
    }

    /**
     * Walks the claims the listener holds — each delivery's in flight or handed over, its async ones, its own and,
     * with {@code toComplete}, the one on its way to being completed — until {@code found} says true; whether it did.
     */
    private boolean inHand(boolean toComplete, java.util.function.Predicate<InFlight.HeldClaim> found) {
        for (var items : List.of(hands.inFlight(), hands.handedOver())) {
            for (var item : items) {
                for (var claim : item.asyncClaims) {
                    if (found.test(claim)) {
                        return true;
                    }
                }
                var own = item.claim;
                var completing = toComplete ? item.toComplete : null;
                if (own != null && found.test(own) || completing != null && found.test(completing)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Extends the claim on a virtual thread of its own, without waiting: a ledger that is slow to answer (throttled, a
     * hung connection) must not hold the lease keeper's thread, which extends every other message's transport lease. A
     * claim whose last extension has not answered yet is not asked again meanwhile.
     *
     * <p>The ledger is given half of what is left of the claim, as last confirmed, to answer in. Re-asked after a
     * failure for what is left of the transport's lease — more than is left of the claim — a call bounded by that
     * lease alone (DynamoDB's, on a silent connection) failed after the claim ended, the next ask was refused, and the
     * claim was lost: a copy of the event could run beside its handler. Failed half-way, it leaves the keeper's next
     * round the other half to ask again in.
     */
    private void extend(InFlight.HeldClaim claim, Asked asked) {
        if (lost.contains(claim)) {
            return; // a claim lost stays lost: asking again changes nothing
        }
        if (!extending.add(claim)) {
            // one being asked now: this later ask is sent once it answers — dropped, the late answer left the claim at the
            // older round's end, which the next round found over (lost, a copy ran beside the handler)
            next.merge(claim, asked, Asked::later);
            if (!extending.add(claim)) {
                return; // the call under way takes it when it answers
            }
            var waiting = next.remove(claim); // it answered meanwhile: sent here
            asked = waiting == null ? asked : Asked.later(waiting, asked);
        }
        var sent = asked;
        try {
            Thread.ofVirtual().name("ferry-" + name + "-claim-lease").start(() -> {
                // the claim is free to be asked again before anything is said: a log that blocks (a full pipe) held this
                // thread before its finally, and the claim was never extended again — it ran out under its handler
                boolean kept;
                Throwable failure = null;
                try {
                    long at = System.nanoTime();
                    var lease = sent.left(at);
                    long end = confirmedEnd(sent.by());
                    var within = Duration.ofNanos(Math.max(0, end - at) / 2); // half of what is left of the claim
                    // past it, or not known: extended since by what this does not see (a hold's), or gone anyway
                    kept = end == InFlight.NO_NANOS || end - at <= 0 ? ledger.extend(claim.key(), claim.token(), lease)
                            : ledger.extend(claim.key(), claim.token(), lease, within);
                    answering = true;
                    if (kept) {
                        // before it is free to be asked again
                        confirmed.put(claim, new Confirmed(sent.by().untilNanos(), LeaseKeeper.nanosAfter(at, lease)));
                    } else {
                        confirmed.remove(claim);
                    }
                } catch (Throwable e) {
                    answering = false;
                    kept = true;
                    failure = e;
                } finally {
                    extending.remove(claim);
                }
                var later = next.remove(claim);
                if (failure != null) {
                    // asked again soon, not when the claim is about to end; only once it is free to be asked: a round
                    // that found it here still being asked took it out and dropped it
                    again(claim, later == null ? sent : Asked.later(later, sent));
                } else if (kept && later != null && Asked.endsNoEarlier(later, sent)) {
                    sendQueued(claim, later);
                }
                if (!kept && stillOpen(claim)) {
                    lostClaim(claim);
                } else if (failure != null && extensionFailures.take()) { // each claim, each round, while the ledger is down
                    String why = JournalNotes.describe(failure);
                    aside.write(() -> LOG.log(Level.WARNING, "ledger lease extension of {0} failed: {1}", claim.key(), why));
                }
            });
        } catch (Throwable e) { // no thread to be had: asked again next round
            extending.remove(claim);
            again(claim, sent);
        }
    }

    /**
     * Sends an ask that waited for the last call to answer, with the claim as held now — queued before a pause (a
     * Throttled) and sent after the claim was taken up again, cut back to what was left of its message's lease, it was
     * given half of the end confirmed before the pause to answer in: more than the claim had. Held nowhere now, it is
     * left to the next round, which drops it if the claim is still held nowhere then. Looked up only here: an ask waits
     * behind another only while the ledger is slow.
     */
    private void sendQueued(InFlight.HeldClaim claim, Asked later) {
        var now = heldNow(claim);
        if (now == null) {
            // maybe between its handler's answer and its keeping (to complete, or kept for the handler), while its
            // worker tells the observer: dropped there, it was asked again only at its message's next due round
            again(claim, later);
        } else {
            extend(claim, now == later.by() ? later : new Asked(later.lease(), later.atNanos(), now));
        }
    }

    /** The claim equal to {@code claim} as it is held now (taken up again after a pause: a new end), or null. */
    private InFlight.HeldClaim heldNow(InFlight.HeldClaim claim) {
        var now = new InFlight.HeldClaim[1];
        inHand(true, held -> {
            now[0] = held;
            return claim.equals(held);
        });
        return claim.equals(now[0]) ? now[0] : null;
    }

    /**
     * The end {@code claim} was last confirmed to (nanoTime): the later of the one it was taken to and the one its last
     * extension confirmed; {@link InFlight#NO_NANOS} when neither is known (then its extension is not bounded by it).
     */
    private long confirmedEnd(InFlight.HeldClaim claim) {
        var last = confirmed.get(claim);
        long taken = claim.untilNanos();
        // one confirmed for the claim as it was taken before: paused and taken up again, it was cut back to what was
        // left of its message's lease, and the older, later end gave its extensions more time than the claim had
        if (last == null || last.takenUntil() != taken) {
            return taken;
        }
        long extended = last.end();
        return taken == InFlight.NO_NANOS || extended - taken >= 0 ? extended : taken;
    }

    /**
     * Whether a claim is still open — held for a handler, not on its way to being completed: an extension refused once
     * the handler finished raced the completion, which every ledger refuses an extension after. Said to be lost, it was
     * a warning that a copy may run, and a lost claim counted, on ordinary traffic (a completion that fails on a claim
     * really lost is refused, and says so itself).
     */
    private boolean stillOpen(InFlight.HeldClaim claim) {
        return inHand(false, claim::equals);
    }

    private void again(InFlight.HeldClaim claim, Asked asked) {
        if (!asked.over(System.nanoTime())) {
            failed.put(claim, asked);
        }
    }

    /**
     * A claim the ledger would not extend: its lease ran out before (extensions failing or throttled for longer than it
     * had left) and another worker may hold it now — a duplicate of the event may run beside this one. Its completion
     * will be refused (fenced) and recorded anew if the key is free then; until then nothing else can be done, but it
     * is said, once, where it was silent.
     */
    private void lostClaim(InFlight.HeldClaim claim) {
        if (lost.size() >= MAX_LOST) {
            lost.clear(); // remembered to be asked no more and said once: forgetting the oldest costs a line each
        }
        if (lost.add(claim)) {
            counters.claimsLost.increment();
            aside.write(() -> LOG.log(Level.WARNING, "the ledger claim on {0} of ''{1}'' was lost: its lease ran out before it was "
                    + "extended, and another worker may hold it now (a copy of the event may run beside this one); its "
                    + "completion may be refused (fenced)", claim.key(), name));
        }
    }
}
