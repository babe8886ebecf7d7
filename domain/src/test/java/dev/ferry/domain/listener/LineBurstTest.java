package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import org.junit.jupiter.api.Test;

/** A storm of per-message lines: a burst whole, the rest counted once. */
class LineBurstTest {

    /** A logger that keeps what it is asked to write. */
    private static final class Kept implements System.Logger {
        final List<String> lines = new ArrayList<>();

        @Override
        public String getName() {
            return "kept";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(java.text.MessageFormat.format(format, params));
        }
    }

    @Test
    void aThousandLines_letABurstThrough_andCountTheRestInOneLine_saidOnce() {
        var log = new Kept();
        var burst = new LineBurst(log, "failed ledger lease extensions", null);
        int through = 0;
        for (int i = 0; i < 1_000; i++) {
            if (burst.take()) {
                through++;
            }
        }
        assertThat(through).isEqualTo(LineBurst.BURST);
        assertThat(log.lines).isEmpty();
        burst.flush();
        burst.flush();
        assertThat(log.lines).containsExactly((1_000 - LineBurst.BURST)
                + " more failed ledger lease extensions not logged one by one (at most " + LineBurst.BURST + " such lines in 10s)");
    }

    @Test // wired: a transport that refuses every acknowledgement wrote a line for each message, for ever
    void anAcknowledgerRefusingEveryAck_writesABurstOfLines_andTheCountAtTheStop() {
        var queue = dev.ferry.domain.memory.InMemoryQueue.standard("refusing");
        for (int i = 0; i < 200; i++) {
            queue.send("k" + i + " T");
        }
        dev.ferry.domain.transport.Acknowledger refusing = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> s) {
                return s.stream().map(one -> new dev.ferry.domain.transport.Settlement.Failure(one, "throttled", true)).toList();
            }

            @Override
            public List<dev.ferry.domain.model.Delivery> extendLeases(List<dev.ferry.domain.model.Delivery> deliveries,
                                                                     java.time.Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        try (var log = new CapturedLog()) {
            var listener = Listener.builder(queue, refusing, new dev.ferry.domain.testing.LineDecoder(), (e, d) ->
                    dev.ferry.domain.handle.Outcome.done()).config(ListenerConfig.builder()
                    .pollWait(java.time.Duration.ofMillis(10)).lease(java.time.Duration.ofSeconds(30)).build()).build().start();
            try {
                assertThat(dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(20),
                        () -> listener.stats().settleFailures() >= 200)).isTrue();
            } finally {
                listener.stop();
            }
            // written aside, on a thread of their own: waited for
            dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(10),
                    () -> log.lines.stream().anyMatch(l -> l.contains("more refused settlements")));
            var refusals = log.lines.stream().filter(l -> l.startsWith("could not ")).count();
            assertThat(refusals).as("a burst, not a line each").isEqualTo(LineBurst.BURST);
            assertThat(log.lines).anyMatch(l -> l.contains("more refused settlements not logged one by one"));
        }
    }
}
