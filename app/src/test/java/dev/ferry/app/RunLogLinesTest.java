package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A sender writes the keys: a 256 KiB event key and group made each reject and dead-letter line ~770 KB —
 * the key in the message, in {@code event_key}, in {@code group} — and CloudWatch (256 KB), Loki and
 * Docker (16 KB chunks) cut or dropped exactly those lines. Keys and ids in log lines are cut at 1,024
 * characters, with their length said.
 */
class RunLogLinesTest {

    @Test
    void hugeKeysAndIds_areCutInTheLinesAndTheirContext() {
        var logger = (Logger) org.slf4j.LoggerFactory.getLogger("ferry");
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        try {
            String huge = "k".repeat(256 * 1024);
            var delivery = new Delivery(huge, new byte[0], Map.of(), 1, Instant.EPOCH, huge, null, "orders", null);
            var event = new Event(huge, "Order", Instant.EPOCH, huge, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
            var observer = new RunLogLines().forSource("orders");
            observer.handled(event, Outcome.reject("HTTP 400 for " + huge), 1);
            observer.settled(delivery, Disposition.deadLetter("rejected: " + huge));
            assertThat(lines.list).hasSize(2);
            for (var line : lines.list) {
                long size = line.getFormattedMessage().length()
                        + line.getMDCPropertyMap().values().stream().mapToLong(String::length).sum();
                assertThat(size).as(line.getFormattedMessage().substring(0, 80)).isLessThan(8 * 1024);
                assertThat(line.getFormattedMessage()).contains("(262144 chars)");
            }
        } finally {
            logger.detachAppender(lines);
        }
    }

    @Test // a review: the line said "will retry" on the attempt that ended a message's attempts (max-attempts: 1, each)
    void aFailedAttemptsLine_promisesNoRetry_theDeadLetterLineSaysWhereItWent() {
        var logger = (Logger) org.slf4j.LoggerFactory.getLogger("ferry");
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        try {
            new RunLogLines().forSource("orders").handled(Event.of("e-1", "Order", new byte[0]),
                    Outcome.retry("HTTP 503"), 1);
            assertThat(lines.list).hasSize(1);
            assertThat(lines.list.getFirst().getFormattedMessage()).contains("e-1", "HTTP 503", "dead-lettered once out of")
                    .doesNotContain("will retry");
        } finally {
            logger.detachAppender(lines);
        }
    }

    @Test // a poison storm: a million messages wrote two million lines
    void aStormOfDeadLetters_writesABurstWhole_thenCountsTheRest_andSaysHowManyAtTheNextFlush() {
        var logger = (Logger) org.slf4j.LoggerFactory.getLogger("ferry");
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        try {
            var logLines = new RunLogLines();
            var orders = logLines.forSource("orders");
            var audit = logLines.forSource("audit");
            for (int i = 0; i < 1_000; i++) {
                var delivery = new Delivery("m-" + i, new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "orders", null);
                orders.handled(Event.of("e-" + i, "Order", new byte[0]), Outcome.reject("bad " + i), 1);
                orders.settled(delivery, Disposition.deadLetter("rejected: bad " + i));
            }
            audit.settled(new Delivery("a-1", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "audit", null),
                    Disposition.deadLetter("malformed"));

            assertThat(lines.list).as("a burst of each kind whole, the other source's line too")
                    .hasSize(2 * RunLogLines.BURST + 1);
            assertThat(lines.list.stream().filter(l -> l.getFormattedMessage().startsWith("dead-lettered message m-")))
                    .hasSize(RunLogLines.BURST);
            assertThat(lines.list.getLast().getFormattedMessage()).contains("a-1");

            logLines.flush();
            var said = lines.list.subList(2 * RunLogLines.BURST + 1, lines.list.size()).stream()
                    .map(ILoggingEvent::getFormattedMessage).toList();
            assertThat(said).containsExactlyInAnyOrder(
                    (1_000 - RunLogLines.BURST) + " more dead letters from 'orders' not logged one by one (at most "
                            + RunLogLines.BURST + " such lines in 10s; the dead-letter queue and `ferry events` keep each)",
                    (1_000 - RunLogLines.BURST) + " more rejections from 'orders' not logged one by one (at most "
                            + RunLogLines.BURST + " such lines in 10s; the dead-letter queue and `ferry events` keep each)");
            logLines.flush();
            assertThat(lines.list).as("said once").hasSize(2 * RunLogLines.BURST + 3);
        } finally {
            logger.detachAppender(lines);
        }
    }
}
