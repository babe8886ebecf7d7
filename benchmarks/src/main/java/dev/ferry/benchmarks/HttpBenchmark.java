package dev.ferry.benchmarks;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.adapters.http.HttpSink;
import dev.ferry.adapters.http.HttpSource;
import dev.ferry.adapters.http.IngestAuth;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * HTTP on 127.0.0.1, both directions, each against its limit in the same run. One operation = one
 * event (one request). {@value #REQUESTS} requests per invocation from {@code clients} concurrent
 * callers sharing one keep-alive HTTP/1.1 client.
 *
 * <ul>
 *   <li>{@code ingestFerry} vs {@code ingestBareEcho}: a load client posting one MTurk event per
 *       request to Ferry's {@link HttpSource} with a listener and a no-op handler behind it (each
 *       answer waits for the event to be settled), or to a bare JDK {@code HttpServer} handler that
 *       reads the body and answers 200.</li>
 *   <li>{@code sinkFerry} vs {@code sinkBareClient}: {@link HttpSink#publish} from concurrent
 *       callers, or the same callers doing a bare {@code HttpClient.send}, against one JDK server
 *       answering 204.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 5)
@Measurement(iterations = 6, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@OperationsPerInvocation(HttpBenchmark.REQUESTS)
public class HttpBenchmark {

    static final int REQUESTS = 2_000;

    @Param({"16"})
    public int clients;

    private byte[] body;
    private HttpClient client;
    private HttpServer echo;
    private HttpServer target;
    private HttpSource source;
    private Listener listener;
    private HttpSink sink;
    private URI echoUri;
    private URI targetUri;
    private final LongAdder handled = new LongAdder();
    private final LongAdder retried = new LongAdder();

    @Setup(Level.Trial)
    public void start() throws IOException {
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        body = Payloads.load("mturk-one");
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        echo = server(200, "{\"results\":[{\"index\":0,\"status\":\"done\"}]}");
        echoUri = URI.create("http://127.0.0.1:" + echo.getAddress().getPort() + "/events");
        target = server(204, "");
        targetUri = URI.create("http://127.0.0.1:" + target.getAddress().getPort() + "/hook");

        source = HttpSource.builder().auth(IngestAuth.none()).capacity(4 * REQUESTS).build().start();
        listener = Listener.builder(source, source, d -> Decoded.of(List.of(Event.of(d.id(), "bench", d.body()))),
                        (event, delivery) -> {
                            handled.increment();
                            return Outcome.done();
                        })
                .config(ListenerConfig.builder().pollers(2).batchSize(50).maxInFlight(400).concurrency(16)
                        .pollWait(Duration.ofMillis(100)).lease(Duration.ofSeconds(30)).build())
                .build().start();
        sink = HttpSink.builder(targetUri.toString()).version(HttpClient.Version.HTTP_1_1).maxConcurrent(256).build();
    }

    private static HttpServer server(int status, String answer) throws IOException {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        server.createContext("/", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
                if (bytes.length > 0) {
                    ex.getResponseBody().write(bytes);
                }
            }
        });
        server.start();
        return server;
    }

    @TearDown(Level.Trial)
    public void stop() {
        System.out.println("calls retried after an I/O error on a reused connection: " + retried.sum());
        listener.stop();
        source.close();
        sink.close();
        echo.stop(0);
        target.stop(0);
        client.close();
    }

    /** Runs {@link #REQUESTS} calls spread over {@code clients} virtual threads; fails on any unexpected answer. */
    private void load(Call call) throws InterruptedException {
        var next = new AtomicInteger();
        var failures = new AtomicInteger();
        var threads = new ArrayList<Thread>(clients);
        for (int c = 0; c < clients; c++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (next.getAndIncrement() < REQUESTS) {
                    try {
                        if (!call.run()) {
                            failures.incrementAndGet();
                        }
                    } catch (java.io.IOException e) {
                        // a keep-alive connection the server closed just as it was reused: what any client retries
                        retried.increment();
                        try {
                            if (!call.run()) {
                                failures.incrementAndGet();
                            }
                        } catch (Exception again) {
                            failures.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                }
            }));
        }
        for (var t : threads) {
            t.join();
        }
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " of " + REQUESTS + " calls failed");
        }
    }

    @FunctionalInterface
    private interface Call {
        boolean run() throws Exception;
    }

    private boolean post(URI uri) throws Exception {
        var response = client.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
        return response.statusCode() / 100 == 2;
    }

    @Benchmark
    public void ingestFerry() throws InterruptedException {
        load(() -> post(source.uri()));
    }

    @Benchmark
    public void ingestBareEcho() throws InterruptedException {
        load(() -> post(echoUri));
    }

    @Benchmark
    public void sinkFerry() throws InterruptedException {
        var event = new Event("doc-1#0", "AssignmentSubmitted", null, "HIT-1", body, Map.of());
        load(() -> sink.publish(event) instanceof Outcome.Done);
    }

    /** The bare loop with the per-request timeout the sink sets: what the timeout alone costs. */
    @Benchmark
    public void sinkBareClientWithTimeout() throws InterruptedException {
        load(() -> client.send(HttpRequest.newBuilder(targetUri).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode() / 100 == 2);
    }

    @Benchmark
    public void sinkBareClient() throws InterruptedException {
        load(() -> client.send(HttpRequest.newBuilder(targetUri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode() / 100 == 2);
    }
}
