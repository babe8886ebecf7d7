package dev.ferry.benchmarks;

import com.amazonaws.services.dynamodbv2.local.embedded.DynamoDBEmbedded;
import com.amazonaws.services.dynamodbv2.local.shared.access.AmazonDynamoDBLocal;
import dev.ferry.adapters.dynamodb.DynamoDbLedger;
import dev.ferry.adapters.mvstore.MvStoreLedger;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.InMemoryLedger;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One operation = one event's ledger traffic: claim a new key, then complete it. For each ledger:
 * in memory (the baseline), MVStore on local disk (a completion is written before it returns), and
 * DynamoDB Local embedded in this JVM (its engine, without the network; a real table adds a network
 * round trip per call). 4 threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Threads(4)
public class LedgerBenchmark {

    @Param({"memory", "mvstore", "dynamodb"})
    public String ledger;

    private IdempotencyLedger subject;
    private AutoCloseable resource;
    private Path dir;
    private final AtomicLong keys = new AtomicLong();

    @Setup(Level.Trial)
    public void open() throws IOException {
        switch (ledger) {
            case "memory" -> subject = InMemoryLedger.create();
            case "mvstore" -> {
                dir = Files.createTempDirectory("ferry-ledger-bench");
                var store = MvStoreLedger.open(dir.resolve("ledger.db"));
                subject = store;
                resource = store;
            }
            case "dynamodb" -> {
                // the SQLite natives the build copied beside benchmarks.jar
                try {
                    var jar = Path.of(LedgerBenchmark.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                    System.setProperty("sqlite4java.library.path", jar.resolveSibling("native").toString());
                } catch (java.net.URISyntaxException e) {
                    throw new IllegalStateException(e);
                }
                AmazonDynamoDBLocal local = DynamoDBEmbedded.create();
                var client = local.dynamoDbClient();
                DynamoDbLedger.createTable(client, "bench", DynamoDbLedger.Names.defaults());
                subject = DynamoDbLedger.of(client, "bench");
                resource = local::shutdown;
            }
            default -> throw new IllegalArgumentException("unknown ledger " + ledger);
        }
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        if (resource != null) {
            resource.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Benchmark
    public boolean claimAndComplete() {
        String key = "doc-" + keys.incrementAndGet() + "#0";
        var claim = (Claim.Acquired) subject.claim(key, Duration.ofSeconds(30));
        return subject.complete(key, claim.token(), Duration.ofHours(1));
    }
}
