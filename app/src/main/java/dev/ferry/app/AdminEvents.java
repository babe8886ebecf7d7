package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /events?key=K[&source=S]} or {@code GET /events?message-id=ID[&source=S]}: what
 * happened to an event (JSON, a list: one entry per source where it is known). Read-only; from
 * another host it needs the admin token ({@link AdminAccess}). What {@code ferry events show} asks
 * a running Ferry.
 */
final class AdminEvents implements HttpHandler {

    /** Query parameters that may be given bare, meaning true. */
    private static final Set<String> FLAGS = Set.of("force", "skip-head");

    private final EventActions actions;
    private final byte[] token;

    AdminEvents(EventActions actions, String token) {
        this.actions = actions;
        this.token = AdminAccess.bytes(token);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals("/events") || !exchange.getRequestMethod().equals("GET")) {
                answer(exchange, 404, Map.of("error", "not found: GET /events?key=K or ?message-id=ID"));
                return;
            }
            if (AdminAccess.refusesRead(exchange, token)) {
                return;
            }
            Map<String, String> query;
            try {
                query = query(exchange.getRequestURI().getRawQuery(), Set.of("key", "message-id", "source"));
            } catch (IllegalArgumentException e) {
                answer(exchange, 400, Map.of("error", "a malformed query: " + e.getMessage()));
                return;
            }
            String key = query.get("key");
            String messageId = query.get("message-id");
            if ((key == null) == (messageId == null)) {
                answer(exchange, 400, Map.of("error", "give one of key=K or message-id=ID"));
                return;
            }
            try {
                var found = key != null ? actions.byKey(query.get("source"), key) : actions.byMessage(query.get("source"), messageId);
                answer(exchange, 200, found.stream().map(EventActions::json).toList());
            } catch (IllegalArgumentException e) {
                answer(exchange, 400, Map.of("error", Thrown.message(e)));
            } catch (RuntimeException e) {
                answer(exchange, 502, Map.of("error", "the ledger did not answer: " + Thrown.message(e)));
            }
        }
    }

    /**
     * The query's parameters, each one of {@code known}. A flag ({@code force}, {@code skip-head}) given bare is true; a
     * parameter not known, any other given bare, or one given twice with two values, is refused: {@code limit=10} for
     * {@code max=10} redrove the whole queue, {@code ?group} read as the group "true", and {@code group=A&group=B}
     * released A unsaid.
     */
    static Map<String, String> query(String raw, Set<String> known) {
        var out = new HashMap<String, String>();
        if (raw == null) {
            return out;
        }
        for (var pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue; // "a=1&&b=2", or a trailing '&'
            }
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (!known.contains(key)) {
                throw new IllegalArgumentException("'" + Printable.of(key) + "' is not a parameter here; known: "
                        + String.join(", ", new java.util.TreeSet<>(known)));
            }
            if (eq < 0 && !FLAGS.contains(key)) {
                throw new IllegalArgumentException("'" + Printable.of(key) + "' needs a value: " + Printable.of(key) + "=...");
            }
            String value = eq < 0 ? "true" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            String earlier = out.putIfAbsent(key, value);
            if (earlier != null && !earlier.equals(value)) {
                throw new IllegalArgumentException("'" + Printable.of(key) + "' is given twice, as '" + Printable.of(earlier)
                        + "' and '" + Printable.of(value) + "': give it once");
            }
        }
        return out;
    }

    static void answer(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = (Json.write(body) + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
