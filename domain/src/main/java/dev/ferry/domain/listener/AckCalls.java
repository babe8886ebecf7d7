package dev.ferry.domain.listener;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.List;

/**
 * The acknowledger's calls as the health check sees them: one under way that has not returned, and a run
 * of calls that each carried out none of the acks (a role allowed to receive but not to delete: every
 * message came back each lease and ran again, for ever, while the listener stood ready) or none of the dead
 * letters they were given. Thread-safe.
 */
final class AckCalls {

    /** When the call under way began (nanoTime), 0 when none is. */
    private volatile long sendingSince;
    /** The run of calls whose acks all failed; the run of those whose dead letters all did (a copy refused: a DLQ
     *  denied or missing, its KMS key refused — every poison message came back each lease, nothing said). */
    private final Run acks = new Run();
    private final Run deadLetters = new Run();
    /** A gap between failures longer than this starts a new run: the health check's limit, as it last asked. */
    private volatile long quietNanos = Duration.ofMinutes(1).toNanos();

    void begin() {
        sendingSince = System.nanoTime() | 1; // never 0 while a call is under way
    }

    void end() {
        sendingSince = 0;
    }

    /** A call under way for longer than {@code limit}: for how long; else null. */
    Duration stuck(Duration limit) {
        long since = sendingSince;
        if (since == 0) {
            return null;
        }
        long took = System.nanoTime() - since;
        return took > Durations.nanos(limit) ? Duration.ofNanos(took) : null;
    }

    /** How long the call under way has taken, in words. */
    String stuckFor() {
        long since = sendingSince;
        return since == 0 ? "a while" : Durations.text(Duration.ofNanos(System.nanoTime() - since));
    }

    /** A call threw (or answered nothing usable): nothing it was given was carried out, dead letters included. */
    void failed(String reason, List<Settlement> given) {
        boolean deadLettersGiven = given.stream().anyMatch(s -> s.disposition() instanceof Disposition.DeadLetter);
        if (deadLettersGiven) {
            deadLetters.failed(reason, quietNanos);
        }
        if (!deadLettersGiven || given.stream().anyMatch(s -> s.disposition() instanceof Disposition.Ack)) {
            acks.failed(reason, quietNanos); // a call of dead letters alone is theirs (an ack's next call would end the run)
        }
    }

    /**
     * A call answered for {@code given}; {@code failed} of them were not carried out. Acks and dead letters judged
     * apart: a role that may change visibility but not delete had its redeliveries carried out, and its acks' run
     * hidden; one whose dead-letter copies are refused has its acks carried out, and the copies' run hidden.
     */
    void answered(List<Settlement> given, List<Settlement.Failure> failed) {
        judge(acks, given, failed, Disposition.Ack.class, false);
        judge(deadLetters, given, failed, Disposition.DeadLetter.class, true);
    }

    /**
     * {@code passingOnly}: failures that are not passing ones leave the run as it is — a dead letter refused for good (a
     * source with no dead-letter queue, on purpose; a copy that can never fit) comes back each lease, and one such
     * message took the whole app out of readiness until SQS's own redrive moved it.
     */
    private void judge(Run run, List<Settlement> given, List<Settlement.Failure> failed, Class<? extends Disposition> kind,
                       boolean passingOnly) {
        long count = given.stream().filter(s -> kind.isInstance(s.disposition())).count();
        if (count == 0) {
            return;
        }
        var failures = failed.stream().filter(f -> kind.isInstance(f.settlement().disposition())).toList();
        if (failures.size() < count) {
            run.since = 0;
        } else if (!passingOnly || failures.stream().allMatch(Settlement.Failure::retryable)) {
            run.failed(failures.getFirst().reason(), quietNanos);
        }
    }

    /**
     * Calls that have carried out nothing for longer than {@code limit}, the last of them within it: what to
     * report; else null (a run that stopped when the messages did is not reported for ever).
     */
    String failing(Duration limit) {
        long bound = Durations.nanos(limit);
        quietNanos = bound;
        var ackRun = acks.longerThan(bound);
        if (ackRun != null) {
            return "every acknowledgement call to the source has failed for " + ackRun
                    + " (messages come back when their leases run out, and run again): " + acks.reason;
        }
        var deadLetterRun = deadLetters.longerThan(bound);
        return deadLetterRun == null ? null : "every dead letter sent to the source has failed for " + deadLetterRun
                + " (its copy to the dead-letter queue, or the delete after it: those messages come back when their leases "
                + "run out, and are given up again): " + deadLetters.reason;
    }

    /** A run of calls that each carried out nothing of one kind. */
    /**
     * The failures an acknowledger reported of {@code sent}, once each and as settlements it was given: not a null, not
     * one of a message it was not given (a plugin re-reporting an earlier call's), not one said twice. Counted as they
     * came, the sent count went negative and a run of failing calls began while every ack landed: readiness went down
     * after a minute. One it rebuilt (another receipt, a reason of its own) is matched by its message and kind to one
     * given and not yet failed, and stands for it: what counts and owes the refused ones looks them up whole.
     */
    static List<Settlement.Failure> ours(Settlement[] sent, List<Settlement.Failure> failed) {
        var given = new java.util.HashSet<>(java.util.Arrays.asList(sent));
        var failedAlready = new java.util.HashSet<Settlement>();
        var ours = new java.util.ArrayList<Settlement.Failure>(failed.size());
        var rebuilt = new java.util.ArrayList<Settlement.Failure>(0);
        for (var failure : failed) {
            if (failure == null || failure.settlement() == null || failure.settlement().delivery() == null
                    || failure.settlement().disposition() == null) {
                continue;
            }
            if (!given.contains(failure.settlement())) {
                rebuilt.add(failure);
            } else if (failedAlready.add(failure.settlement())) {
                ours.add(failure);
            }
        }
        for (var failure : rebuilt) {
            var key = matching(failure.settlement());
            for (var settlement : sent) {
                if (matching(settlement).equals(key) && failedAlready.add(settlement)) {
                    ours.add(new Settlement.Failure(settlement, failure.reason(), failure.retryable()));
                    break;
                }
            }
        }
        return ours.size() == failed.size() && rebuilt.isEmpty() ? failed : List.copyOf(ours);
    }

    private static String matching(Settlement settlement) {
        var d = settlement.delivery();
        return d.source() + '\n' + d.id() + '\n' + settlement.disposition().getClass().getName();
    }

    private static final class Run {
        /** When the run began (nanoTime), 0 while calls carry out what they are given. */
        volatile long since;
        volatile long last;
        volatile String reason;

        void failed(String why, long quietNanos) {
            long now = System.nanoTime() | 1;
            long before = last;
            reason = why;
            last = now;
            if (since == 0 || now - before > quietNanos) {
                since = now; // a failure after a quiet while (an idle listener makes no calls) starts a run of its own
            }
        }

        /** How long the run has lasted, in words, when longer than {@code bound} with its last failure within it. */
        String longerThan(long bound) {
            long began = since;
            long now = System.nanoTime();
            if (began == 0 || now - began <= bound || now - last > bound) {
                return null;
            }
            return Durations.text(Duration.ofNanos(now - began));
        }
    }
}
