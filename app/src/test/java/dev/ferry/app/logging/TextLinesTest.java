package dev.ferry.app.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

/** A text line is one line, whatever a message brings: an event key or a payload cannot forge another. */
class TextLinesTest {

    @Test
    void aMessageWithLineBreaks_staysOneLine_withAUtcTimestamp() {
        var context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        var layout = new PatternLayout();
        layout.setContext(context);
        layout.setPattern(FerryLogging.TEXT_PATTERN);
        layout.start();
        var event = new LoggingEvent("x", context.getLogger("ferry.sink.log"), Level.INFO,
                "HITReviewable key\r\n2026-11-30T10:00:00.000Z ERROR [main] ferry - forged", null, null);
        event.setTimeStamp(0);
        String line = layout.doLayout(event);
        assertThat(line.lines().toList()).hasSize(1);
        assertThat(line).startsWith("1970-01-01T00:00:00.000Z INFO  [")
                .contains("ferry.sink.log - HITReviewable key\\n\\n2026-11-30T10:00:00.000Z ERROR [main] ferry - forged");
    }

    @Test
    void terminalControlSequences_inAMessage_areNotWrittenToTheLine() {
        var context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        var layout = new PatternLayout();
        layout.setContext(context);
        layout.setPattern(FerryLogging.TEXT_PATTERN);
        layout.start();
        var event = new LoggingEvent("x", context.getLogger("ferry"), Level.INFO,
                "key \u001b[2K\u001b]52;c;eA==\u0007 next\u0085line\u2028sep\u202eevil\u007f", null, null);
        String line = layout.doLayout(event);
        assertThat(line.lines().toList()).hasSize(1);
        assertThat(line.chars().filter(c -> c < 0x20 && c != '\n' || c >= 0x7f && c <= 0x9f || c == 0x2028 || c == 0x202e))
                .as(line).isEmpty();
        assertThat(line).contains("key \uFFFD[2K\uFFFD]52;c;eA==\uFFFD next");
    }

    @Test
    void jsonLines_escapeC1ControlsAndDel_too() {
        var context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        var layout = new JsonLineLayout();
        layout.setContext(context);
        layout.start();
        String line = layout.doLayout(new LoggingEvent("x", context.getLogger("ferry"), Level.WARN, "a\u0085b\u009bc\u007f", null, null));
        assertThat(line).contains("\"message\":\"a\\u0085b\\u009bc\\u007f\"");
    }

    @Test
    void jsonLines_escapeLineBreaks_andControlCharacters() {
        var context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        var layout = new JsonLineLayout();
        layout.setContext(context);
        layout.start();
        var event = new LoggingEvent("x", context.getLogger("ferry"), Level.WARN, "a\nb\u0007\"c\"", null, null);
        event.setTimeStamp(0);
        String line = layout.doLayout(event);
        assertThat(line.lines().toList()).hasSize(1);
        assertThat(line).startsWith("{\"time\":\"1970-01-01T00:00:00.000Z\",\"level\":\"WARN\"")
                .contains("\"message\":\"a\\nb\\u0007\\\"c\\\"\"");
    }
}
