package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.FailureDecision;
import java.util.Set;

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
     * limit was checked only after decoding, in the delivery's turn, and such a message was received for ever. Only
     * the first of a group in the poll: those behind it waited while the process died of it, and run once it is gone.
     */
    static String pastAlready(Settler settler, DeadLetterPolicy policy, boolean redelivers, Delivery delivery,
                              Hands.Batch poll) {
        if (!redelivers || !policy.exceeded(delivery.receiveCount() - 1)) {
            return null; // the common case, without a look at the counts
        }
        if (delivery.groupKey() != null && !poll.pastLimitGroups.add(delivery.groupKey())) {
            return null; // behind its group's first past the limit in this poll: decoded, and run (a last look)
        }
        int throttles = settler.failureCounts.get(delivery.id()).throttles();
        int passes = settler.passesWithAcksInFlight(delivery.id());
        var before = new FailureDecision.Counts(delivery.receiveCount() - 1, 0, throttles, passes);
        return FailureDecision.onReceive(before, policy) == null ? null : NOT_DECODED;
    }

    /**
     * {@code item}, decoded now if it was not ({@link #pastAlready}) and a ledger can tell whether its events are done:
     * a done message's copy is not dead-lettered (its ack lost twice), and its keys come from decoding it. With a ledger,
     * so, a decoding that kills the process is still tried in the delivery's turn; without one, never again.
     */
    static InFlight decodedToLookUp(InFlight item, EventSteps events, boolean ledger) {
        if (ledger && item.events == null && NOT_DECODED.equals(item.decodeProblem)) {
            events.decodeAgain(item);
        }
        return item;
    }

    /** How a dead letter's reason says why it was not decoded ({@code problem}: {@link #NOT_DECODED} or a decoder's). */
    static String decodeProblem(String problem) {
        return NOT_DECODED.equals(problem) ? problem : "the decoder threw " + problem;
    }

    /**
     * Whether {@code item}, past the limit, is one waiting in its group behind a message of the same poll dead-lettered
     * for its receives: the process died of that one while these waited in hand behind it (a FIFO group's receive of
     * ten, each crash a receive more for all of them), and each was dead-lettered beside it, unrun and with its reason.
     * The first of its group past the limit in a poll goes; those after it are run. Counted in memory: after a crash,
     * the first of the group is the first past the limit again, so a message that crashes the process still goes.
     */
    static boolean behindItsGroupsPoison(InFlight item) {
        if (item.delivery.groupKey() == null || item.batch == null) {
            return false;
        }
        return !item.batch.deadLetteredForReceives.add(item.orderingKey);
    }

    /** A set of the groups of a poll, for {@link #behindItsGroupsPoison}. */
    static Set<String> groups() {
        return java.util.concurrent.ConcurrentHashMap.newKeySet();
    }
}
