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
 */
final class CallBounds {

    /** A call's bound, its attempts half of it: the app's default {@code timeout}. */
    static final Duration CALL = DynamoDbModule.DEFAULT_TIMEOUT;

    private CallBounds() {
    }

    static Consumer<AwsRequestOverrideConfiguration.Builder> of(DynamoDbClient client) {
        boolean own;
        try {
            own = client.serviceClientConfiguration().overrideConfiguration().apiCallTimeout().isPresent();
        } catch (RuntimeException e) { // a client that cannot say (a test double): bounded here
            own = false;
        }
        return own ? o -> { } : o -> o.apiCallTimeout(CALL).apiCallAttemptTimeout(CALL.dividedBy(2));
    }
}
