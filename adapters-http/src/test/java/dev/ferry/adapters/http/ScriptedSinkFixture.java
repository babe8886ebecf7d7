package dev.ferry.adapters.http;

import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** HTTP sinks against a real HTTP server on 127.0.0.1 that answers from a script; each test's sinks closed after it. */
abstract class ScriptedSinkFixture {

    ScriptedServer server;
    /** Sinks closed after the test: {@link #sink} adds its own; a test that builds one itself adds it here. */
    final List<HttpSink> sinks = new ArrayList<>();

    @BeforeEach
    void startServer() throws IOException {
        server = new ScriptedServer();
    }

    @AfterEach
    void stopServer() {
        sinks.forEach(HttpSink::close);
        server.close();
    }

    /** The builder's sink, with three quick retries, closed after the test. */
    HttpSink sink(HttpSink.Builder builder) {
        var sink = builder.retries(3, Duration.ofMillis(10)).build();
        sinks.add(sink);
        return sink;
    }

    HttpSink.Builder to(String path) {
        return HttpSink.builder(server.uri(path).toString());
    }

    /** The server's scheme, host and port, as reasons print a URL. */
    String host() {
        return "http://127.0.0.1:" + server.uri("").getPort();
    }

    static Event event(String key) {
        return new Event(key, "AssignmentSubmitted", null, "HIT 1", ("{\"key\":\"" + key + "\"}").getBytes(StandardCharsets.UTF_8),
                Map.of("tenant", "acme/eu"));
    }
}
