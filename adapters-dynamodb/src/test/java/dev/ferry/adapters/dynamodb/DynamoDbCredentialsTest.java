package dev.ferry.adapters.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.spi.AdapterContext;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The ledger's credentials follow where its table is, not where the run's queues are: with an embedded SQS server (the
 * run's credentials "local") a table in AWS itself was asked with fixed fake credentials, and the start failed with
 * "the security token is invalid" (a review).
 */
class DynamoDbCredentialsTest {

    /** A run whose queues are on a server of this machine (an embedded SQS), nothing else set. */
    private static final AdapterContext EMBEDDED_SQS = new AdapterContext() {
        @Override
        public String awsRegion() {
            return "us-east-1";
        }

        @Override
        public Optional<URI> awsEndpoint() {
            // as the app's run context gives it: the embedded server's address is the run's aws endpoint (a review: with
            // it, the fix below never held in the app — a table in AWS was asked with the fake credentials still)
            return Optional.of(URI.create("http://127.0.0.1:9324"));
        }

        @Override
        public boolean localCredentials() {
            return true;
        }

        @Override
        public boolean provision() {
            return false;
        }

        @Override
        public int maxReceives() {
            return 5;
        }

        @Override
        public <T> T shared(String key, Class<T> type, Supplier<T> create) {
            return create.get();
        }
    };

    @Test
    void aTableInAws_isAskedWithTheDefaultCredentials_whereverTheQueuesAre() {
        try (var client = DynamoDbModule.client(EMBEDDED_SQS, null, Duration.ofSeconds(1))) {
            assertThat(client.serviceClientConfiguration().credentialsProvider())
                    .isNotInstanceOf(StaticCredentialsProvider.class);
        }
        try (var local = DynamoDbModule.client(EMBEDDED_SQS, "http://127.0.0.1:8000", Duration.ofSeconds(1))) {
            assertThat(local.serviceClientConfiguration().credentialsProvider()).as("a DynamoDB on this machine")
                    .isInstanceOf(StaticCredentialsProvider.class);
        }
        try (var compose = DynamoDbModule.client(EMBEDDED_SQS, "http://dynamodb:8000", Duration.ofSeconds(1))) {
            assertThat(compose.serviceClientConfiguration().credentialsProvider())
                    .as("a DynamoDB Local named in a compose file, the run's credentials local: as before")
                    .isInstanceOf(StaticCredentialsProvider.class);
        }
    }
}
