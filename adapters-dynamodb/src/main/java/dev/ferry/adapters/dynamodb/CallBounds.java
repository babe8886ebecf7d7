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
 * <p>A claim's extension is bounded by half the lease it asks for too ({@link #extending}).
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
     * The bounds of an extension that asks for {@code lease}: a call's, or half the lease when that is less (at least
     * {@link #LEAST_EXTENSION}). The keeper extends a claim with about half its lease left (extend-every is half the
     * lease by default): a call of 10 s on a silent connection answered after the claim ran out, another instance
     * claimed the key meanwhile, and ran the event beside its handler. Bounded, it fails while the claim still holds,
     * and the keeper asks again at its next round. As the SQS adapter bounds its visibility extension. One attempt
     * has the whole bound: cut at half of it, a far region's new connection (TCP, TLS, the call: some hundreds of ms)
     * failed on each attempt, and every extension with it. A lease shorter than twice {@link #LEAST_EXTENSION} is no
     * claim's (the app's least is 2 s) but the readiness probe's extension of a key nobody holds: it keeps the call's
     * bound, or a slow but healthy ledger was never found answering again.
     */
    Consumer<AwsRequestOverrideConfiguration.Builder> extending(Duration lease) {
        Duration bound = lease.dividedBy(2);
        if (bound.compareTo(LEAST_EXTENSION) < 0 || bound.compareTo(call) >= 0) {
            return this;
        }
        return o -> o.apiCallTimeout(bound).apiCallAttemptTimeout(bound);
    }
}
