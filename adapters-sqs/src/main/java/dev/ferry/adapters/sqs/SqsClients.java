package dev.ferry.adapters.sqs;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Builds the SQS client Ferry's SQS parts expect: a connection pool sized for the pollers, the
 * sinks' senders and the settlers that share it (a settle sends up to 8 batch calls at once), socket timeouts longer than a 20 s long poll, and the SDK's own MD5
 * validation off because {@link SqsSource} checks every message itself (the SDK would fail a whole
 * receive for one damaged message). Credentials come from the default chain unless given.
 */
public final class SqsClients {

    private String region = "us-east-1";
    private URI endpoint;
    private AwsCredentialsProvider credentials;
    /** Connections beside the pollers': up to 8 batch calls each for settling and lease extensions, sinks, DLQ copies. */
    static final int DEFAULT_CONNECTIONS = 64;
    private int maxConnections = DEFAULT_CONNECTIONS;

    private SqsClients() {
    }

    public static SqsClients builder() {
        return new SqsClients();
    }

    /** A client on the app's AWS settings: its region, its endpoint, local credentials for a local server. */
    public static SqsClient forContext(dev.ferry.domain.spi.AdapterContext context) {
        // each poller holds a connection through its long poll: room for all of them, and the 64 beside them that
        // settling, lease extensions and sinks take (with the pool full of polls, extensions waited for a connection
        // until their leases ran out)
        var builder = builder().region(context.awsRegion()).maxConnections(connectionsFor(context));
        context.awsEndpoint().ifPresent(builder::endpoint);
        if (context.localCredentials()) {
            builder.staticCredentials("local", "local");
        }
        return builder.build();
    }

    /** The pool of a run's client: every poller's connection, and {@link #DEFAULT_CONNECTIONS} beside them. */
    static int connectionsFor(dev.ferry.domain.spi.AdapterContext context) {
        return DEFAULT_CONNECTIONS + Math.max(0, Math.min(context.pollersInRun(), 100_000));
    }

    /**
     * The one client every SQS source and sink of a run shares, made on first use. Making it sends
     * nothing, so an app can make it early (while an embedded server starts) and find it ready.
     */
    public static SqsClient shared(dev.ferry.domain.spi.AdapterContext context) {
        return context.shared("sqs-client", SqsClient.class, () -> forContext(context));
    }

    public SqsClients region(String region) {
        this.region = Objects.requireNonNull(region, "region");
        return this;
    }

    /** A non-AWS endpoint, e.g. {@code http://127.0.0.1:9324} for ElasticMQ. */
    public SqsClients endpoint(URI endpoint) {
        this.endpoint = endpoint;
        return this;
    }

    /** Fixed credentials (local servers accept any); the default credential chain otherwise. */
    public SqsClients staticCredentials(String accessKeyId, String secretAccessKey) {
        this.credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey));
        return this;
    }

    /** Connections in the pool: at least the pollers, the sink senders and 8 for settling (64 by default). */
    public SqsClients maxConnections(int connections) {
        if (connections < 1) {
            throw new IllegalArgumentException("maxConnections must be >= 1, was " + connections);
        }
        this.maxConnections = connections;
        return this;
    }

    public SqsClient build() {
        var http = Apache5HttpClient.builder()
                .maxConnections(maxConnections)
                .socketTimeout(Duration.ofSeconds(40))
                .connectionTimeout(Duration.ofSeconds(5));
        var builder = SqsClient.builder()
                .region(Region.of(region))
                .httpClientBuilder(http)
                .checksumValidationEnabled(false)
                // every call bounded, a long poll of 20 s included (a caller's own); Ferry's calls carry bounds of their kind
                .overrideConfiguration(c -> c.apiCallAttemptTimeout(SqsTimeouts.CLIENT_ATTEMPT)
                        .apiCallTimeout(SqsTimeouts.CLIENT_CALL))
                .credentialsProvider(credentials != null ? credentials : DefaultCredentialsProvider.builder().build());
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder.build();
    }
}
