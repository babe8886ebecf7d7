package dev.ferry.benchmarks;

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import dev.ferry.adapters.dynamodb.DynamoDbLedger;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * How many messages per second one Ferry instance sustains with the DynamoDB ledger when every
 * DynamoDB call takes {@code delayMs} longer (5 ms by default). Not JMH: one drain per setting.
 *
 * <p>DynamoDB Local runs as a real HTTP server in this JVM on a free port of 127.0.0.1, and the
 * ledger reaches it through the SDK's Apache client, whose interceptor sleeps {@code delayMs} before
 * every HTTP attempt. The 5 ms model the network round trip to the real service, which loopback
 * lacks; DynamoDB Local's own work comes on top of it (the line before the table says how long one
 * call takes in all). Each message costs the ledger two calls: a claim and a completion.
 *
 * <p>The engine is the real one: an {@link InMemoryQueue} filled with {@code messages} messages
 * (distinct ids, a small body), one poller, batches of {@value #BATCH}, a no-op handler, and
 * {@code concurrency} workers with room in hand for a batch plus two messages per worker. Each
 * setting is drained three ways in the same run: with the DynamoDB ledger, with
 * {@link InMemoryLedger}, and without a ledger (the baseline of the ratio). Each drain is preceded
 * by a short warm-up drain at the same setting. The clock starts when the listener starts and stops
 * when the queue confirmed the ack of the last message (the acknowledger wrapped to count
 * settlements the queue carried out).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.ferry.benchmarks.DynamoDbLedgerThroughput 20000 5 16 64 128
 * </pre>
 * Arguments: messages per drain (20000), delay per DynamoDB call in ms (5), then one or more
 * concurrencies (16). {@code --enable-native-access=ALL-UNNAMED} silences the JDK's warning about
 * DynamoDB Local's SQLite natives; they are loaded from {@code native} beside the jar.
 * Prints {@code ledger  concurrency  msg/s  ratio-to-no-ledger}.
 */
public final class DynamoDbLedgerThroughput {

    private static final int BATCH = 100;
    private static final int WARMUP_MESSAGES = 2_000;
    private static final Duration LIMIT = Duration.ofSeconds(300);
    private static final String TABLE = "ferry-throughput";
    private static final String NO_LEDGER = "none";
    /** Makes every drain's queue name, and so every message id and ledger key, new to the shared table. */
    private static final AtomicInteger DRAINS = new AtomicInteger();

    private DynamoDbLedgerThroughput() {
    }

    /** A way to run the listener: its ledger for one drain, or null for none. */
    private record Variant(String name, Supplier<IdempotencyLedger> ledger) {
    }

    public static void main(String[] args) throws Exception {
        // one logging context for the whole JVM, so that quieting DynamoDB Local below reaches its loggers too
        System.setProperty("log4j2.contextSelector", "org.apache.logging.log4j.core.selector.BasicContextSelector");
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        long delayMs = args.length > 1 ? Long.parseLong(args[1]) : 5;
        var concurrencies = new ArrayList<Integer>();
        for (int i = 2; i < args.length; i++) {
            concurrencies.add(Integer.parseInt(args[i]));
        }
        if (concurrencies.isEmpty()) {
            concurrencies.add(16);
        }
        Logger.getLogger("").setLevel(Level.WARNING);
        useNativesBesideJar();
        int connections = Math.max(200, 2 * concurrencies.stream().mapToInt(Integer::intValue).max().orElse(16));
        try (var dynamo = LocalDynamo.start(delayMs, connections);
             var dynamoLedger = DynamoDbLedger.of(dynamo.client(), TABLE)) {
            // DynamoDB Local logs every request at INFO (it sets its logging up as it starts, so this comes
            // after): that would be most of what this program measures
            org.apache.logging.log4j.core.config.Configurator.setAllLevels(org.apache.logging.log4j.LogManager.ROOT_LOGGER_NAME,
                    org.apache.logging.log4j.Level.WARN);
            DynamoDbLedger.createTable(dynamo.client(), TABLE, DynamoDbLedger.Names.defaults());
            System.out.printf("%d messages per drain, %d ms added per DynamoDB call; one call takes %.1f ms in all%n",
                    messages, delayMs, meanCallMillis(dynamo.client()));
            var variants = List.of(
                    new Variant(NO_LEDGER, () -> null),
                    new Variant("memory", InMemoryLedger::create),
                    // the same round trip without DynamoDB Local's own engine, which caps the figures here:
                    // completions recorded on the worker in turn, then off it (completionWaits)
                    new Variant("latent-on-worker", () -> new LatentLedger(delayMs, false)),
                    new Variant("latent-deferred", () -> new LatentLedger(delayMs, true)),
                    new Variant("dynamodb", () -> dynamoLedger));
            System.out.printf("%-16s %11s %10s %18s%n", "ledger", "concurrency", "msg/s", "ratio-to-no-ledger");
            for (int concurrency : concurrencies) {
                double baseline = 0;
                for (var variant : variants) {
                    drain(variant, Math.min(WARMUP_MESSAGES, messages), concurrency);
                    double rate = drain(variant, messages, concurrency);
                    if (variant.name().equals(NO_LEDGER)) {
                        baseline = rate;
                    }
                    System.out.printf("%-16s %11d %10.0f %18.2f%n", variant.name(), concurrency, rate, rate / baseline);
                }
            }
        }
    }

    /** Points sqlite4java at the natives the build copied beside benchmarks.jar (target/native), as LedgerBenchmark does. */
    private static void useNativesBesideJar() {
        try {
            var jar = Path.of(DynamoDbLedgerThroughput.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            System.setProperty("sqlite4java.library.path", jar.resolveSibling("native").toString());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The time one DynamoDB call takes through the client, delay included: what each ledger call costs here. */
    private static double meanCallMillis(DynamoDbClient client) {
        var key = Map.of(DynamoDbLedger.Names.defaults().key(), AttributeValue.fromS("probe"));
        int calls = 50;
        for (int i = 0; i < 10; i++) {
            client.getItem(b -> b.tableName(TABLE).key(key).consistentRead(true));
        }
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            client.getItem(b -> b.tableName(TABLE).key(key).consistentRead(true));
        }
        return (System.nanoTime() - start) / 1e6 / calls;
    }

    /**
     * Drains {@code messages} fresh messages with the variant's ledger at {@code concurrency};
     * returns messages per second, from listener start to the queue's confirmation of the last ack.
     */
    private static double drain(Variant variant, int messages, int concurrency) throws InterruptedException {
        var queue = filledQueue(variant.name() + "-" + DRAINS.incrementAndGet(), messages);
        var acked = new CountDownLatch(messages);
        var handled = new LongAdder();
        var builder = Listener.builder(queue, new ConfirmedAcks(queue, acked),
                        d -> Decoded.of(List.of(Event.of(d.id(), "bench", d.body()))),
                        (event, delivery) -> {
                            handled.increment();
                            return Outcome.done();
                        })
                .config(config(concurrency));
        var ledger = variant.ledger().get();
        if (ledger != null) {
            builder.ledger(ledger);
        }
        var listener = builder.build();
        long start = System.nanoTime();
        listener.start();
        try {
            if (!acked.await(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("ledger " + variant.name() + " at concurrency " + concurrency
                        + " drained only " + (messages - acked.getCount()) + " of " + messages + " in "
                        + LIMIT.toSeconds() + " s: " + listener.stats().line());
            }
            double rate = messages / ((System.nanoTime() - start) / 1e9);
            // every key is new: a handler that did not run means the ledger took a message for a duplicate
            if (handled.sum() < messages) {
                throw new IllegalStateException("ledger " + variant.name() + " let the handler run for only "
                        + handled.sum() + " of " + messages + " new messages: " + listener.stats().line());
            }
            return rate;
        } finally {
            listener.stop();
            queue.close();
        }
    }

    private static ListenerConfig config(int concurrency) {
        return ListenerConfig.builder()
                .pollers(1)
                .batchSize(BATCH)
                // a batch in hand on top of two per worker: the workers never wait for the poller
                .maxInFlight(BATCH + 2 * concurrency)
                .concurrency(concurrency)
                .pollWait(Duration.ofMillis(5))
                .lease(Duration.ofMinutes(5))
                .build();
    }

    private static InMemoryQueue filledQueue(String name, int messages) {
        var queue = InMemoryQueue.standard(name);
        for (int i = 0; i < messages; i++) {
            queue.send(new InMemoryQueue.Message(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8),
                    Map.of(), null, null, null));
        }
        return queue;
    }

    /**
     * An in-memory ledger whose every call takes {@code millis} longer, as one across a network would:
     * what the engine makes of a ledger's round trip, without a server's own limits.
     */
    private static final class LatentLedger implements IdempotencyLedger {
        private final IdempotencyLedger inner = InMemoryLedger.create();
        private final long millis;
        private final boolean completionWaits;

        LatentLedger(long millis, boolean completionWaits) {
            this.millis = millis;
            this.completionWaits = completionWaits;
        }

        private void roundTrip() {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public boolean completionWaits() {
            return completionWaits;
        }

        @Override
        public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
            roundTrip();
            return inner.claim(key, lease);
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            roundTrip();
            return inner.complete(key, token, ttl);
        }

        @Override
        public boolean release(String key, long token) {
            roundTrip();
            return inner.release(key, token);
        }

        @Override
        public boolean extend(String key, long token, Duration lease) {
            roundTrip();
            return inner.extend(key, token, lease);
        }
    }

    /** Sleeps before every HTTP attempt: the network round trip to the real service, which loopback lacks. */
    private record NetworkDelay(long millis) implements ExecutionInterceptor {
        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes executionAttributes) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** DynamoDB Local as a real HTTP server in this JVM, and a client to it with the delay. */
    private record LocalDynamo(DynamoDBProxyServer server, DynamoDbClient client) implements AutoCloseable {

        static LocalDynamo start(long delayMs, int maxConnections) throws Exception {
            int port = freePort();
            var server = ServerRunner.createServerFromCommandLineArgs(
                    new String[] {"-inMemory", "-port", String.valueOf(port), "-disableTelemetry"});
            server.start();
            try {
                return new LocalDynamo(server, newClient(port, delayMs, maxConnections));
            } catch (RuntimeException e) {
                server.stop();
                throw e;
            }
        }

        private static int freePort() throws IOException {
            try (var probe = new ServerSocket(0)) {
                return probe.getLocalPort();
            }
        }

        private static DynamoDbClient newClient(int port, long delayMs, int maxConnections) {
            return DynamoDbClient.builder()
                    .endpointOverride(URI.create("http://127.0.0.1:" + port))
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
                    .httpClientBuilder(Apache5HttpClient.builder()
                            .maxConnections(maxConnections)
                            .connectionTimeout(Duration.ofSeconds(5))
                            .socketTimeout(Duration.ofSeconds(30)))
                    .overrideConfiguration(o -> o.addExecutionInterceptor(new NetworkDelay(delayMs)))
                    .build();
        }

        @Override
        public void close() {
            try {
                client.close();
            } finally {
                stopServer();
            }
        }

        private void stopServer() {
            try {
                server.stop();
            } catch (Exception e) {
                throw new IllegalStateException("DynamoDB Local did not stop: " + e.getMessage(), e);
            }
        }
    }
}
