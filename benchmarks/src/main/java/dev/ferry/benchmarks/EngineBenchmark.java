package dev.ferry.benchmarks;

import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.routing.EventMatcher;
import dev.ferry.domain.routing.Route;
import dev.ferry.domain.routing.Router;
import dev.ferry.domain.routing.RoutingHandler;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Sink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole engine over the in-memory queue — MTurk decode, ledger claim + complete, ordering
 * groups (100 HITs), routing to a no-op sink, batched acks — against a bare single-threaded loop
 * (poll, decode, no-op, ack) over the same queue, in the same run. One operation = one message.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OperationsPerInvocation(EngineBenchmark.MESSAGES)
public class EngineBenchmark {

    static final int MESSAGES = 50_000;
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @Param({"100"})
    public int batch;

    /** {@code true}: the whole engine; {@code false}: without the ledger (to see what the ledger costs). */
    @Param({"true"})
    public boolean ledger;

    /**
     * {@code true}: one ledger for the whole run, filled to its bound (a million completed keys) before
     * the first invocation, each invocation's keys new to it (a scope of their own) — the steady state
     * of a long-running process, every claim evicting the oldest completion. {@code false}: a new,
     * empty ledger per invocation.
     */
    @Param({"false"})
    public boolean fullLedger;

    private InMemoryLedger kept;
    private int invocation;

    /** Threads polling and decoding; the workers ({@link #concurrency}) claim, order, route and settle. */
    @Param({"1"})
    public int pollers;

    /** Items run at once (the workers). The bare loop is one thread whatever this says. */
    @Param({"2"})
    public int concurrency;

    /**
     * {@code mturk}: the MTurk decoder, as a listener runs it. {@code predecoded}: each body's events
     * decoded once before the run and looked up by the body — a diagnostic, to see what the engine does
     * when decoding costs its poller next to nothing (the bare loop looks them up the same way).
     */
    @Param({"mturk"})
    public String decoding;

    private byte[][] bodies;
    private InMemoryQueue queue;
    private Decoder decoder;
    private final LongAdder published = new LongAdder();

    @Setup(Level.Trial)
    public void bodies() {
        var template = new String(Payloads.load("mturk-one"), StandardCharsets.UTF_8);
        bodies = new byte[MESSAGES][];
        for (int i = 0; i < MESSAGES; i++) {
            bodies[i] = template.replace("7b4ea5dc-6b13-4dc2-b4d0-a4a6ac5d1e1f", "doc-" + i)
                    .replace("3HYV4299H0WQ0000EXAMPLE", "HIT-" + (i % 100)).getBytes(StandardCharsets.UTF_8);
        }
        decoder = Codecs.mturk(JsonLimits.defaults());
        if ("predecoded".equals(decoding)) {
            var mturk = decoder;
            var decoded = new java.util.IdentityHashMap<byte[], Decoded>(MESSAGES * 2);
            for (var body : bodies) {
                decoded.put(body, mturk.decode(new dev.ferry.domain.model.Delivery("setup", body, Map.of(), 1,
                        java.time.Instant.EPOCH, null, null, "bench", null)));
            }
            decoder = delivery -> decoded.get(delivery.body());
        } else if (!"mturk".equals(decoding)) {
            throw new IllegalArgumentException("decoding is mturk or predecoded, was " + decoding);
        }
        if (fullLedger) {
            kept = InMemoryLedger.create();
            for (int i = 0; i < 1_000_000; i++) {
                var key = "earlier-" + i;
                if (kept.claim(key, Duration.ofMinutes(5)) instanceof dev.ferry.domain.idempotency.Claim.Acquired a) {
                    kept.complete(key, a.token(), Duration.ofHours(24));
                }
            }
        }
    }

    @Setup(Level.Invocation)
    public void fill() {
        queue = InMemoryQueue.standard("bench");
        for (var body : bodies) {
            queue.send(new InMemoryQueue.Message(body, Map.of(), null, null, null));
        }
    }

    private final Sink noop = new Sink() {
        @Override
        public String name() {
            return "noop";
        }

        @Override
        public Outcome publish(Event event) {
            published.increment();
            return Outcome.done();
        }
    };

    @Benchmark
    public long engine() throws InterruptedException {
        var handler = RoutingHandler.of(Router.of(Route.of("all", EventMatcher.any(), "noop")), Map.of("noop", noop));
        var config = ListenerConfig.builder()
                .batchSize(batch)
                .maxInFlight(batch * 20)
                .concurrency(concurrency)
                .pollers(pollers)
                .pollWait(Duration.ofMillis(5))
                .lease(Duration.ofMinutes(5))
                .build();
        var builder = Listener.builder(queue, queue, decoder, handler).config(config);
        if (ledger && fullLedger) {
            builder.ledger(kept).ledgerScope("invocation-" + invocation++);
        } else if (ledger) {
            builder.ledger(InMemoryLedger.create());
        }
        var listener = builder.build().start();
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (queue.size() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("engine did not drain the queue: " + listener.stats().line());
            }
            Thread.sleep(1);
        }
        return listener.stop().stats().acked();
    }

    @Benchmark
    public long bareLoop() {
        long done = 0;
        var request = new PollRequest(batch, Duration.ZERO, Duration.ofMinutes(5));
        var acks = new ArrayList<Settlement>(batch);
        while (done < MESSAGES) {
            var got = queue.poll(request);
            for (var d : got) {
                if (decoder.decode(d) instanceof Decoded.Events e) {
                    for (var event : e.events()) {
                        noop.publish(event);
                    }
                }
                acks.add(new Settlement(d, Disposition.ACK));
            }
            queue.settle(acks);
            acks.clear();
            done += got.size();
        }
        return done;
    }
}
