package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on 127.0.0.1 (the JDK's) that answers each path from a script, one scripted
 * response per request (the last one repeats), and records what it was sent.
 */
final class ScriptedServer implements AutoCloseable {

    record Response(int status, Map<String, String> headers, String body, long delayMillis) {
        static Response of(int status) {
            return new Response(status, Map.of(), "", 0);
        }

        static Response of(int status, String body) {
            return new Response(status, Map.of(), body, 0);
        }

        Response header(String name, String value) {
            var h = new java.util.HashMap<>(headers);
            h.put(name, value);
            return new Response(status, h, body, delayMillis);
        }

        Response delay(long millis) {
            return new Response(status, headers, body, millis);
        }
    }

    record Received(String method, String path, Map<String, List<String>> headers, String body) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().getFirst()).findFirst().orElse(null);
        }
    }

    private final HttpServer server;
    private final Map<String, ConcurrentLinkedQueue<Response>> scripts = new ConcurrentHashMap<>();
    private final Map<String, Response> last = new ConcurrentHashMap<>();
    final List<Received> received = new CopyOnWriteArrayList<>();
    final AtomicInteger concurrent = new AtomicInteger();
    final AtomicInteger maxConcurrent = new AtomicInteger();

    ScriptedServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::answer);
        server.start();
    }

    ScriptedServer script(String path, Response... responses) {
        var queue = new ConcurrentLinkedQueue<>(List.of(responses));
        scripts.put(path, queue);
        last.put(path, responses[responses.length - 1]);
        return this;
    }

    /**
     * Answers {@code path} with {@code handler} instead of a script: for an answer that depends on the requests
     * still open. Its requests are not recorded.
     */
    ScriptedServer handle(String path, com.sun.net.httpserver.HttpHandler handler) {
        server.createContext(path, handler);
        return this;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    long count(String path) {
        return received.stream().filter(r -> r.path().equals(path)).count();
    }

    private void answer(HttpExchange ex) throws IOException {
        int now = concurrent.incrementAndGet();
        maxConcurrent.accumulateAndGet(now, Math::max);
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(new Received(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders()), body));
            var queue = scripts.get(path);
            Response r = queue == null ? Response.of(404) : queue.poll();
            if (r == null) {
                r = last.get(path);
            }
            if (r.delayMillis() > 0) {
                try {
                    Thread.sleep(r.delayMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            r.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            byte[] bytes = r.body().getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(r.status(), bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                ex.getResponseBody().write(bytes);
            }
        } finally {
            concurrent.decrementAndGet();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
