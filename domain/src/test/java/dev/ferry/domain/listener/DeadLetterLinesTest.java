package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** A poison storm wrote one line per dead letter, a million for a million: a burst whole, the rest counted. */
class DeadLetterLinesTest {

    @Test
    void aStormOfDeadLetters_logsABurstWhole_andCountsTheRestInOneLineAtTheStop() {
        var lines = new CopyOnWriteArrayList<String>();
        var logger = Logger.getLogger(SettlerLines.LOGGER);
        var level = logger.getLevel();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.setLevel(Level.WARNING); // the tests' root level is SEVERE
        logger.addHandler(handler);
        logger.setUseParentHandlers(false); // kept off the console
        var dlq = InMemoryQueue.standard("storm-dlq");
        var queue = InMemoryQueue.builder("storm").deadLetterQueue(dlq).build();
        for (int i = 0; i < 300; i++) {
            queue.send("!poison-" + i); // malformed: dead-lettered at once
        }
        var listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            throw new AssertionError("never handled");
        }).config(ListenerConfig.builder().pollWait(Duration.ofMillis(10)).build()).build().start();
        try {
            assertThat(Await.until(Duration.ofSeconds(20), () -> dlq.size() == 300)).isTrue();
        } finally {
            listener.stop();
            logger.removeHandler(handler);
            logger.setUseParentHandlers(true);
            logger.setLevel(level);
        }
        assertThat(lines.stream().filter(l -> l.startsWith("dead-lettering message"))).hasSize(SettlerLines.BURST);
        assertThat(lines).as("the rest said in one line, at the stop at the latest")
                .contains((300 - SettlerLines.BURST) + " more dead letters from 'storm' not logged one by one (at most "
                        + SettlerLines.BURST + " such lines in 10s; the dead-letter queue keeps each)");
        assertThat(lines).hasSize(SettlerLines.BURST + 1);
    }
}
