package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.app.config.FerryConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** HEAD requests to the admin address, as an uptime check sends them every few seconds. */
class AdminHeadTest {

    private final Observability observability = new Observability();

    @AfterEach
    void close() {
        observability.close();
    }

    @Test
    void aHeadRequest_isAnsweredAsItsGetWithoutABody_andLogsNothing() throws Exception {
        // each wrote a WARN with a stack trace (the body's bytes refused by the JDK after a length for a HEAD): anyone who
        // reaches the port could flood the log, and a HEAD-based uptime check did so every few seconds
        observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
        observability.ready(true);
        int port = observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
        var root = (Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        root.addAppender(lines);
        try (var http = HttpClient.newHttpClient()) {
            for (var path : new String[] {"/health/ready", "/health/live", "/metrics", "/health"}) {
                var uri = URI.create("http://127.0.0.1:" + port + path);
                var head = http.send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                var get = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(head.statusCode()).as(path).isEqualTo(get.statusCode());
                assertThat(head.body()).as(path).isEmpty();
                assertThat(get.body()).as(path).isNotEmpty();
            }
        } finally {
            root.detachAppender(lines);
        }
        assertThat(lines.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }
}
