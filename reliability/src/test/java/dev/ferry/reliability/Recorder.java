package dev.ferry.reliability;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The sink of every scenario: an HTTP API on 127.0.0.1 that records each event it accepts (its
 * Idempotency-Key, group and sequence number) in arrival order, and misbehaves on request:
 * refuses connections, answers 429, is slow or never answers for chosen keys, fails a poison key.
 */
final class Recorder implements AutoCloseable {

    private static final Pattern FIELD = Pattern.compile("\"(id|group|seq)\"\\s*:\\s*\"?([^\",}]*)\"?");

    /** One accepted request: an effect at the sink. */
    record Effect(String key, String group, int seq, long atNanos) {
    }

    /** NORMAL records; THROTTLE answers 429; REDIRECT answers 301 elsewhere; HANG accepts and never answers. */
    enum Mode { NORMAL, THROTTLE, REDIRECT, HANG }

    private final int port;
    private final List<Effect> effects = new ArrayList<>();
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger sameKeyAtOnce = new AtomicInteger();
    private final AtomicInteger throttled = new AtomicInteger();
    private final AtomicInteger misled = new AtomicInteger();
    final Map<String, Long> slowKeys = new ConcurrentHashMap<>();
    final Set<String> hangOnceKeys = ConcurrentHashMap.newKeySet();
    final Set<String> poisonKeys = ConcurrentHashMap.newKeySet();
    final Set<String> arrivedKeys = ConcurrentHashMap.newKeySet();
    volatile Mode mode = Mode.NORMAL;
    private volatile HttpServer server;

    Recorder() {
        server = bind(0);
        port = server.getAddress().getPort();
    }

    private HttpServer bind(int onPort) {
        try {
            var s = HttpServer.create(new InetSocketAddress("127.0.0.1", onPort), 256);
            s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            s.createContext("/effects", this::handle);
            s.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String url() {
        return "http://127.0.0.1:" + port + "/effects";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            var fields = new java.util.HashMap<String, String>();
            var m = FIELD.matcher(body);
            while (m.find()) {
                fields.putIfAbsent(m.group(1), m.group(2));
            }
            String id = fields.getOrDefault("id", key);
            arrivedKeys.add(id);
            if (mode == Mode.THROTTLE) {
                throttled.incrementAndGet();
                exchange.getResponseHeaders().set("Retry-After", "1");
                exchange.sendResponseHeaders(429, -1);
                return;
            }
            if (mode == Mode.REDIRECT) {
                misled.incrementAndGet();
                exchange.getResponseHeaders().set("Location", "http://127.0.0.1:" + port + "/moved?token=secret");
                exchange.sendResponseHeaders(301, -1);
                return;
            }
            if (mode == Mode.HANG) {
                misled.incrementAndGet();
                while (mode == Mode.HANG) {
                    sleep(50); // accepts the request and says nothing, past every timeout of the caller
                }
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            if (poisonKeys.contains(id)) {
                exchange.sendResponseHeaders(500, -1);
                return;
            }
            if (hangOnceKeys.remove(id)) {
                sleep(120_000); // never answers in time; the caller dies or gives up; nothing recorded
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            var running = inFlight.computeIfAbsent(id, k -> new AtomicInteger());
            if (running.incrementAndGet() > 1) {
                sameKeyAtOnce.incrementAndGet();
            }
            try {
                Long slow = slowKeys.get(id);
                if (slow != null) {
                    sleep(slow);
                }
                synchronized (effects) {
                    effects.add(new Effect(id, fields.get("group"), Integer.parseInt(fields.getOrDefault("seq", "-1")),
                            System.nanoTime()));
                }
            } finally {
                running.decrementAndGet();
            }
            exchange.sendResponseHeaders(200, -1);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Requests answered 301 or left hanging. */
    int misled() {
        return misled.get();
    }

    /** Stops listening: connections are refused until {@link #accept()}. */
    void refuse() {
        server.stop(0);
    }

    void accept() {
        server = bind(port);
    }

    List<Effect> effects() {
        synchronized (effects) {
            return List.copyOf(effects);
        }
    }

    /**
     * The history read back: the first effect of each key in arrival order, the requests beyond the
     * first (duplicated effects for a sink ignoring the Idempotency-Key), and the effects that arrived
     * before an earlier sequence number of their group (inversions).
     */
    record Tally(Map<String, Effect> first, int duplicates, int inversions) {
    }

    Tally tally() {
        var first = new java.util.LinkedHashMap<String, Effect>();
        int duplicates = 0;
        for (var e : effects()) {
            if (first.putIfAbsent(e.key(), e) != null) {
                duplicates++;
            }
        }
        int inversions = 0;
        var highest = new java.util.HashMap<String, Integer>();
        for (var e : first.values()) {
            int before = highest.getOrDefault(e.group(), 0);
            if (e.seq() < before) {
                inversions++;
            }
            highest.put(e.group(), Math.max(before, e.seq()));
        }
        return new Tally(first, duplicates, inversions);
    }

    int distinctKeys() {
        synchronized (effects) {
            return (int) effects.stream().map(Effect::key).distinct().count();
        }
    }

    /** How often a request for a key arrived while another for the same key was being handled. */
    int sameKeyAtOnce() {
        return sameKeyAtOnce.get();
    }

    int throttled() {
        return throttled.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
