package dev.ferry.adapters.sqs;

import java.time.Duration;
import java.util.function.Consumer;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;

/**
 * How long an SQS call may take, on each call of a listener's path (receive, delete, lease extension,
 * send, dead-letter copy) — also on a client built elsewhere and given to a source or sink. Without a bound, a connection that went silent (a middlebox that
 * dropped it, a proxy that accepts and never answers) held a call for the socket timeout on each of
 * the SDK's attempts: minutes of no lease extended, every message in hand handed out again.
 */
final class SqsTimeouts {

    /**
     * What a client {@link SqsClients} builds bounds every call by, those of its user included: an attempt
     * outlasts SQS's longest long poll (20 s), and stays under the socket timeout (40 s).
     */
    static final Duration CLIENT_ATTEMPT = Duration.ofSeconds(30);
    static final Duration CLIENT_CALL = Duration.ofMinutes(2);

    /** One attempt of a call that does not wait (a delete, a send, a lookup); the SDK tries again on a new connection. */
    static final Duration ATTEMPT = Duration.ofSeconds(10);
    /** One call, its attempts together. */
    static final Duration CALL = Duration.ofSeconds(30);
    /** One attempt of a lease extension: a silent connection must leave room for a second within the 15 s a lease has left. */
    static final Duration EXTENSION_ATTEMPT = Duration.ofSeconds(5);
    static final Duration EXTENSION_CALL = Duration.ofSeconds(15);
    /**
     * How long the sink waits for a publish's answer: queued behind its senders, then each {@code SendMessageBatch}
     * call ({@link #CALL}) tried again while SQS does not answer. Past it the event waits the outage out.
     */
    static final Duration SINK_PUBLISH = Duration.ofMinutes(2);

    private SqsTimeouts() {
    }

    /** For calls that answer at once. */
    static final Consumer<AwsRequestOverrideConfiguration.Builder> CALLS = o -> o.apiCallAttemptTimeout(ATTEMPT).apiCallTimeout(CALL);
    /** For lease extensions, and other visibility changes. */
    static final Consumer<AwsRequestOverrideConfiguration.Builder> EXTENSIONS =
            o -> o.apiCallAttemptTimeout(EXTENSION_ATTEMPT).apiCallTimeout(EXTENSION_CALL);

    /**
     * For a lease extension that must be over by {@code deadline} (nanoTime), its other waves and retries included: what
     * is left of it, {@link #EXTENSION_CALL} at most (a millisecond when nothing is: the call fails at once).
     */
    static Consumer<AwsRequestOverrideConfiguration.Builder> extensionsUntil(long deadline) {
        var left = Duration.ofNanos(Math.max(1_000_000, Math.min(deadline - System.nanoTime(), EXTENSION_CALL.toNanos())));
        var attempt = left.compareTo(EXTENSION_ATTEMPT) < 0 ? left : EXTENSION_ATTEMPT;
        return o -> o.apiCallAttemptTimeout(attempt).apiCallTimeout(left);
    }

    /** For a long poll of {@code waitSeconds}: the wait and 10 s more per attempt, two attempts' worth in all. */
    static Consumer<AwsRequestOverrideConfiguration.Builder> receive(int waitSeconds) {
        var attempt = ATTEMPT.plusSeconds(waitSeconds);
        return o -> o.apiCallAttemptTimeout(attempt).apiCallTimeout(attempt.multipliedBy(2));
    }
}
