package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.transport.Sink;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A plugin's exception whose message and text throw ({@link Unprintable}): the part that threw it is reported
 * so, and readiness, the console, the metrics and the admin endpoints still answer (over a socket on 127.0.0.1).
 */
class UnprintableFailuresTest {

    private static final String TOKEN = "a-token-of-16-chars!";
    private static final String UNPRINTABLE = Unprintable.class.getName();

    private final Observability observability = new Observability();

    @AfterEach
    void close() {
        observability.close();
    }

    private int serve() {
        return observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
    }

    private static String get(int port, String path) throws IOException {
        try (var socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** A plugin sink whose {@code holdingBack} throws what cannot be printed. */
    private static Sink sinkWhoseHealthCheckThrowsAnUnprintable() {
        return new Sink() {
            @Override
            public String name() {
                return "plugin";
            }

            @Override
            public Outcome publish(Event event) {
                return Outcome.done();
            }

            @Override
            public Optional<String> holdingBack() {
                throw new Unprintable();
            }
        };
    }

    @Test // a review: the report concatenated it inside its catch, threw there, and /health/ready answered 500
    void aSinkWhoseHealthCheckThrowsWhatCannotBePrinted_isDegradedThere_andReadinessTheConsoleAndMetricsAnswer() throws Exception {
        Sink broken = sinkWhoseHealthCheckThrowsAnUnprintable();
        observability.health(new Health(Map.of(), Map.of("plugin", broken), "memory", Duration.ofMinutes(5), System::nanoTime,
                () -> true));
        observability.watch(broken);
        observability.console(new AdminConsole(Map.of(), Map.of("plugin", broken), DeadLetterSamples.shared(), null, "memory",
                observability.registry(), null, TOKEN));
        int admin = serve();

        // as a sink that holds back is answered: in service, the sink degraded, with why
        assertThat(get(admin, "/health/ready")).as("readiness").startsWith("HTTP/1.1 200").contains("{\"status\":\"DEGRADED\"")
                .contains("\"sink:plugin\":{\"status\":\"DEGRADED\",\"details\":{\"problem\":\"its health check threw "
                        + UNPRINTABLE + "\"}}");
        assertThat(get(admin, "/console/state")).as("the console").startsWith("HTTP/1.1 200")
                .contains("\"name\":\"plugin\",\"state\":\"its health check failed: " + UNPRINTABLE + "\"");
        assertThat(get(admin, "/metrics")).as("the metrics").startsWith("HTTP/1.1 200").contains("ferry_sink_breaker_open");
    }

    @Test
    void anEndpointThatThrowsWhatCannotBePrinted_isAnswered500_notACutConnection() throws Exception {
        Map<String, Listener> failing = new AbstractMap<>() {
            @Override
            public Set<Entry<String, Listener>> entrySet() {
                throw new Unprintable();
            }
        };
        observability.health(new Health(failing, Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
        int admin = serve();

        // its log line read the message, threw, and the 500 was never sent
        assertThat(get(admin, "/health/ready")).startsWith("HTTP/1.1 500");
        assertThat(get(admin, "/metrics")).as("the server goes on").startsWith("HTTP/1.1 200");
    }

    @Test
    void aLedgerThatThrowsWhatCannotBePrinted_isAnswered500WithItsClass() throws Exception {
        var failing = (GroupParking) Proxy.newProxyInstance(GroupParking.class.getClassLoader(), new Class<?>[] {GroupParking.class},
                (proxy, method, args) -> {
                    throw new Unprintable();
                });
        observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
        observability.groups(new AdminGroups(new GroupActions(null, failing, null), TOKEN));
        int admin = serve();

        assertThat(get(admin, "/groups")).startsWith("HTTP/1.1 500").contains(UNPRINTABLE);
    }

    @Test
    void whatCannotBePrinted_isDescribedByItsClass_andLoggedAsAStandInWithItsStack() {
        var unprintable = new Unprintable();
        assertThat(Thrown.describe(unprintable)).isEqualTo(UNPRINTABLE);
        assertThat(Thrown.message(unprintable)).isEqualTo(UNPRINTABLE);
        assertThat(Thrown.describe(new IllegalStateException("boom"))).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(Thrown.message(new IllegalStateException("boom"))).isEqualTo("boom");
        assertThat(Thrown.message(new IllegalStateException())).as("no message: its class").isEqualTo("java.lang.IllegalStateException");

        var printable = new IllegalStateException("outer", new RuntimeException("inner"));
        assertThat(Thrown.loggable(printable)).isSameAs(printable);
        var wrapping = new IllegalStateException("outer", unprintable);
        var standIn = Thrown.loggable(wrapping);
        assertThat(standIn).isNotSameAs(wrapping).hasMessageContaining("java.lang.IllegalStateException: outer");
        assertThat(standIn.getStackTrace()).containsExactly(wrapping.getStackTrace());
        var suppressing = new IllegalStateException("outer");
        suppressing.addSuppressed(unprintable);
        assertThat(Thrown.loggable(suppressing)).as("what it suppressed is read too").isNotSameAs(suppressing);
    }

    @Test // a review: closing a part whose close threw what cannot be printed lost its "closing X failed" line (the close
          // thread died of it); a shared part's close threw out of the run's close, the parts made before it left open
    void aCloseThatThrowsWhatCannotBePrinted_isSaid_andTheOthersAreStillClosed() {
        var logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("ferry");
        var lines = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        try {
            AutoCloseable broken = Closing.named("sink 'broken'", () -> {
                throw new Unprintable();
            });
            assertThat(Closing.inParallel(java.util.List.of(broken), java.time.Duration.ofSeconds(5))).isFalse();
            assertThat(lines.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .anySatisfy(line -> assertThat(line).contains("closing sink 'broken' failed").contains(UNPRINTABLE));
        } finally {
            logger.detachAppender(lines);
        }

        var closedFirst = new java.util.concurrent.atomic.AtomicBoolean();
        var run = new RunContext(null, false);
        run.shared("first", AutoCloseable.class, () -> () -> closedFirst.set(true));
        run.shared("second", AutoCloseable.class, () -> () -> {
            throw new Unprintable();
        });
        run.close();
        assertThat(closedFirst).as("made before the one that threw: closed all the same").isTrue();
    }
}
