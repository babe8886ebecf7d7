package dev.ferry.app;

import static dev.ferry.app.ConfigReaderTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A sink whose destination does not answer runs its timeouts and in-process retries out, then waits the
 * outage out without spending the event's attempts. A handler timeout shorter than that interrupts the
 * call first: the attempt is spent, and after max-attempts an event whose endpoint was only down is
 * dead-lettered. An HTTP sink's call runs up to 31.3 s by default (a second for a connection slot, three
 * attempts of 10 s, pauses of 100 and 200 ms); a Kafka sink's up to 45 s (10 s for metadata, its 30 s
 * delivery timeout, 5 s for an unknown outcome); an SQS sink's 2 minutes (queued behind its senders, each
 * {@code SendMessageBatch} tried again while SQS does not answer). A default timeout gives way; a timeout or
 * stall the user chose is warned of at start, not refused (a configuration that started before still starts).
 */
class SinkCallsTest {

    static final String SOURCE = "sources: {s: {sqs: {queue: q}}}\n";
    static final String HTTP = "sinks: {hook: {type: http, url: \"http://127.0.0.1:9/e\"}}\nroutes:\n  - name: out\n    to: [hook]\n";

    /** The configuration read, and the WARN lines reading it logged. */
    record Read(FerryConfig config, List<String> warnings) {
    }

