package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.transport.Sink;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The operator console on the admin address: {@code GET /console}, one server-rendered page with a
 * little script (no framework, no build step) that asks {@code GET /console/state} once a second —
 * per source its health and counters (the page turns them into rates), per sink its state and
 * outcomes, dead letters by reason class with the latest of each, parked groups with release
 * buttons (which need the admin token, as {@code POST /groups/release} does), the latest redrive
 * and its progress (started with the token through {@code POST /queues/redrive}) — and looks events
 * up through {@code GET /events}. Read-only itself: every action goes through the endpoints that
 * check the token.
 */
final class AdminConsole implements HttpHandler {

    private final Map<String, Listener> sources;
    private final Map<String, Sink> sinks;
    private final DeadLetterSamples deadLetters;
    private final GroupActions groups;
    private final String ledgerKind;
    private final MeterRegistry registry;
    private final AdminRedrive redrive;
    private final byte[] token;
    private final byte[] page;
    /** Per source, its events' age over the last minute (the timer's own mean is since the start). */
    private final Map<String, RecentMean> recentAge = new java.util.concurrent.ConcurrentHashMap<>();
    /** How long a listing of the parked groups is shown before the ledger is read again. */
    static final java.time.Duration GROUPS_EVERY = java.time.Duration.ofSeconds(3);
    /** The last listing of the parked groups (or why there is none) and when it was read (nanoTime). */
    /** The parked groups the console shows at most; it says how many there are in all. */
    static final int CONSOLE_GROUPS = 200;

    /** {@code releases}: {@link GroupActions#releases} as it was read (-1: read across a release, not kept). */
    private record GroupsRead(List<Object> groups, long total, String error, long at, long releases) {
    }

    private volatile GroupsRead groupsRead;
    private final java.util.concurrent.locks.ReentrantLock reading = new java.util.concurrent.locks.ReentrantLock();

