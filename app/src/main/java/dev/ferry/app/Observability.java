package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.listener.ListenerStats;
import dev.ferry.domain.model.Event;
import dev.ferry.micrometer.FerryMetrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metrics (Micrometer, scraped at {@code /metrics} in the Prometheus format) and health (JSON, per
 * component: see {@link Health}) on the admin address and on the metrics address. Per source: received, acked, redelivered, released, dead-lettered,
 * duplicates, throttled, failures, in flight, lease extensions and the handler latency histogram;
 * per sink: publish latency by outcome.
 */
final class Observability implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Observability.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics jvmGc = new JvmGcMetrics();

    /** The servers' request threads, each request read within a deadline. */
    private final AdminRequests requests;

    Observability() {
        this(AdminRequests.TIMEOUT);
    }

    /** With {@code requestTimeout} for a client to send a whole request (shorter in tests). */
    Observability(java.time.Duration requestTimeout) {
        this.requests = new AdminRequests(requestTimeout);
        // the JVM and the process: memory, GC, threads, classes, CPU, uptime, open files
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        jvmGc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }
    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private volatile boolean ready;
    private volatile Health health;
    private volatile AdminGroups groups;
    private volatile AdminEvents events;
    private volatile AdminConsole console;
    private volatile AdminRedrive redrive;

    MeterRegistry registry() {
        return registry;
    }

    /** The health report the endpoints answer with; set before {@link #serve}. */
    void health(Health health) {
        this.health = health;
    }

    /** The parked-group endpoints ({@code /groups}) served beside health; set before {@link #serve}. */
    void groups(AdminGroups groups) {
        this.groups = groups;
    }

    /** The operator console ({@code /console}) served beside health; set before {@link #serve}. */
    void console(AdminConsole console) {
        this.console = console;
    }

    /** The console's redrive endpoint ({@code POST /queues/redrive}); set before {@link #serve}. */
    void redrive(AdminRedrive redrive) {
        this.redrive = redrive;
    }

    /** The event-lookup endpoint ({@code /events}) served beside health; set before {@link #serve}. */
    void events(AdminEvents events) {
        this.events = events;
    }

    /**
     * Serves {@code /metrics} and the health endpoints ({@code /health}, {@code /health/live},
     * {@code /health/ready}, JSON) on {@code address}, and with {@code admin} the admin endpoints too
     * (console, events, groups, redrive: never on a metrics address of its own, which is often opened
     * wider than the admin one for a scraper); returns the port (a free one for port 0).
     */
    int serve(FerryConfig.Address address, boolean admin) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(address.host(), address.port()), 16);
        } catch (IOException e) {
            // the metrics server alone said "set admin.listen", a key that did not move it
            throw new UncheckedIOException("cannot listen on " + address + " for health and metrics: " + e.getMessage()
                    + (admin ? " (set admin.listen, or admin: {listen: off}; unset, it is FERRY_ADMIN_LISTEN, else "
                    + "metrics.listen, else 127.0.0.1:9465)" : " (set metrics.listen, or leave metrics out)"), e);
        }
        server.setExecutor(requests.executor());
        serve(server, "/metrics", exchange -> answer(exchange, 200,
                "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        serve(server, "/health/live", exchange -> answer(exchange, health.live()));
        serve(server, "/health/ready", exchange -> answer(exchange, health.ready()));
        serve(server, "/health", exchange -> {
            if (!exchange.getRequestURI().getPath().equals("/health")) {
                answer(exchange, 404, "text/plain", "not found\n");
                return;
            }
            answer(exchange, health.ready());
        });
        if (admin) {
            serve(server, "/groups", groups);
            serve(server, "/events", events);
            serve(server, "/console", console);
            serve(server, "/queues", redrive);
        }
        server.start();
        servers.add(server);
        return server.getAddress().getPort();
    }

    /**
     * Serves {@code handler} at {@code path}; whatever it throws (an {@code Error} too) is logged and
     * answered with 500 where the answer has not begun, and the exchange is closed: the JDK's server
     * would leave the connection open.
     */
    private void serve(HttpServer server, String path, HttpHandler handler) {
        if (handler == null) {
            return;
        }
        server.createContext(path, exchange -> {
            try {
                requests.read(exchange);
                handler.handle(HeadExchange.isHead(exchange) ? new HeadExchange(exchange, requests) : exchange);
                requests.answered();
            } catch (IOException e) {
                // the client went, was late, or sent too much: thrown on, the JDK's server closes the connection and
                // forgets it (closed here, it stayed in the server's books until it stopped)
                LOG.debug("{} {}: {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e.toString());
                throw e;
            } catch (Throwable e) { // a plugin's exception whose text throws too: the log reads it, and the 500 was never sent
                LOG.warn("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), Thrown.loggable(e));
                try (exchange) {
                    if (exchange.getResponseCode() == -1) {
                        byte[] bytes = ("{\"error\": \"the request failed: see the log\"}\n").getBytes(StandardCharsets.UTF_8);
                        exchange.getResponseHeaders().set("Content-Type", "application/json");
                        exchange.sendResponseHeaders(500, bytes.length);
                        exchange.getResponseBody().write(bytes);
                    }
                } catch (IOException closing) { // thrown on: the JDK's server closes the connection and forgets it
                    LOG.debug("could not answer the failed request", closing);
                    throw closing;
                } catch (RuntimeException closing) {
                    LOG.debug("could not answer the failed request", closing);
                }
            }
        });
    }

    private static void answer(HttpExchange exchange, Health.Answer answer) throws IOException {
        answer(exchange, answer.status(), "application/json", answer.json() + "\n");
    }

    private static void answer(HttpExchange exchange, int status, String type, String body) throws IOException {
        try (exchange) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
        }
    }

    /** Ready once every listener started; not ready from the moment stopping begins. */
    void ready(boolean ready) {
        this.ready = ready;
    }

    boolean ready() {
        return ready;
    }

    /**
     * The source's metrics ({@link FerryMetrics}): its observer goes on the listener's builder, then
     * {@link #watch} binds its counters.
     */
    FerryMetrics metrics(String source) {
        return new FerryMetrics(source);
    }

    /** Binds {@code metrics} to the listener it observes. */
    void watch(FerryMetrics metrics, Listener listener) {
        metrics.watch(listener).bindTo(registry);
    }

    /**
     * {@code ferry_kafka_consumer_lag_records{source}}: records behind the partitions' ends, as the consumer last saw;
     * NaN while it is not known (before the first poll, while a dead consumer is replaced): read as 0, an outage of any
     * length showed no lag, and no lag alert fired.
     */
    void kafkaLag(String source, java.util.function.LongSupplier lag) {
        Gauge.builder("ferry.kafka.consumer.lag", lag, l -> {
            long records = l.getAsLong();
            return records < 0 ? Double.NaN : records;
        }).baseUnit("records")
                .description("records behind the end of the assigned partitions, as of the consumer's last poll")
                .tag("source", source).strongReference(true).register(registry); // held weakly, a lambda read NaN after a GC
    }

    /**
     * {@code ferry_sqs_refused_total{source,reason}}: messages an SQS source dead-lettered on arrival, unseen by its
     * listener — from a sender not allowed ({@code sender}), or whose body disagreed with its MD5 on every receive tried
     * ({@code md5}, counted per damaged receive): a flood of them showed in no metric while the DLQ filled. And
     * {@code ferry_sqs_unsettled_total{source}}: those of them (and a refused FIFO head's later ones, held back) whose
     * dead letter or release failed — counted only in {@code SqsSource.stats()} before.
     */
    void sqsRefused(String source, dev.ferry.adapters.sqs.SqsSource sqs) {
        String what = "receives refused on arrival, unseen by the listener (sender: dead-lettered; md5: released to be "
                + "received again, dead-lettered the third time)";
        io.micrometer.core.instrument.FunctionCounter.builder("ferry.sqs.refused", sqs, s -> s.stats().foreignSenders())
                .description(what).tag("source", source).tag("reason", "sender").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("ferry.sqs.refused", sqs, s -> s.stats().md5Mismatches())
                .description(what).tag("source", source).tag("reason", "md5").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("ferry.sqs.unsettled", sqs, s -> s.stats().refusedUnsettled())
                .description("messages refused or held back on arrival whose dead letter or release SQS did not take; "
                        + "each comes back when its visibility runs out").tag("source", source).register(registry);
    }

    /**
     * {@code ferry_http_refused_total{source,status}}: requests an HTTP source refused before its listener saw them
     * (credentials, signatures, bodies, paths, too many at once): a producer refused every request — a token rotated on
     * one side only — showed in no metric while the source stood ready and quiet.
     */
    void httpRefused(String source, dev.ferry.adapters.http.HttpSource http) {
        var refusals = http.refusals();
        for (int status : dev.ferry.adapters.http.HttpRefusals.STATUSES) {
            io.micrometer.core.instrument.FunctionCounter.builder("ferry.http.refused", refusals, r -> r.refused(status))
                    .description("requests refused before the listener saw them, by HTTP status").tag("source", source)
                    .tag("status", String.valueOf(status)).register(registry);
        }
    }

    /**
     * {@code ferry_ledger_clock_skew_seconds}: how far the shared ledger's clock (DynamoDB's) was ahead of this
     * instance's at its last check (negative: behind); NaN before the first. Claims are timed by each
     * instance's own clock: alert on its absolute value nearing a lease's margin.
     */
    void ledgerClockSkew(java.util.function.Supplier<java.time.Duration> skew) {
        Gauge.builder("ferry.ledger.clock.skew", skew, s -> {
                    var d = s.get();
                    return d == null ? Double.NaN : d.toMillis() / 1000.0;
                }).baseUnit("seconds")
                .description("the shared ledger's clock less this instance's at the last check, to within a second")
                .strongReference(true).register(registry);
    }

    /**
     * {@code ferry_sink_breaker_open{sink}}: 1 while the sink holds calls back (an open breaker), else 0; NaN when
     * its check throws (what the registry reads then too, but it logs the exception, and one whose text throws made
     * every scrape fail).
     */
    void watch(dev.ferry.domain.transport.Sink sink) {
        Gauge.builder("ferry.sink.breaker.open", sink, s -> breakerOpen(s))
                .description("1 while the sink holds calls back (an open circuit breaker)").tag("sink", sink.name())
                .register(registry);
    }

    private static double breakerOpen(dev.ferry.domain.transport.Sink sink) {
        try {
            return sink.holdingBack().isPresent() ? 1 : 0;
        } catch (Throwable t) { // Health reports it, on the sink's own component
            return Double.NaN;
        }
    }

    @Override
    public void close() {
        ready = false;
        servers.forEach(server -> server.stop(0));
        requests.close();
        jvmGc.close();
        servers.clear();
        registry.close();
    }
}
