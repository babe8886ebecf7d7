package dev.ferry.adapters.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** What an extension is given to answer in, by its lease and by what is left of its claim. */
class CallBoundsTest {

    private final DynamoDbClient client = DynamoDbClient.builder() // no call timeout of its own: the bounds are ours
            .endpointOverride(URI.create("http://127.0.0.1:1"))
            .region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
            .build();
    private final CallBounds bounds = CallBounds.of(client);

    @AfterEach
    void close() {
        client.close();
    }

    private Duration bound(Duration lease, Duration answerWithin) {
        var o = AwsRequestOverrideConfiguration.builder();
        bounds.extending(lease, answerWithin).accept(o);
        return o.build().apiCallTimeout().orElseThrow();
    }

    @Test // a review: half of what is left of a short lease's claim (375-500 ms at a lease of 2 s) failed every
          // extension of a slow but healthy DynamoDB (a far region's new connection), and the claim ran out under its handler
    void aClaimNearItsEnd_isGivenAllThatIsLeftOfIt_upToASecond() {
        assertThat(bound(Duration.ofSeconds(2), Duration.ofMillis(450))).as("0.9 s left: all of it")
                .isEqualTo(Duration.ofMillis(900));
        assertThat(bound(Duration.ofSeconds(20), Duration.ofMillis(700))).as("1.4 s left: a second of it")
                .isEqualTo(Duration.ofSeconds(1));
        assertThat(bound(Duration.ofSeconds(20), Duration.ofMillis(1_500))).as("3 s left: half of it")
                .isEqualTo(Duration.ofMillis(1_500));
        assertThat(bound(Duration.ofSeconds(20), Duration.ofMillis(40))).as("less than a round trip: not less than that")
                .isEqualTo(CallBounds.LEAST_ANSWER);
    }

    @Test
    void anExtension_isGivenAQuarterOfItsLease_whenThatIsLess() {
        assertThat(bound(Duration.ofSeconds(10), Duration.ofSeconds(4))).isEqualTo(Duration.ofMillis(2_500));
        assertThat(bound(Duration.ofSeconds(10), null)).isEqualTo(Duration.ofMillis(2_500));
        assertThat(bound(Duration.ofSeconds(3), null)).as("a second at least").isEqualTo(Duration.ofSeconds(1));
        assertThat(bound(Duration.ofMinutes(5), null)).as("the call's, when less").isEqualTo(CallBounds.CALL);
        assertThat(bound(Duration.ofMillis(1), null)).as("the readiness probe's: the call's").isEqualTo(CallBounds.CALL);
    }
}
