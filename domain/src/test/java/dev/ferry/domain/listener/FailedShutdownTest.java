package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * A shutdown that throws before its end — here a source whose {@code stopping()} fails, logged through a logging
 * backend that throws too — leaves what it had not settled as it stood. Its report said {@code clean()}: every count
 * zero, so nothing "released past the deadline", while a running handler's message was still unsettled.
 */
class FailedShutdownTest {

    @Test
    void aShutdownThatThrows_isReportedFailed_notClean_andLosesNothing() throws Exception {
        var queue = InMemoryQueue.standard("failing-stop");
        Source source = new Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return queue.poll(request);
            }

            @Override
            public void stopping() {
                throw new IllegalStateException("client already closed");
            }
        };
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var ended = new CountDownLatch(1);
        var listener = Listener.builder(source, queue, new LineDecoder(), (event, delivery) -> {
            started.countDown();
            Await.until(Duration.ofSeconds(10), () -> release.getCount() == 0);
            ended.countDown();
            return Outcome.done();
        }).config(ListenerTest.fast().lease(Duration.ofSeconds(1)).build()).build().start();
        var logger = Logger.getLogger(Listener.class.getName());
        var level = logger.getLevel();
        Handler throwing = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (String.valueOf(r.getMessage()).contains("told the listener is stopping")) {
                    throw new IllegalStateException("log appender closed");
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        try {
            queue.send("running at the stop");
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            logger.setLevel(java.util.logging.Level.WARNING); // the tests' logging keeps SEVERE only
            logger.addHandler(throwing);

            var report = listener.stop();

            assertThat(report.reason()).contains("the shutdown failed");
            assertThat(report.failed()).as(report.toString()).isTrue();
            assertThat(report.clean()).as("a running handler's message was left unsettled: " + report).isFalse();
        } finally {
            logger.removeHandler(throwing);
            logger.setLevel(level);
            release.countDown();
        }
        // the handler left running ends after the stop: its settlement is still sent (by its own thread), so the
        // message is acked, not back once its lease runs out
        assertThat(Await.until(Duration.ofSeconds(10), () -> ended.getCount() == 0)).isTrue();
        Await.until(Duration.ofMillis(1_500), () -> false); // past the lease
        assertThat(queue.size()).as("acked once its handler ended, in flight " + queue.inFlightCount()).isZero();
        assertThat(queue.inFlightCount()).isZero();
    }
}
