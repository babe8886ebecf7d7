package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.ferry.domain.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The run's stats lines come from a thread of their own: one throw there (a log appender's Error, memory running out
 * as a line is built) ended that thread, and with it every stats line and the periodic word of log lines left out.
 */
class StatsLinesTest {

    @Test // a review: only an interrupt was caught around the stats loop
    void aStatsLineThatThrows_doesNotEndTheStatsLines() throws Exception {
        var logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("ferry");
        var stats = new CopyOnWriteArrayList<String>();
        var thrown = new AtomicBoolean();
        var throwingOnce = new AppenderBase<ILoggingEvent>() {
            @Override
            protected void append(ILoggingEvent event) {
                if (event.getFormattedMessage().startsWith("stats ")) {
                    stats.add(event.getFormattedMessage());
                }
            }

            @Override
            public void doAppend(ILoggingEvent event) {
                if (event.getFormattedMessage().startsWith("stats ") && thrown.compareAndSet(false, true)) {
                    throw new StackOverflowError("an appender's (injected)"); // an Error: logback passes it on
                }
                super.doAppend(event);
            }
        };
        throwingOnce.start();
        logger.addAppender(throwingOnce);
        var runtime = FerryAppIT.runtime(RunParts.config("""
                ledger:
                  kind: memory
                sources:
                  in:
                    http: {listen: "127.0.0.1:%d", auth: none}
                    format: raw
                sinks:
                  log: {type: log}
                routes:
                  - to: [log]
                admin:
                  listen: off
                stats-every: 1s
                """.formatted(RunParts.freePort())));
        try {
            runtime.start();
            assertThat(Await.until(Duration.ofSeconds(15), () -> thrown.get() && !stats.isEmpty()))
                    .as("a stats line after the one that threw: %s", stats).isTrue();
            assertThat(List.copyOf(stats)).allSatisfy(line -> assertThat(line).startsWith("stats in"));
        } finally {
            runtime.close();
            logger.detachAppender(throwingOnce);
        }
    }
}