    AdminConsole(Map<String, Listener> sources, Map<String, Sink> sinks, DeadLetterSamples deadLetters, GroupActions groups,
                 String ledgerKind, MeterRegistry registry, AdminRedrive redrive, String token) {
        this.token = AdminAccess.bytes(token);
        this.sources = sources;
        this.sinks = sinks;
        this.deadLetters = deadLetters;
        this.groups = groups;
        this.ledgerKind = ledgerKind;
        this.registry = registry;
        this.redrive = redrive;
        try (InputStream in = AdminConsole.class.getResourceAsStream("console/console.html")) {
            this.page = in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the console page is missing from the jar", e);
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!exchange.getRequestMethod().equals("GET")) {
                AdminEvents.answer(exchange, 405, Map.of("error", "the console only reads; actions go to their endpoints"));
            } else if (path.equals("/console") || path.equals("/console/")) {
                exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
                // the page runs no script but its own, and is not to be framed by another site
                exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; "
                        + "style-src 'unsafe-inline'; frame-ancestors 'none'");
                exchange.getResponseHeaders().set("X-Frame-Options", "DENY");
                exchange.sendResponseHeaders(200, page.length);
                exchange.getResponseBody().write(page);
            } else if (path.equals("/console/state")) {
                if (AdminAccess.refusesRead(exchange, token)) {
                    return;
                }
                Map<String, Object> state;
                try {
                    state = state();
                } catch (RuntimeException e) {
                    AdminEvents.answer(exchange, 500, Map.of("error", "the state could not be read: " + Thrown.message(e)));
                    return;
                }
                AdminEvents.answer(exchange, 200, state);
            } else {
                AdminEvents.answer(exchange, 404, Map.of("error", "not found"));
            }
        }
    }

    /**
     * The parked groups, read from the ledger at most every {@link #GROUPS_EVERY} (a failure too): each
     * open console polls once a second, and a listing of thousands of groups (consistent reads, on
     * DynamoDB) on every poll of every tab would take the ledger's capacity from the claims. One poll
     * reads at a time, outside any monitor; the others meanwhile get the last listing, so a ledger that
     * takes its full timeout to answer holds one request, not every one (nor, on JDK 21-23, the virtual
     * threads' carriers).
     */
    private GroupsRead parkedGroups() {
        var last = groupsRead;
        long now = System.nanoTime();
        long releases = groups.releases(); // a release since: read again (its group was shown parked, with its button)
        if (last != null && last.releases() == releases && now - last.at() < GROUPS_EVERY.toNanos()) {
            return last;
        }
        if (!reading.tryLock()) {
            return last != null ? last : new GroupsRead(List.of(), 0, "the parked groups are being read", now, -1);
        }
        try {
            GroupsRead read;
            try {
                var listing = groups.list(CONSOLE_GROUPS); // not every one of hundreds of thousands, every 3 s
                read = new GroupsRead(listing.groups().stream().map(g -> (Object) GroupActions.json(g)).toList(),
                        listing.total(), null, now, groups.releases() == releases ? releases : -1);
            } catch (RuntimeException e) { // the rest of the page is what an operator needs most while the ledger fails
                read = new GroupsRead(last != null ? last.groups() : List.of(), last != null ? last.total() : 0,
                        "the ledger could not list the parked groups: " + Thrown.message(e), System.nanoTime(), releases);
            }
            groupsRead = read;
            return read;
        } finally {
            reading.unlock();
        }
    }

    Map<String, Object> state() {
        var out = new LinkedHashMap<String, Object>();
        out.put("at", Instant.now().toEpochMilli());
        out.put("ledger", ledgerKind);
        var sourceList = new ArrayList<Map<String, Object>>();
        sources.forEach((name, listener) -> {
            var stats = listener.stats();
            var health = listener.health();
            var m = new LinkedHashMap<String, Object>();
            m.put("name", name);
            m.put("health", !listener.isRunning() ? "DOWN" : health.ready() ? "UP" : "DEGRADED");
            m.put("problems", health.problems());
            m.put("received", stats.received());
            m.put("acked", stats.acked());
            m.put("failures", stats.failures());
            m.put("throttled", stats.throttled());
            m.put("dead_lettered", stats.deadLettered());
            m.put("duplicates", stats.duplicatesDropped());
            m.put("in_flight", stats.inFlight());
            m.put("held", stats.held());
            m.put("last_receive", stats.lastReceive() == null ? null : stats.lastReceive().toString());
            var age = registry.find("ferry.event.age").tag("source", name).summary(); // in seconds
            m.put("event_age_mean_s", age == null ? null : recentAge.computeIfAbsent(name, n -> new RecentMean())
                    .of(age.count(), age.totalAmount()));
            m.put("event_age_max_s", age == null || age.count() == 0 ? null : age.max());
            var lag = registry.find("ferry.kafka.consumer.lag").tag("source", name).gauge();
            m.put("lag", lag == null || Double.isNaN(lag.value()) ? null : (long) lag.value()); // NaN: not known now
            sourceList.add(m);
        });
        out.put("sources", sourceList);
        var sinkList = new ArrayList<Map<String, Object>>();
        sinks.forEach((name, sink) -> {
            var m = new LinkedHashMap<String, Object>();
            m.put("name", name);
            String state;
            try {
                state = sink.holdingBack().map(why -> "holding back: " + why).orElse("flowing");
            } catch (Throwable e) { // its fault is its own, not the whole page's
                state = "its health check failed: " + Thrown.describe(e); // whose text may throw too
            }
            m.put("state", state);
            if (sink instanceof MeteredSink metered) {
                m.putAll(metered.snapshot());
            }
            sinkList.add(m);
        });
        out.put("sinks", sinkList);
        out.put("dead_letters", deadLetters.json());
        out.put("groups_supported", groups != null);
        List<Object> parked = List.of();
        long total = 0;
        if (groups != null) {
            var read = parkedGroups();
            parked = read.groups();
            total = Math.max(parked.size(), read.total());
            if (read.error() != null) {
                out.put("groups_error", read.error());
            }
        }
        out.put("groups", parked);
        out.put("groups_total", total);
        out.put("redrive_supported", redrive != null);
        out.put("redrive", redrive == null ? null : redrive.json());
        return out;
    }
}
