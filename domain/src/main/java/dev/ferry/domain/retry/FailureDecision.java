package dev.ferry.domain.retry;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The one place that decides what happens to a message that did not simply succeed: try it again
 * in hand, put it back on the transport, or dead-letter it. A pure function of the setback, the
 * message's counts and the policies — no threads, no clock, no I/O — so a table of cases proves it
 * ({@code FailureDecisionTest}).
 *
 * <p>The rules, in words:
 * <ul>
 *   <li>Only the message's own failures count: {@code Retry} outcomes and anything a handler, sink
 *       or decoder throws (or a {@code null} it returns). When they exceed the retry policy, or the
 *       transport's receives (less the excused ones) exceed the dead-letter policy, it is
 *       dead-lettered with a reason that says which.</li>
 *   <li>Throttling, a claim held by another worker and a failing ledger are not the message's
 *       fault: they never spend an attempt and never dead-letter anything.</li>
 *   <li>A wait no longer than {@code holdLimit} is waited out <em>in hand</em>: the message keeps
 *       its lease (extended) and its place at the head of its group, and no receive is spent on
 *       any instance (a throttle's spread may take it a tenth past the limit: {@link #longestHold}).
 *       A longer wait puts it back on the transport, and the receive is excused when the wait was
 *       not its fault.</li>
 * </ul>
 */
public final class FailureDecision {

    /** The longest a delivery waits before asking again about its event's claim held elsewhere. */
    public static final Duration CLAIM_RECHECK = Duration.ofSeconds(1);

    /** The shortest such wait. */
    public static final Duration CLAIM_RECHECK_MIN = Duration.ofMillis(25);

    /** Paces retries of a failing ledger: 200 ms doubling to 10 s, half jitter. */
    public static final Backoff STORE_BACKOFF = new Backoff(Duration.ofMillis(200), 2.0, Duration.ofSeconds(10), Jitter.HALF);

    private FailureDecision() {
    }

    /** Why a message did not simply succeed. */
    public sealed interface Setback {
    }

    /** The handler's (or sink's) answer, other than {@code Done}. */
    public record Answered(Outcome outcome) implements Setback {
        public Answered {
            Objects.requireNonNull(outcome, "outcome");
            if (outcome instanceof Outcome.Done) {
                throw new IllegalArgumentException("Done is not a setback");
            }
        }
    }

    /** Code the user or a plugin wrote threw, or returned null: {@code where} says whose code. */
    public record Threw(String where, String problem) implements Setback {
        public Threw {
            Objects.requireNonNull(where, "where");
            Objects.requireNonNull(problem, "problem");
        }
    }

    /** The idempotency ledger failed ({@code operation}: claim, complete); the store's fault, not the message's. */
    public record StoreFailed(String operation, String problem, int consecutive) implements Setback {
        public StoreFailed {
            if (consecutive < 1) {
                throw new IllegalArgumentException("consecutive must be >= 1, was " + consecutive);
            }
        }
    }

    /** Another worker holds the event's claim for {@code remaining} more. */
    public record ClaimedElsewhere(Duration remaining) implements Setback {
        public ClaimedElsewhere {
            Objects.requireNonNull(remaining, "remaining");
        }
    }

    /** The body could not be decoded: it will never succeed as it is. */
    public record Malformed(String reason) implements Setback {
    }

    /**
     * What the message has been through, on this instance and per the transport.
     *
     * @param receiveCount the transport's receive count of this copy
     * @param failures     the message's own failures, this one included
     * @param throttles    receives that ended throttled (not its fault)
     * @param passes       receives handed back unhandled (not its fault)
     */
    public record Counts(int receiveCount, int failures, int throttles, int passes) {

        /** Receives that were not the message's fault. */
        public int excused() {
            return throttles + passes;
        }
    }

    /** The least a listener lets a {@code Throttled} wait (see {@link Policies#throttleFloor}). */
    public static final Duration THROTTLE_FLOOR = Duration.ofMillis(100);

    /**
     * The policies that bound retrying. {@code storeBackoff} paces retries of a failing ledger;
     * {@code throttleFloor} is the least a {@code Throttled} waits, whatever it asked for (a sink that
     * answers {@code Throttled(0)} — an endpoint's {@code Retry-After: 0} — would otherwise have the
     * message tried again at once, for as long as the throttling lasts).
     */
    public record Policies(RetryPolicy retry, DeadLetterPolicy deadLetter, Duration holdLimit, Backoff storeBackoff,
                           Duration throttleFloor) {
        public Policies {
            Objects.requireNonNull(retry, "retry");
            Objects.requireNonNull(deadLetter, "deadLetter");
            Objects.requireNonNull(holdLimit, "holdLimit");
            Objects.requireNonNull(storeBackoff, "storeBackoff");
            Objects.requireNonNull(throttleFloor, "throttleFloor");
        }

        /** Policies without a throttle floor (a Throttled waits what it asked for), as before there was one. */
        public Policies(RetryPolicy retry, DeadLetterPolicy deadLetter, Duration holdLimit, Backoff storeBackoff) {
            this(retry, deadLetter, holdLimit, storeBackoff, Duration.ZERO);
        }
    }

    /** What to do. */
    public sealed interface Decision {
    }

    /** Keep the message in hand (lease extended, its group waiting behind it) and try again after {@code delay}. */
    public record Hold(Duration delay, String reason) implements Decision {
    }

    /**
     * Settle it on the transport. {@code excused}: a {@code Redeliver} that was not the message's
     * fault, whose receive must not count towards the dead-letter policy.
     */
    public record Settle(Disposition disposition, boolean excused) implements Decision {
    }

    /**
     * Checked when a delivery starts: dead-lettered when it was received more often than the
     * policy allows, not counting excused receives; otherwise {@code null} (go on).
     */
    public static Settle onReceive(Counts counts, DeadLetterPolicy policy) {
        int counted = counts.receiveCount() - counts.excused();
        if (!policy.exceeded(counted)) {
            return null;
        }
        return new Settle(Disposition.deadLetter("received " + counts.receiveCount() + " times ("
                + counts.throttles() + " throttled, " + counts.passes() + " handed back unhandled), more than maxReceives "
                + policy.maxReceives()), false);
    }

    /** The decision for a setback. {@code random} only jitters delays. */
    public static Decision decide(Setback setback, Counts counts, Policies policies, RandomGenerator random) {
        return switch (setback) {
            case Answered(Outcome.Retry r) -> ownFailure(r.reason(), r.after(), counts, policies, random);
            case Answered(Outcome.Throttled t) -> throttled(t.retryAfter().compareTo(policies.throttleFloor()) < 0
                    ? policies.throttleFloor() : t.retryAfter(), policies, random);
            case Answered(Outcome.Reject r) -> new Settle(Disposition.deadLetter(r.reason()), false);
            case Answered(Outcome.Done d) -> throw new IllegalStateException("unreachable: Done is not a setback");
            case Threw t -> ownFailure(t.where() + " threw " + t.problem(), Duration.ZERO, counts, policies, random);
            case StoreFailed s -> wait(policies.storeBackoff().delay(s.consecutive(), random),
                    "ledger " + s.operation() + " failed (" + s.consecutive() + " in a row): " + s.problem(), policies);
            case ClaimedElsewhere c -> claimedElsewhere(c.remaining(), policies);
            case Malformed m -> new Settle(Disposition.deadLetter("malformed: " + m.reason()), false);
        };
    }

    private static Decision ownFailure(String reason, Duration requested, Counts counts, Policies policies,
                                       RandomGenerator random) {
        var retry = policies.retry();
        if (!retry.allowsAnotherAttempt(counts.failures())) {
            return new Settle(Disposition.deadLetter("failed " + counts.failures() + " time(s), the retry policy allows "
                    + retry.maxAttempts() + "; last failure: " + reason), false);
        }
        var delay = retry.delayAfter(counts.failures(), requested, random);
        return delay.compareTo(policies.holdLimit()) <= 0
                ? new Hold(delay, reason)
                : new Settle(Disposition.redeliver(atMostLongest(delay)), false);
    }

    /**
     * The longest a message is put back for: SQS's longest visibility (12 hours). A longer wait asked for (a year, "for
     * ever") held a Kafka record's key, and its partition's commits, for that long: the message never came back to be
     * tried again or dead-lettered. Back after this, it is asked again (a retry counted, a throttle excused).
     */
    public static final Duration LONGEST_REDELIVERY = Duration.ofHours(12);

    private static Duration atMostLongest(Duration delay) {
        return delay.compareTo(LONGEST_REDELIVERY) > 0 ? LONGEST_REDELIVERY : delay;
    }

    /**
     * A claim held elsewhere that ends within the hold limit is asked about again after
     * {@link #CLAIM_RECHECK} at most, not only when its lease runs out: the holder usually finishes
     * (or fails and lets go) in milliseconds, and a duplicate should not wait a whole lease to be
     * dropped, nor a released event to be handled. A longer claim sends the message back until it ends.
     * Never sooner than {@link #CLAIM_RECHECK_MIN}: a ledger whose clock runs behind ours would
     * otherwise be asked again and again without a pause.
     */
    private static Decision claimedElsewhere(Duration remaining, Policies policies) {
        var left = remaining.compareTo(CLAIM_RECHECK_MIN) < 0 ? CLAIM_RECHECK_MIN : remaining;
        var decision = wait(left, "claimed by another worker", policies);
        return decision instanceof Hold && left.compareTo(CLAIM_RECHECK) > 0
                ? new Hold(CLAIM_RECHECK, "claimed by another worker") : decision;
    }

    /**
     * A throttle's wait, {@link #spread}: one whose asked wait fits the hold limit is held, its spread riding
     * past the limit by a tenth at most (a 429's Retry-After of exactly the limit, the HTTP sink's default, was
     * otherwise put back on the queue, a receive spent each time — and capped at the limit, it was not spread).
     */
    private static Decision throttled(Duration delay, Policies policies, RandomGenerator random) {
        var spread = spread(delay, random);
        return delay.compareTo(policies.holdLimit()) <= 0 ? new Hold(spread, "throttled") : wait(spread, "throttled", policies);
    }

    /**
     * The longest a message may wait in hand under {@code holdLimit}: a throttle's spread rides past the
     * limit by a tenth of it, a minute at most ({@link #throttled}). What a liveness check must outlast.
     */
    public static Duration longestHold(Duration holdLimit) {
        var tenth = holdLimit.dividedBy(10);
        return holdLimit.plus(tenth.compareTo(MOST_SPREAD) > 0 ? MOST_SPREAD : tenth);
    }

    /** The most a throttle's wait is {@link #spread}: a tenth of it, and no more than this. */
    static final Duration MOST_SPREAD = Duration.ofMinutes(1);
    private static final Duration FOR_EVER = Duration.ofDays(365L * 1000);

    /**
     * {@code delay} and up to a tenth more (at most {@link #MOST_SPREAD}), never less: messages throttled
     * by one storm, here and on the other instances it hit, would otherwise all come back in the same
     * millisecond and meet the next 429 together. Not spread without a {@code random}.
     */
    static Duration spread(Duration delay, RandomGenerator random) {
        if (random == null || delay.compareTo(FOR_EVER) > 0) {
            return delay; // a throttle of centuries: spread, it would overflow
        }
        long tenth = delay.compareTo(MOST_SPREAD.multipliedBy(10)) >= 0 ? MOST_SPREAD.toMillis() : delay.toMillis() / 10;
        return tenth <= 0 ? delay : delay.plusMillis(random.nextLong(tenth + 1));
    }

    /** A wait that is not the message's fault: in hand when short enough, else back on the transport, excused. */
    private static Decision wait(Duration delay, String reason, Policies policies) {
        return delay.compareTo(policies.holdLimit()) <= 0
                ? new Hold(delay, reason)
                : new Settle(Disposition.redeliver(atMostLongest(delay)), true);
    }
}
