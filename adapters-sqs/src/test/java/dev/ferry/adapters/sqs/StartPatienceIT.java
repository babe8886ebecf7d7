package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.spi.AdapterContext;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A run's SQS source or sink opening while SQS cannot be reached yet (a network or a proxy not up, an endpoint
 * restarting) failed the start — every route down until a restart. It is asked again for the run's patience; what
 * waiting does not mend fails at once, and a stop asked for ends the wait.
 */
@ExtendWith(ElasticMq.class)
class StartPatienceIT {

    private final Map<String, Object> shared = new ConcurrentHashMap<>();
    private final AtomicBoolean stopping = new AtomicBoolean();

    @AfterEach
    void closeShared() throws Exception {
        for (var client : shared.values()) {
            ((AutoCloseable) client).close();
        }
    }

    /** A run's context on {@code endpoint}, patient for a minute. */
    private AdapterContext run(URI endpoint) {
        return new AdapterContext() {
            @Override
            public String awsRegion() {
                return "us-east-1";
            }

            @Override
            public Optional<URI> awsEndpoint() {
                return Optional.of(endpoint);
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
            public Duration dependencyPatience() {
                return Duration.ofMinutes(1);
            }

            @Override
            public boolean stopping() {
                return stopping.get();
            }

            @Override
            public <T> T shared(String key, Class<T> type, Supplier<T> create) {
                return type.cast(shared.computeIfAbsent(key, k -> create.get()));
            }
        };
    }

    private static int freePort() throws Exception {
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void aSourceAndASinkOpenedWhileSqsCannotBeReached_openOnceItAnswers() throws Exception {
        String orders = ElasticMq.uniqueName("late-orders", false);
        String audit = ElasticMq.uniqueName("late-audit", false);
        ElasticMq.client().createQueue(b -> b.queueName(orders));
        ElasticMq.client().createQueue(b -> b.queueName(audit));
        try (var sqs = new dev.ferry.domain.testing.LateEndpoint(ElasticMq.endpoint().getPort())) {
            var context = run(URI.create(sqs.endpoint())); // nothing listens yet: refused
            var source = CompletableFuture.supplyAsync(() -> new SqsSourceConfig("orders", orders, Set.of(),
                    Duration.ofSeconds(1)).open(context));
            var sink = CompletableFuture.supplyAsync(() -> new SqsSinkConfig("audit", audit,
                    SqsSink.Deduplication.EVENT_KEY, null, Duration.ZERO, Duration.ofMinutes(2)).open(context));
            dev.ferry.domain.testing.Await.until(Duration.ofMillis(1500), () -> false); // SQS down a moment
            assertThat(source).as("still waiting for SQS").isNotDone();

            sqs.open();

            var opened = source.get(60, TimeUnit.SECONDS);
            assertThat(opened.source().name()).isEqualTo("orders");
            assertThat(((SqsSource) opened.source()).queueUrl()).endsWith("/" + orders);
            try (var openedSink = (SqsSink) sink.get(60, TimeUnit.SECONDS)) {
                assertThat(openedSink.name()).isEqualTo("audit");
            }
            ((SqsSource) opened.source()).close();
        }
    }

    @Test
    void aQueueThatDoesNotExist_failsTheOpenAtOnce_patienceOrNot() {
        var context = run(ElasticMq.endpoint());
        assertThatThrownBy(() -> new SqsSourceConfig("orders", "never-made", Set.of(), Duration.ofSeconds(1)).open(context))
                .hasMessageContaining("does not exist")
                .satisfies(e -> assertThat(StartPatience.passing(e)).as("not a passing failure: not waited out").isFalse());
    }

    @Test
    void aStopAskedForWhileWaiting_endsTheWait() throws Exception {
        var context = run(URI.create("http://127.0.0.1:" + freePort()));
        var source = CompletableFuture.supplyAsync(() -> new SqsSourceConfig("orders", "late-orders", Set.of(),
                Duration.ofSeconds(1)).open(context));
        dev.ferry.domain.testing.Await.until(Duration.ofMillis(500), () -> false);

        stopping.set(true);

        assertThatThrownBy(() -> source.get(20, TimeUnit.SECONDS)).as("ended well inside its minute of patience")
                .isInstanceOf(ExecutionException.class)
                .satisfies(e -> assertThat(StartPatience.passing(e.getCause())).as("SQS not reached: given up").isTrue());
    }
}
