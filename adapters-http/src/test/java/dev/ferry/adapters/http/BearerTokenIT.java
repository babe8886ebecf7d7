package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.adapters.http.ScriptedServer.Response;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.model.Event;
import dev.ferry.test.MapSettings;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens as secrets arrive — a trailing newline, a byte-order mark — on a sink and on the ingest endpoint. */
class BearerTokenIT {

    private final ScriptedServer server = new ScriptedServer();
    private final List<AutoCloseable> opened = new ArrayList<>();

    BearerTokenIT() throws java.io.IOException {
    }

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
        server.close();
    }

    private static Event event(String key) {
        return new Event(key, "Test", null, null, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private HttpSink sink(HttpSink.Builder builder) {
        var sink = builder.retries(1, Duration.ofMillis(10)).build();
        opened.add(sink);
        return sink;
    }

    @Test
    void aSinksTokenFile_withAByteOrderMarkAndANewline_sendsTheToken() throws Exception {
        // the JDK refused every request ("invalid header value"), quoting the token in the event's retry reason, the
        // dead-letter reason and the log; publish threw instead of answering
        server.script("/t", Response.of(204));
        var file = Files.writeString(Files.createTempFile("token", ""), "\uFEFFs3cr3t\n");
        try {
            var sink = sink(HttpSink.builder(server.uri("/t").toString()).bearerTokenFromFile(file));
            assertThat(sink.publish(event("e1"))).isEqualTo(Outcome.done());
            assertThat(server.received).extracting(r -> r.header("Authorization")).containsExactly("Bearer s3cr3t");
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void aSinksToken_withACharacterNoHeaderCarries_isRefusedAtBuild_withoutTheToken(@TempDir Path dir) throws Exception {
        var file = Files.writeString(dir.resolve("token"), "s3cr\u0007t-value");
        assertThatThrownBy(() -> HttpSink.builder(server.uri("/t").toString()).bearerTokenFromFile(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("position 5").hasMessageContaining("U+0007").hasMessageNotContaining("s3cr");
    }

    @Test
    void aTokenFileCaughtEmptyMidRotation_keepsTheTokenReadBefore_andAPublishDoesNotThrow(@TempDir Path dir) throws Exception {
        // a rotation that truncates then writes, caught between: publish threw "is empty" out of the sink
        server.script("/t", Response.of(204), Response.of(204), Response.of(204));
        var file = Files.writeString(dir.resolve("token"), "first");
        var sink = sink(HttpSink.builder(server.uri("/t").toString()).bearerTokenFromFile(file));
        assertThat(sink.publish(event("e1"))).isEqualTo(Outcome.done());

        Files.writeString(file, "");
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        assertThat(sink.publish(event("e2"))).isEqualTo(Outcome.done());
        Files.writeString(file, "second\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
        assertThat(sink.publish(event("e3"))).isEqualTo(Outcome.done());

        assertThat(server.received).extracting(r -> r.header("Authorization"))
                .containsExactly("Bearer first", "Bearer first", "Bearer second");
    }

    @Test
    void anIngestToken_withATrailingNewline_acceptsTheToken_notEveryRequestRefused() throws Exception {
        // a secret mounted from a file: every request was answered 403, the endpoint up and ready
        var problems = new ArrayList<String>();
        var config = HttpSourceConfig.read(new MapSettings(Map.of("auth", "bearer", "token", "tok-0123456789abcdef\n"),
                problems));
        assertThat(problems).isEmpty();
        var source = HttpSource.builder().auth(config.auth()).build().start();
        opened.add(source);
        Handler done = (e, d) -> Outcome.done();
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER, done)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start());
        try (var client = HttpClient.newHttpClient()) {
            var response = client.send(HttpRequest.newBuilder(source.uri()).timeout(Duration.ofSeconds(20))
                    .header("Authorization", "Bearer tok-0123456789abcdef")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"e1\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        }
        var refused = new ArrayList<String>();
        HttpSourceConfig.read(new MapSettings(Map.of("auth", "bearer", "token", "tok-0123\n456789abcdef"), refused));
        assertThat(refused).singleElement().asString().contains("position 9").doesNotContain("tok-0123");
    }
}
