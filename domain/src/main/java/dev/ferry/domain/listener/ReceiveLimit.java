package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.FailureDecision;

/**
 * The receive limit ({@code maxReceives}) where the process may have died of the message: its net for messages that
 * crash workers, which the engine's own checks, made in the delivery's turn, do not reach.
 */
final class ReceiveLimit {

    /** What a delivery past the limit at its last receive already, and back, is dead-lettered with. */
    static final String NOT_DECODED = "it was not decoded: it was past the limit at its last receive already and came "
            + "back (its decoding may crash or hang the process)";

    private ReceiveLimit() {
    }

    /**
     * {@link #NOT_DECODED} when {@code delivery} was past the limit at its last receive already — it should have been
     * dead-lettered then, and came back: the process likely died decoding it (a decoder that runs out of memory or
     * crashes natively, on every instance in turn), or hung there until restarted. Null otherwise: decode it. The
     * limit was checked only after decoding, in the delivery's turn, and such a message was received for ever. Every
     * one of a poll past the limit so: a poll's deliveries are decoded in turn before any runs, and the one the process
     * died of is the last decoded, not the first (those behind their group's first are decoded in their turn).
     */
    static String pastAlready(Settler settler, DeadLetterPolicy policy, boolean redelivers, Delivery delivery) {
        if (!redelivers || !policy.exceeded(delivery.receiveCount() - 1)) {
            return null; // the common case, without a look at the counts
        }
        int throttles = settler.failureCounts.get(delivery.id()).throttles();
        int passes = settler.passesWithAcksInFlight(delivery.id());
        var before = new FailureDecision.Counts(delivery.receiveCount() - 1, 0, throttles, passes);
        return FailureDecision.onReceive(before, policy) == null ? null : NOT_DECODED;
    }

    /** How long a decoding past the limit that never finished keeps its message from being decoded again. */
    static final java.time.Duration UNFINISHED = java.time.Duration.ofHours(1);

    /**
     * {@code item}, decoded in its turn if {@link #pastAlready} left it undecoded and either it waits behind its group's
     * message dead-lettered for its receives in this poll (it runs: its decoding is tried, after that one went), or a
     * ledger can tell whether it is done (a done message's copy is not dead-lettered: its keys come from decoding it).
     * With a ledger the decoding is marked on it first, the mark made to outlive the process ({@link
     * IdempotencyLedger#persist}), and taken off after: a decoding past the limit that never finished (the process died
     * in it) is not tried again for {@link #UNFINISHED}, whichever instance asks. A ledger held in memory loses the mark
     * with the process, and the decoding was tried at every receive: it counts as none here.
     */
    static InFlight decoded(InFlight item, EventSteps events, IdempotencyLedger ledger) {
        var left = item.decodingMark;
        if (left != null) { // its own, held since a failed try (a peek, then the release, threw): let go of first —
            ledger.release(left.key(), left.token()); // found held, it was taken for a decoding that never finished,
            item.decodingMark = null;                 // and a done message's copy was dead-lettered
        }
        if (item.events != null || !NOT_DECODED.equals(item.decodeProblem)) {
            return item;
        }
        if (ledger != null) {
            String mark = decodingMark(events.listener(), item.delivery.id());
            if (!(ledger.claim(mark, UNFINISHED) instanceof Claim.Acquired a)) {
                return item; // a decoding that never finished, or one under way: not decoded
            }
            item.decodingMark = new InFlight.HeldClaim(mark, a.token());
            try {
                // the mark made to outlive the process dying in the decoding (an MVStore claim waits for its commit), and
                // still there (a file reopened after a failed write meanwhile has lost it); one held in memory, or a
                // ledger that does not say, is lost with the process: as no ledger
                if (ledger.persist() && ledger.peek(mark).orElse(null) instanceof Claim.InProgress) {
                    events.decodeWatched(item);
                    return item;
                }
            } finally {
                ledger.release(mark, a.token());
                item.decodingMark = null;
            }
        }
        if (item.delivery.groupKey() != null && item.batch != null
                && item.batch.firstPastTheLimit.containsKey(item.orderingKey)) {
            events.decodeWatched(item); // behind its group's poison: decoded in its turn, after that one went
        }
        return item;
    }

    /**
     * The ledger key of the mark on the decoding of message {@code id} of the listener {@code name}: keyed by the
     * listener's name (the one the file gives its source), not by the source's own, and each part with its length, as
     * {@link LedgerKeys} writes its keys. Two sources of one plugin type on queues both called "orders" number their
     * messages alike ("orders-7" on both): the mark one left held, its process dead, kept the other's same-id message
     * from being decoded, and a done copy of it was dead-lettered.
     */
    static String decodingMark(String name, String id) {
        return LedgerKeys.bounded("decoding:" + name.length() + ':' + name + ':' + id);
    }

    /** How a dead letter's reason says why it was not decoded ({@code problem}: {@link #NOT_DECODED} or a decoder's). */
    static String decodeProblem(String problem) {
        return NOT_DECODED.equals(problem) || problem.startsWith("malformed: ") ? problem : "the decoder threw " + problem;
    }

    /**
     * Whether {@code item}, past the limit, is one waiting in its group behind a message of the same poll dead-lettered
     * for its receives: the process died of that one while these waited in hand behind it (a FIFO group's receive of
     * ten, each crash a receive more for all of them), and each was dead-lettered beside it, unrun and with its reason.
     * The first of its group past the limit in a poll goes; those after it are run. Counted in memory: after a crash,
     * the first of the group is the first past the limit again, so a message that crashes the process still goes.
     * Also the first when it was found done, or waited for another's live claim on it: not the poison then, it was
     * never dead-lettered — and the next, unmarked, was taken for the first and went to the DLQ unrun.
     */
    static boolean behindItsGroupsPoison(InFlight item) {
        if (item.delivery.groupKey() == null || item.batch == null) {
            return false;
        }
        String first = item.batch.firstPastTheLimit.putIfAbsent(item.orderingKey, item.delivery.id());
        return first != null && !first.equals(item.delivery.id()); // itself, come back from its wait: still the first
    }
}
