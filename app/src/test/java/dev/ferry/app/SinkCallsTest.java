package dev.ferry.app;

import static dev.ferry.app.ConfigReaderTest.errors;
import static dev.ferry.app.ConfigReaderTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigReader;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A sink whose destination does not answer runs its timeouts and in-process retries out, then waits the
 * outage out without spending the event's attempts. A handler timeout shorter than that interrupts the
 * call first: the attempt is spent, and after max-attempts an event whose endpoint was only down is
 * dead-lettered. An HTTP sink's call runs up to 31.3 s by default (a second for a connection slot, three
 * attempts of 10 s, pauses of 100 and 200 ms); a Kafka sink's up to 45 s (10 s for metadata, its 30 s
 * delivery timeout, 5 s for an unknown outcome); an SQS sink's 2 minutes (queued behind its senders, each
 * {@code SendMessageBatch} tried again while SQS does not answer).
 */
class SinkCallsTest {

    static final String SOURCE = "sources: {s: {sqs: {queue: q}}}\n";
    static final String HTTP = "sinks: {hook: {type: http, url: \"http://127.0.0.1:9/e\"}}\nroutes:\n  - name: out\n    to: [hook]\n";

    @Test
    void aStallThatLeavesAHandlerTimeoutShorterThanAnHttpSinksCall_isRefusedOnTheStall() {
        // 30s leaves a 10s handler timeout: the first attempt to a hung endpoint runs that long
        assertThat(errors("admin: {stall-after: 30s}\n" + SOURCE + HTTP)).anySatisfy(e -> assertThat(e)
                .contains("admin.stall-after").contains("route 'out'").contains("31.3s").contains("10s"));
        // 5m leaves 3m30s: room enough
        assertThat(parse("admin: {stall-after: 5m}\n" + SOURCE + HTTP)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void aHandlerTimeoutChosenShorterThanTheSinksCalls_isRefusedOnTheTimeout_andAShorterSinkTimeoutFitsIt() {
        assertThat(errors("listener: {handler-timeout: 20s}\n" + SOURCE + HTTP)).anySatisfy(e -> assertThat(e)
                .contains("listener.handler-timeout").contains("at least 34.43s").contains("was 20s"));
        // 1s + 3 x 5s + 0.3s = 16.3s, and a tenth: within 20s
        var shorter = HTTP.replace("url: ", "timeout: 5s, url: ");
        assertThat(parse("listener: {handler-timeout: 20s}\n" + SOURCE + shorter)).isInstanceOf(ConfigReader.Result.Ok.class);
        // with liveness off there is no stall, but the timeout still interrupts the call
        assertThat(errors("listener: {handler-timeout: 20s}\nadmin: {listen: \"off\"}\n" + SOURCE + HTTP))
                .anySatisfy(e -> assertThat(e).contains("listener.handler-timeout"));
    }

    @Test
    void aRoutesSinksAddUp_andAKafkaSinksSettingsCount() {
        String two = "sinks:\n  a: {type: http, url: \"http://127.0.0.1:9/a\"}\n  k: {type: kafka, bootstrap-servers: "
                + "\"127.0.0.1:9\", topic: t}\nroutes:\n  - name: both\n    to: [a, k]\n";
        // 31.3s + 45s = 76.3s: a 60s timeout would have been enough for either alone
        assertThat(errors("listener: {handler-timeout: 60s}\n" + SOURCE + two)).anySatisfy(e -> assertThat(e)
                .contains("route 'both'").contains("1m16s"));
        String quick = two.replace("topic: t}", "topic: t, timeout: 5s, properties: {max.block.ms: \"1000\"}}");
        // 31.3s + (1s + 5s + 5s) = 42.3s, and a tenth: 46.53s
        assertThat(parse("listener: {handler-timeout: 60s}\n" + SOURCE + quick)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void anSqsSinkWaitsTwoMinutesForItsAnswer() {
        String sqs = "sinks: {out: {type: sqs, queue: out}}\nroutes:\n  - name: on\n    to: [out]\n";
        // 2m and a tenth: a 60s timeout (or a 2m stall's 40s) interrupted the publish while SQS only hung
        assertThat(errors("listener: {handler-timeout: 60s}\n" + SOURCE + sqs)).anySatisfy(e -> assertThat(e)
                .contains("listener.handler-timeout").contains("at least 2m12s"));
        assertThat(errors("admin: {stall-after: 2m}\n" + SOURCE + sqs)).anySatisfy(e -> assertThat(e)
                .contains("admin.stall-after").contains("set it to 3m34s or more"));
        assertThat(parse("admin: {stall-after: 3m34s}\n" + SOURCE + sqs)).isInstanceOf(ConfigReader.Result.Ok.class);
        // without patience the sink answers Retry itself: an interrupt costs nothing more
        assertThat(parse("listener: {handler-timeout: 60s}\n" + SOURCE + sqs.replace("queue: out", "queue: out, "
                + "outage-patience: 0s"))).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void routesThatTakeOneEventTogether_addUp_andRoutesOfTypesApartDoNot() {
        String sinks = "sinks:\n  a: {type: http, url: \"http://127.0.0.1:9/a\"}\n  b: {type: http, url: \"http://127.0.0.1:9/b\"}\n";
        // an AssignmentSubmitted goes to a and, through the route without a match, to b: 62.6s in one call
        String overlapping = sinks + "routes:\n  - name: x\n    match: {type: AssignmentSubmitted}\n    to: [a]\n"
                + "  - name: all\n    to: [b]\n";
        assertThat(errors("listener: {handler-timeout: 45s}\n" + SOURCE + overlapping)).anySatisfy(e -> assertThat(e)
                .contains("listener.handler-timeout").contains("1m2s"));
        String apart = sinks + "routes:\n  - name: x\n    match: {type: AssignmentSubmitted}\n    to: [a]\n"
                + "  - name: y\n    match: {type-prefix: HIT}\n    to: [b]\n";
        assertThat(parse("listener: {handler-timeout: 45s}\n" + SOURCE + apart)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void aDefaultTimeoutGivesWayToSlowSinks_andALongStallIsNotBlamed() {
        String slow = HTTP.replace("url: ", "timeout: 5m, url: ");
        // 3 x 5m + 1.3s = 15m1.3s and a tenth: the 15m default is raised to it (it started before, it starts)
        var raised = parse(SOURCE + slow);
        assertThat(raised).isInstanceOf(ConfigReader.Result.Ok.class);
        var config = ((ConfigReader.Result.Ok) raised).config();
        assertThat(config.listener().handlerTimeout()).isEqualTo(Duration.ofMillis(991_430));
        assertThat(config.admin().stallAfter()).as("the default stall still outlasts it and its grace")
                .isEqualTo(Duration.ofMinutes(30));
        var longer = (ConfigReader.Result.Ok) parse(SOURCE + HTTP.replace("url: ", "timeout: 10m, url: "));
        assertThat(longer.config().admin().stallAfter()).as("raised as for a timeout chosen that long: twice it")
                .isEqualTo(longer.config().listener().handlerTimeout().multipliedBy(2));
        // a stall of 1h leaves the raised default as it is: nothing to refuse, and the stall was never the matter
        assertThat(parse("admin: {stall-after: 1h}\n" + SOURCE + slow)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void sinksThatDoNotSayHowLongTheyTake_constrainNothing() {
        var result = parse("listener: {handler-timeout: 1s}\n" + SOURCE
                + "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n");
        assertThat(result).isInstanceOf(ConfigReader.Result.Ok.class);
        assertThat(((ConfigReader.Result.Ok) result).config().listener().handlerTimeout()).isEqualTo(Duration.ofSeconds(1));
    }
}
