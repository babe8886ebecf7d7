package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogSinkTest {

    @Test
    void aHugeOrMultiLineKeyTypeOrGroup_isCutAndEscaped_inItsOneLine() {
        // the key, type and group went into the line whole: 256 KiB each, and a newline in one made up a line of its own
        var logger = (Logger) org.slf4j.LoggerFactory.getLogger("ferry.sink.audit");
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        try {
            String huge = "k".repeat(256 * 1024);
            var event = new Event("k-1\nERROR forged line", "Order\u001b[2J", null, huge,
                    "{\"a\":\"\u001b]52;c;payload\"}".getBytes(StandardCharsets.UTF_8), Map.of());
            assertThat(new LogSink("audit").publish(event)).isEqualTo(Outcome.done());
        } finally {
            logger.detachAppender(lines);
        }
        assertThat(lines.list).singleElement().satisfies(line -> {
            var text = line.getFormattedMessage();
            assertThat(text.length()).isLessThan(8 * 1024);
            assertThat(text).doesNotContain("\n").doesNotContain("\u001b").contains("(262144 chars)").contains("k-1\\u000aERROR forged line").contains("\\u001b");
        });
    }

    @Test // a review: the whole payload was decoded and its whitespace rewritten, to print its first 200 characters
    void aHugePayload_isReadOnlyAsFarAsItsLineShows() {
        var logger = (Logger) org.slf4j.LoggerFactory.getLogger("ferry.sink.audit");
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        var payload = ("{\"a\":  \"" + "x ".repeat(8 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        var event = new Event("k-1", "Order", null, null, payload, Map.of());
        var sink = new LogSink("audit");
        sink.publish(new Event("k-0", "Order", null, null, "{}".getBytes(StandardCharsets.UTF_8), Map.of())); // warmed up
        long before = threads.getCurrentThreadAllocatedBytes();
        try {
            assertThat(sink.publish(event)).isEqualTo(Outcome.done());
        } finally {
            logger.detachAppender(lines);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).as("bytes allocated to log a 16 MiB payload's line").isLessThan(1024 * 1024);
        assertThat(lines.list.getLast().getFormattedMessage()).contains("{\"a\": \"x x x").endsWith("...");
    }
}
