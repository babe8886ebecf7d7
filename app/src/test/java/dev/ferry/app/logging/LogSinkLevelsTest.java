package dev.ferry.app.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A review: {@code logging: {level: warn}} (or {@code levels: {ferry: warn}}) to quiet Ferry's own lines silenced
 * the {@code log} sink too — its events were acked and no line written, where the sink promises one per event.
 */
class LogSinkLevelsTest {

    /** The lines that get through under {@code settings} of a log sink 'log', a log sink 'audit' and Ferry's own logger. */
    private static List<String> linesUnder(FerryLogging.Settings settings) {
        var context = new LoggerContext(); // not the tests' own: their levels stay as they are
        try {
            FerryLogging.configure(context, settings, false);
            var lines = new ListAppender<ILoggingEvent>();
            lines.setContext(context);
            lines.start();
            context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(lines);
            context.getLogger("ferry.sink.log").info("HITReviewable mturk:doc-1#0 group=HIT-7 {}", "{}");
            context.getLogger("ferry.sink.audit").info("HITReviewable mturk:doc-1#0 group=HIT-7 {}", "{}");
            context.getLogger("ferry").info("listening on 'mturk'");
            return lines.list.stream().map(e -> e.getLoggerName() + " - " + e.getFormattedMessage()).toList();
        } finally {
            // the context told java.util.logging its levels: tell it the defaults again
            FerryLogging.configure(context, FerryLogging.Settings.DEFAULT, false);
            context.stop();
        }
    }

    @Test
    void aLevelAboveInfo_quietsFerrysOwnLines_butNotWhatALogSinkWrites() {
        for (var settings : List.of(new FerryLogging.Settings("warn", "text", Map.of()),
                new FerryLogging.Settings("error", "json", Map.of()),
                new FerryLogging.Settings("info", "text", Map.of("ferry", "warn")))) {
            assertThat(linesUnder(settings)).as(settings.toString()).containsExactly(
                    "ferry.sink.log - HITReviewable mturk:doc-1#0 group=HIT-7 {}",
                    "ferry.sink.audit - HITReviewable mturk:doc-1#0 group=HIT-7 {}");
        }
    }

    @Test
    void aLevelGivenForTheSinksLoggers_isStillObeyed() {
        assertThat(linesUnder(new FerryLogging.Settings("warn", "text", Map.of("ferry.sink", "off")))).isEmpty();
        assertThat(linesUnder(new FerryLogging.Settings("warn", "text", Map.of("ferry.sink.audit", "warn"))))
                .containsExactly("ferry.sink.log - HITReviewable mturk:doc-1#0 group=HIT-7 {}");
        assertThat(linesUnder(new FerryLogging.Settings("info", "text", Map.of("ferry.sink", "error")))).as("turned down below info")
                .containsExactly("ferry - listening on 'mturk'");
    }

    @Test
    void atInfoOrBelow_theSinksLoggersFollowTheGeneralLevel() {
        var context = new LoggerContext();
        try {
            FerryLogging.configure(context, new FerryLogging.Settings("debug", "text", Map.of()), false);
            assertThat(context.getLogger("ferry.sink.log").isDebugEnabled()).as("not held at info").isTrue();
            assertThat(linesUnder(FerryLogging.Settings.DEFAULT)).hasSize(3);
        } finally {
            FerryLogging.configure(context, FerryLogging.Settings.DEFAULT, false);
            context.stop();
        }
    }
}
