package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** HEAD requests to the ingest endpoint, as an uptime check or a scanner sends them; real sockets on 127.0.0.1. */
class HttpSourceHeadIT extends IngestEndpointFixture {

    /** The JDK's server logs through System.Logger, which is java.util.logging here (no other LoggerFinder). */
    private static final String JDK_SERVER_LOGGER = "com.sun.net.httpserver";

    @Test
    void aHeadRequest_isAnsweredWithoutABody_andTheJdksServerWarnsOfNothing() throws Exception {
        // each was answered with a length, so the JDK's server logged a WARNING and refused the body: anyone who reaches
        // the port could flood the log with HEADs
        var warnings = new CopyOnWriteArrayList<String>();
        var handler = new java.util.logging.Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record.getLevel() + " " + record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger server = Logger.getLogger(JDK_SERVER_LOGGER); // held: java.util.logging keeps its loggers weakly
        Level level = server.getLevel();
        server.setLevel(Level.WARNING); // the tests' logging.properties lets only SEVERE through: a WARNING would not be made
        server.addHandler(handler);
        try {
            var source = start(HttpSource.builder().name("uptime-checked").auth(IngestAuth.none()));
            URI elsewhere = URI.create("http://127.0.0.1:" + source.port() + "/status");
            for (var uri : List.of(source.uri(), elsewhere)) {
                var head = client.send(HttpRequest.newBuilder(uri).HEAD().timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                var get = client.send(HttpRequest.newBuilder(uri).GET().timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(head.statusCode()).as(uri.toString()).isEqualTo(uri.equals(elsewhere) ? 404 : 405)
                        .isEqualTo(get.statusCode());
                assertThat(head.body()).as(uri.toString()).isEmpty();
                assertThat(get.body()).as(uri.toString()).contains("\"error\"");
            }
            var head = client.send(HttpRequest.newBuilder(source.uri()).HEAD().timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(head.headers().firstValue("Allow")).as("the headers of the 405 still").hasValue("POST");

            // the connection a HEAD was answered on goes on: the next request on it is read and answered
            var posted = post(source, "{\"id\":\"after-heads\",\"type\":\"Ping\"}");
            assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
            assertThat(handled).containsExactly("after-heads");
        } finally {
            server.removeHandler(handler);
            server.setLevel(level);
        }
        assertThat(warnings).as("what the JDK's server warned of").isEmpty();
    }
}
