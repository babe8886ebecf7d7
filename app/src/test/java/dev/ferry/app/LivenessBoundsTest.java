package dev.ferry.app;

import static dev.ferry.app.ConfigReaderTest.errors;
import static dev.ferry.app.ConfigReaderTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Liveness ({@code admin.stall-after}) against a handler call running to its timeout: on a quiet
 * source nothing settles meanwhile, and a stall no longer than the call (and its grace to answer the
 * interrupt) restarts the instance for a handler that is only slow — for ever, its message's
 * receives spent on restarts.
 */
class LivenessBoundsTest {

    static final String TAIL = "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";

    static FerryConfig ok(String yaml) {
        var result = parse(yaml + TAIL);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
        return ((ConfigReader.Result.Ok) result).config();
    }

    @Test // a review: `ferry validate` passed these files, and `ferry run` refused them building the engine's settings
    void aFileThatReadsWell_buildsTheEnginesSettings_whateverItsSinksTimeoutsOrItsExtendEvery() {
        for (String yaml : new String[] {
                "sources: {s: {sqs: {queue: q}}}\nsinks: {api: {type: http, url: \"http://127.0.0.1:9/x\", timeout: 36500d}}\n"
                        + "routes:\n  - to: [api]\n",
                "listener: {extend-every: PT0.0005S}\n" + TAIL}) {
            var result = parse(yaml);
            assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
            var config = ((ConfigReader.Result.Ok) result).config();
            assertThat(ConfigParts.listenerConfig(config).build()).as(yaml).isNotNull(); // threw past a century, or at 0
            assertThat(config.listener().handlerTimeout()).isLessThanOrEqualTo(Duration.ofDays(36_500));
        }
    }

    @Test
    void byDefault_theStallOutlastsAHandlerRunningToItsTimeoutAndItsGrace() {
        var config = ok("");
        assertThat(config.listener().handlerTimeout()).isEqualTo(Duration.ofMinutes(15));
        // was 15m against 15m: a handler interrupted at 15m and answering a moment later failed liveness first
        assertThat(config.admin().stallAfter()).isEqualTo(Duration.ofMinutes(30));
    }

    @Test
    void aLongerTimeoutChosen_withTheStallLeftToItsDefault_raisesTheStall() {
        var config = ok("listener: {handler-timeout: 40m}\n");
        assertThat(config.listener().handlerTimeout()).isEqualTo(Duration.ofMinutes(40));
        assertThat(config.admin().stallAfter()).isEqualTo(Duration.ofMinutes(80));
        assertThat(ok("listener: {handler-timeout: 20m}\n").admin().stallAfter()).as("room enough already")
                .isEqualTo(Duration.ofMinutes(30));
    }

    @Test
    void aShortStallChosen_withTheTimeoutLeftToItsDefault_lowersTheTimeoutWellInsideIt() {
        var config = ok("admin: {stall-after: 5m}\n");
        assertThat(config.admin().stallAfter()).isEqualTo(Duration.ofMinutes(5));
        // as long as leaves its grace (a minute) and a tenth of the stall: 5m - 1m - 30s
        assertThat(config.listener().handlerTimeout()).isEqualTo(Duration.ofSeconds(210));
        assertThat(ok("admin: {stall-after: 15m}\n").listener().handlerTimeout()).isEqualTo(Duration.ofSeconds(750));
        var shortest = ok("admin: {stall-after: 10s}\n").listener().handlerTimeout();
        assertThat(shortest).isPositive().isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void bothChosen_andTheStallNotLongerThanTheCallAndItsGrace_isRefused() {
        assertThat(errors("listener: {handler-timeout: 30m}\nadmin: {stall-after: 20m}\n" + TAIL)).anySatisfy(e -> assertThat(e)
                .contains("listener.handler-timeout").contains("admin.stall-after (20m)").contains("31m"));
        // 14m30s interrupted, then up to a minute to answer: past a 15m stall
        assertThat(errors("listener: {handler-timeout: 14m30s}\nadmin: {stall-after: 15m}\n" + TAIL))
                .anySatisfy(e -> assertThat(e).contains("handler-timeout"));
        assertThat(ok("listener: {handler-timeout: 10m}\nadmin: {stall-after: 15m}\n").listener().handlerTimeout())
                .isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void noLimit_isTheUsersToChoose_theStallLeftAsItIs() {
        // warned, not refused: a configuration with 0s started before, and its liveness may be probed by nothing
        var none = ok("listener: {handler-timeout: 0s}\n");
        assertThat(none.listener().handlerTimeout()).isZero();
        assertThat(none.admin().stallAfter()).isEqualTo(Duration.ofMinutes(30));
        assertThat(ok("listener: {handler-timeout: 0s}\nadmin: {stall-after: 2h}\n").listener().handlerTimeout()).isZero();
        assertThat(errors("listener: {handler-timeout: soon}\n" + TAIL))
                .anySatisfy(e -> assertThat(e).contains("listener.handler-timeout").contains("expected a duration"));
    }

    @Test
    void withLivenessOff_nothingIsFitted() {
        var off = ok("listener: {handler-timeout: 40m}\nadmin: {listen: \"off\", stall-after: 20m}\n");
        assertThat(off.listener().handlerTimeout()).isEqualTo(Duration.ofMinutes(40));
        assertThat(off.admin().stallAfter()).isEqualTo(Duration.ofMinutes(20));
        // liveness answers on the metrics address too, with the admin one off
        assertThat(errors("listener: {handler-timeout: 40m}\nadmin: {listen: \"off\", stall-after: 20m}\n"
                + "metrics: {listen: \"127.0.0.1:9464\"}\n" + TAIL)).anySatisfy(e -> assertThat(e).contains("handler-timeout"));
    }

    @Test
    void aLongHoldLimitAndALongTimeout_eachLeftTheStallToRaise_takeTheLonger() {
        var config = ok("listener: {hold-limit: 50m, handler-timeout: 20m}\n");
        assertThat(config.admin().stallAfter()).isEqualTo(Duration.ofMinutes(100));
        assertThat(ok("listener: {hold-limit: 10m, handler-timeout: 60m}\n").admin().stallAfter())
                .isEqualTo(Duration.ofMinutes(120));
    }
}