    static Read read(String yaml) {
        var ferry = (Logger) org.slf4j.LoggerFactory.getLogger("ferry");
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        ferry.addAppender(lines);
        try {
            var result = parse(yaml);
            assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
            return new Read(((ConfigReader.Result.Ok) result).config(), lines.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).map(ILoggingEvent::getFormattedMessage).toList());
        } finally {
            ferry.detachAppender(lines);
        }
    }

    @Test
    void aStallThatLeavesAHandlerTimeoutShorterThanAnHttpSinksCall_isWarnedOf_namingTheStall() {
        // 30s leaves a 10s handler timeout: the first attempt to a hung endpoint runs that long
        assertThat(read("admin: {stall-after: 30s}\n" + SOURCE + HTTP).warnings()).singleElement().asString()
                .contains("admin.stall-after").contains("route 'out'").contains("31.3s").contains("(10s)")
                .contains("set it to 1m44s or more");
        // 5m leaves 3m30s: room enough
        assertThat(read("admin: {stall-after: 5m}\n" + SOURCE + HTTP).warnings()).isEmpty();
    }

    @Test
    void aHandlerTimeoutChosenShorterThanTheSinksCalls_isWarnedOf_andAShorterSinkTimeoutFitsIt() {
        assertThat(read("listener: {handler-timeout: 20s}\n" + SOURCE + HTTP).warnings()).singleElement().asString()
                .contains("listener.handler-timeout (20s)").contains("at least 34.43s");
        // 1s + 3 x 5s + 0.3s = 16.3s, and a tenth: within 20s
        var shorter = HTTP.replace("url: ", "timeout: 5s, url: ");
        assertThat(read("listener: {handler-timeout: 20s}\n" + SOURCE + shorter).warnings()).isEmpty();
        // with liveness off there is no stall, but the timeout still interrupts the call
        assertThat(read("listener: {handler-timeout: 20s}\nadmin: {listen: \"off\"}\n" + SOURCE + HTTP).warnings())
                .singleElement().asString().contains("listener.handler-timeout");
    }

    @Test
    void aRoutesSinksAddUp_andAKafkaSinksSettingsCount() {
        String two = "sinks:\n  a: {type: http, url: \"http://127.0.0.1:9/a\"}\n  k: {type: kafka, bootstrap-servers: "
                + "\"127.0.0.1:9\", topic: t}\nroutes:\n  - name: both\n    to: [a, k]\n";
        // 31.3s + 45s = 76.3s: a 60s timeout would have been enough for either alone
        assertThat(read("listener: {handler-timeout: 60s}\n" + SOURCE + two).warnings()).singleElement().asString()
                .contains("route 'both'").contains("1m16s");
        String quick = two.replace("topic: t}", "topic: t, timeout: 5s, properties: {max.block.ms: \"1000\"}}");
        // 31.3s + (1s + 5s + 5s) = 42.3s, and a tenth: 46.53s
        assertThat(read("listener: {handler-timeout: 60s}\n" + SOURCE + quick).warnings()).isEmpty();
    }

    @Test
    void anSqsSinkWaitsTwoMinutesForItsAnswer() {
        String sqs = "sinks: {out: {type: sqs, queue: out}}\nroutes:\n  - name: on\n    to: [out]\n";
        // 2m and a tenth: a 60s timeout (or a 2m stall's 40s) interrupted the publish while SQS only hung
        assertThat(read("listener: {handler-timeout: 60s}\n" + SOURCE + sqs).warnings()).singleElement().asString()
                .contains("listener.handler-timeout").contains("at least 2m12s");
        assertThat(read("admin: {stall-after: 2m}\n" + SOURCE + sqs).warnings()).singleElement().asString()
                .contains("admin.stall-after").contains("set it to 3m34s or more");
        assertThat(read("admin: {stall-after: 3m34s}\n" + SOURCE + sqs).warnings()).isEmpty();
        // without patience the sink answers Retry itself: an interrupt costs nothing more
        assertThat(read("listener: {handler-timeout: 60s}\n" + SOURCE + sqs.replace("queue: out", "queue: out, "
                + "outage-patience: 0s")).warnings()).isEmpty();
    }

    @Test
    void routesThatTakeOneEventTogether_addUp_andRoutesOfTypesApartDoNot() {
        String sinks = "sinks:\n  a: {type: http, url: \"http://127.0.0.1:9/a\"}\n  b: {type: http, url: \"http://127.0.0.1:9/b\"}\n";
        // an AssignmentSubmitted goes to a and, through the route without a match, to b: 62.6s in one call
        String overlapping = sinks + "routes:\n  - name: x\n    match: {type: AssignmentSubmitted}\n    to: [a]\n"
                + "  - name: all\n    to: [b]\n";
        assertThat(read("listener: {handler-timeout: 45s}\n" + SOURCE + overlapping).warnings()).singleElement()
                .asString().contains("listener.handler-timeout").contains("1m2s");
        String apart = sinks + "routes:\n  - name: x\n    match: {type: AssignmentSubmitted}\n    to: [a]\n"
                + "  - name: y\n    match: {type-prefix: HIT}\n    to: [b]\n";
        assertThat(read("listener: {handler-timeout: 45s}\n" + SOURCE + apart).warnings()).isEmpty();
    }

    @Test
    void aDefaultTimeoutGivesWayToSlowSinks_andALongStallIsNotBlamed() {
        String slow = HTTP.replace("url: ", "timeout: 5m, url: ");
        // 3 x 5m + 1.3s = 15m1.3s and a tenth: the 15m default is raised to it, without a warning
        var raised = read(SOURCE + slow);
        assertThat(raised.config().listener().handlerTimeout()).isEqualTo(Duration.ofMillis(991_430));
        assertThat(raised.config().admin().stallAfter()).as("the default stall still outlasts it and its grace")
                .isEqualTo(Duration.ofMinutes(30));
        assertThat(raised.warnings()).isEmpty();
        var longer = read(SOURCE + HTTP.replace("url: ", "timeout: 10m, url: ")).config();
        assertThat(longer.admin().stallAfter()).as("raised as for a timeout chosen that long: twice it")
                .isEqualTo(longer.listener().handlerTimeout().multipliedBy(2));
        // a stall of 1h leaves the raised default as it is: nothing to say, and the stall was never the matter
        assertThat(read("admin: {stall-after: 1h}\n" + SOURCE + slow).warnings()).isEmpty();
    }

    @Test
    void aPluginSinkWhoseFigureThrows_anErrorToo_countsAsNotKnown_andTheConfigurationIsRead() {
        var plugin = new dev.ferry.app.Adapters(ConfigReaderTest.ADAPTERS.sources(), Map.of("odd", settings ->
                new dev.ferry.domain.spi.Plan<dev.ferry.domain.transport.Sink>() {
                    @Override
                    public dev.ferry.domain.transport.Sink open(dev.ferry.domain.spi.AdapterContext context) {
                        throw new UnsupportedOperationException("not opened here");
                    }

                    @Override
                    public Duration longestCall() {
                        throw new NoClassDefFoundError("com/example/Missing");
                    }
                }), ConfigReaderTest.ADAPTERS.ledgers());
        var result = ConfigReader.parse("ferry.yaml", "listener: {handler-timeout: 1s}\n" + SOURCE
                + "sinks: {o: {type: odd}}\nroutes:\n  - to: [o]\n", Map.<String, String>of()::get, plugin);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    /** A plugin sink that says its calls take {@code longest}, and opens nothing. */
    private static dev.ferry.domain.spi.SinkProvider saying(Duration longest) {
        return settings -> new dev.ferry.domain.spi.Plan<dev.ferry.domain.transport.Sink>() {
            @Override
            public dev.ferry.domain.transport.Sink open(dev.ferry.domain.spi.AdapterContext context) {
                throw new UnsupportedOperationException("not opened here");
            }

            @Override
            public Duration longestCall() {
                return longest;
            }
        };
    }

    @Test // a review: "ferry: long overflow", exit 1, no sink named — the figure plus its margin, or two such summed
    void aPluginSinkThatTakesForEver_aloneOrTwoOnARoute_isReadWithTheLongestHandlerTimeout() {
        var plugin = new dev.ferry.app.Adapters(ConfigReaderTest.ADAPTERS.sources(),
                Map.of("endless", saying(java.time.temporal.ChronoUnit.FOREVER.getDuration())),
                ConfigReaderTest.ADAPTERS.ledgers());
        for (String sinksAndRoutes : new String[] {
                "sinks: {o: {type: endless}}\nroutes:\n  - to: [o]\n",
                "sinks: {o: {type: endless}, p: {type: endless}}\nroutes:\n  - to: [o, p]\n"}) {
            var result = ConfigReader.parse("ferry.yaml", SOURCE + sinksAndRoutes, Map.<String, String>of()::get, plugin);
            assertThat(result).as(sinksAndRoutes + result).isInstanceOf(ConfigReader.Result.Ok.class);
            var config = ((ConfigReader.Result.Ok) result).config();
            assertThat(config.listener().handlerTimeout()).as("the engine's longest, a hundred years")
                    .isEqualTo(Duration.ofDays(36_500));
            assertThat(ConfigParts.listenerConfig(config).build()).as("the engine takes it").isNotNull();
        }
    }

    @Test
    void sinksThatDoNotSayHowLongTheyTake_constrainNothing() {
        var read = read("listener: {handler-timeout: 1s}\n" + SOURCE + "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n");
        assertThat(read.config().listener().handlerTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(read.warnings()).isEmpty();
    }
}
