package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.listener.ListenerStats;
import dev.ferry.domain.model.Event;
import io.micrometer.core.instrument.FunctionCounter;
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
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * Metrics (Micrometer, scraped at {@code /metrics} in the Prometheus format) and health (JSON, per
 * component: see {@link Health}) on the admin address and on the metrics address. Per source: received, acked, redelivered, released, dead-lettered,
 * duplicates, throttled, failures, in flight, lease extensions and the handler latency histogram;
 * per sink: publish latency by outcome.
 */
final class Observability implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private volatile boolean ready;
    private volatile Health health;

    MeterRegistry registry() {
        return registry;
    }

    /** The health report the endpoints answer with; set before {@link #serve}. */
    void health(Health health) {
        this.health = health;
    }

    /**
     * Serves {@code /metrics} and the health endpoints ({@code /health}, {@code /health/live},
     * {@code /health/ready}, JSON) on {@code address}; returns the port (a free one for port 0).
     */
    int serve(FerryConfig.Address address) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(address.host(), address.port()), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address + " for health and metrics: " + e.getMessage()
                    + " (set admin.listen, or admin: {listen: off})", e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/metrics", exchange -> answer(exchange, 200,
                "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        server.createContext("/health/live", exchange -> answer(exchange, health.live()));
        server.createContext("/health/ready", exchange -> answer(exchange, health.ready()));
        server.createContext("/health", exchange -> {
            if (!exchange.getRequestURI().getPath().equals("/health")) {
                answer(exchange, 404, "text/plain", "not found\n");
                return;
            }
            answer(exchange, health.ready());
        });
        server.start();
        servers.add(server);
        return server.getAddress().getPort();
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

    /** The listener's counters as meters tagged with its source's name. */
    void watch(Listener listener, String source) {
        counter(listener, source, "ferry.received", "messages received", ListenerStats::received);
        counter(listener, source, "ferry.acked", "messages acknowledged (deleted)", ListenerStats::acked);
        counter(listener, source, "ferry.redelivered", "messages put back with a delay", ListenerStats::redelivered);
        counter(listener, source, "ferry.released", "messages put back at once", ListenerStats::released);
        counter(listener, source, "ferry.dead.lettered", "messages dead-lettered", ListenerStats::deadLettered);
        counter(listener, source, "ferry.duplicates", "events the ledger had completed already", ListenerStats::duplicatesDropped);
        counter(listener, source, "ferry.throttled", "Throttled outcomes", ListenerStats::throttled);
        counter(listener, source, "ferry.failures", "Retry outcomes and handler exceptions", ListenerStats::failures);
        counter(listener, source, "ferry.decode.failures", "messages that could not be decoded", ListenerStats::decodeFailures);
        counter(listener, source, "ferry.fenced", "completions refused because the claim had expired", ListenerStats::fenced);
        counter(listener, source, "ferry.ledger.failures", "ledger calls that failed (messages waited in hand)",
                ListenerStats::ledgerFailures);
        counter(listener, source, "ferry.held", "times a message waited in hand to be tried again", ListenerStats::held);
        counter(listener, source, "ferry.stale.dropped", "copies whose lease ran out while waiting, dropped unhandled",
                ListenerStats::staleDropped);
        counter(listener, source, "ferry.lease.extensions", "lease (visibility) extensions", ListenerStats::leaseExtensions);
        counter(listener, source, "ferry.settle.failures", "settlements the transport refused (e.g. a stale receipt)",
                ListenerStats::settleFailures);
        Gauge.builder("ferry.in.flight", listener, l -> l.stats().inFlight()).description("messages received, not yet settled")
                .tag("source", source).register(registry);
    }

    private void counter(Listener listener, String source, String name, String description, ToLongFunction<ListenerStats> read) {
        FunctionCounter.builder(name, listener, l -> read.applyAsLong(l.stats())).description(description)
                .tag("source", source).register(registry);
    }

    /** Times each handled event: {@code ferry_handler_seconds{source,outcome}}. */
    ListenerObserver handlerTimer(String source) {
        Timer done = handlerTimer(source, "done");
        Timer retry = handlerTimer(source, "retry");
        Timer throttled = handlerTimer(source, "throttled");
        Timer rejected = handlerTimer(source, "rejected");
        return new ListenerObserver() {
            @Override
            public void handled(Event event, Outcome outcome, long nanos) {
                (switch (outcome) {
                    case Outcome.Done d -> done;
                    case Outcome.Retry r -> retry;
                    case Outcome.Throttled t -> throttled;
                    case Outcome.Reject r -> rejected;
                }).record(nanos, TimeUnit.NANOSECONDS);
            }
        };
    }

    private Timer handlerTimer(String source, String outcome) {
        return Timer.builder("ferry.handler").description("time to handle one event (routing and every sink)")
                .tag("source", source).tag("outcome", outcome).publishPercentileHistogram().register(registry);
    }

    @Override
    public void close() {
        ready = false;
        servers.forEach(server -> server.stop(0));
        servers.clear();
        registry.close();
    }
}
