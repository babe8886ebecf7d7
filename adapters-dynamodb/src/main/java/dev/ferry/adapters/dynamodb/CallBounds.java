package dev.ferry.adapters.dynamodb;

import java.time.Duration;
import java.util.function.Consumer;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The bounds of each ledger call on a client that has none of its own. An embedder's {@code DynamoDbClient.create()}
 * waits for an answer as long as its HTTP client's read timeout on every attempt, minutes in all: a claim extension
 * held there on a silent connection let the claim lapse, and a copy of the event ran beside its handler. A client
 * built with a call timeout (the app's, from {@code timeout:}) keeps its own.
 *
 * <p>A claim's extension is bounded by a quarter of the lease it asks for too ({@link #extending(Duration)}), and by
 * the time within which its answer is of use, when the listener gives it ({@link #extending(Duration, Duration)}).
 */
final class CallBounds implements Consumer<AwsRequestOverrideConfiguration.Builder> {

    /** A call's bound, its attempts half of it: the app's default {@code timeout}. */
    static final Duration CALL = DynamoDbModule.DEFAULT_TIMEOUT;

    /**
     * The least bound an extension is given by its lease: a healthy call on a new connection (TLS, signing, a region
     * far off) takes some hundreds of ms, and a bound that fails those fails every extension for sure, while a longer
     * one only may outlast a claim on a silent connection. A lease of 2 s (the app's least) has it; one shorter keeps
     * the call's bound.
     */
    static final Duration LEAST_EXTENSION = Duration.ofSeconds(1);

    /**
     * The least time an extension is given by the claim's end ({@link #extending(Duration, Duration)}): less than a
     * round trip fails the call for sure, and the claim is then asked again at the keeper's next round, later still.
     * The end the listener counts is its own guess, on the safe side (from the send of the ask that confirmed it, while
     * DynamoDB's lease runs from its write): a call that answers within 200 ms may still keep the claim, or says it is
     * lost.
     */
    static final Duration LEAST_ANSWER = Duration.ofMillis(200);

    /** A call's bound on this client: its own, or {@link #CALL}. */
    private final Duration call;
    private final boolean own;

    private CallBounds(Duration call, boolean own) {
        this.call = call;
        this.own = own;
    }

    static CallBounds of(DynamoDbClient client) {
        Duration own;
        try {
            own = client.serviceClientConfiguration().overrideConfiguration().apiCallTimeout().orElse(null);
        } catch (RuntimeException e) { // a client that cannot say (a test double): bounded here
            own = null;
        }
        return own != null ? new CallBounds(own, true) : new CallBounds(CALL, false);
    }

    @Override
    public void accept(AwsRequestOverrideConfiguration.Builder o) {
        if (!own) {
            o.apiCallTimeout(CALL).apiCallAttemptTimeout(CALL.dividedBy(2));
        }
    }

    /**
     * The bounds of an extension that asks for {@code lease}: a call's, or a quarter of the lease when that is less (at
     * least {@link #LEAST_EXTENSION}). The keeper extends a claim with at most half its lease left (extend-every is half
     * the lease by default, and a round may come a tick late): a call of 10 s on a silent connection answered after the
     * claim ran out, another instance claimed the key meanwhile, and ran the event beside its handler. Bounded at half
     * the lease it failed as the claim ran out, and the keeper's next ask found it gone; at a quarter it fails while the
     * claim holds, and the next round's ask, on another connection, keeps it. As the SQS adapter bounds its visibility
     * extension. One attempt has the whole bound: cut at half of it, a far region's new connection (TCP, TLS, the call:
     * some hundreds of ms) failed on each attempt, and every extension with it. A lease shorter than twice
     * {@link #LEAST_EXTENSION} is no claim's (the app's least is 2 s) but the readiness probe's extension of a key
     * nobody holds: it keeps the call's bound, or a slow but healthy ledger was never found answering again.
     */
    Consumer<AwsRequestOverrideConfiguration.Builder> extending(Duration lease) {
        return extending(lease, null);
    }

    /**
     * The bounds of an extension that asks for {@code lease}, its answer of use within {@code answerWithin} (half of
     * what is left of the claim as last confirmed; null when not given): the smaller of that ({@link #answerTime}) and
     * {@link #extending(Duration)}'s. A quarter of the lease alone was not enough: asked
     * again after a failure, for what is left of the transport's lease (more than is left of the claim), a call on a
     * silent connection failed after the claim ended, the next ask was refused, and the claim was lost. A lease under
     * twice {@link #LEAST_EXTENSION} gets no bound of its own, as there, but {@code answerWithin} bounds it all the
     * same: the readiness probe gives none, and a claim asked again for the little left of its lease is near its end.
     */
    Consumer<AwsRequestOverrideConfiguration.Builder> extending(Duration lease, Duration answerWithin) {
        Duration byLease = null; // the call's
        if (lease.compareTo(LEAST_EXTENSION.multipliedBy(2)) >= 0) {
            Duration quarter = lease.dividedBy(4);
            byLease = quarter.compareTo(LEAST_EXTENSION) < 0 ? LEAST_EXTENSION : quarter;
        }
        Duration within = answerWithin == null ? null : answerTime(answerWithin);
        Duration bound = within == null || byLease != null && byLease.compareTo(within) <= 0 ? byLease : within;
        if (bound == null || bound.compareTo(call) >= 0) {
            return this;
        }
        return o -> o.apiCallTimeout(bound).apiCallAttemptTimeout(bound);
    }

    /**
     * The time an extension is given by the claim's end, {@code half} of what is left of it: that, or all that is left
     * up to {@link #LEAST_EXTENSION}, and at least {@link #LEAST_ANSWER}. Half alone failed every extension of a short
     * lease on a slow but healthy DynamoDB (a far region's new connection, up to a second): 375-500 ms at a lease of
     * 2 s, and the claim ran out under its handler — a call that may still keep the claim is worth more there than one
     * that fails in time to be asked again, and fails the same.
     */
    static Duration answerTime(Duration half) {
        Duration left = half.multipliedBy(2);
        Duration time = half.compareTo(LEAST_EXTENSION) >= 0 ? half
                : left.compareTo(LEAST_EXTENSION) < 0 ? left : LEAST_EXTENSION;
        return time.compareTo(LEAST_ANSWER) < 0 ? LEAST_ANSWER : time;
    }
}
