package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * A log that blocks (stdout backed up, a log driver throttled): the settler's warning of a refused
 * acknowledgement was written under its send lock, and every acknowledgement after it waited for the log;
 * the listener's "started" and "stopped" lines held start() and stop() themselves.
 */
class BlockedLogTest {

    @Test
    void aRefusedAcknowledgementsWarning_doesNotHoldTheNextAcknowledgements() {
        var queue = InMemoryQueue.standard("orders");
        var refusedOnce = new AtomicBoolean();
        var acknowledger = new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                if (refusedOnce.compareAndSet(false, true)) {
                    return settlements.stream().map(s -> new Settlement.Failure(s, "receipt gone", false)).toList();
                }
                return queue.settle(settlements);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        var blocked = new BlockingLog("could not");
        var listener = Listener.builder(queue, acknowledger, new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().build()).build().start();
        try {
            queue.send("first");
            assertThat(Await.until(Duration.ofSeconds(10), () -> refusedOnce.get())).isTrue();
            queue.send("second");
            assertThat(Await.until(Duration.ofSeconds(10),
                    () -> queue.messages().stream().noneMatch(m -> m.body().equals("second"))))
                    .as("the second acknowledged while the first's warning waits for the log").isTrue();
        } finally {
            blocked.close();
            listener.stop();
        }
    }

    @Test
    void aFailedPollsWarning_doesNotHoldIntake() {
        // each poller wrote its warning of a failed poll itself: with the log blocked, every poller that met one failure
        // stopped there — nothing taken in — while readiness (3 failures in a row) and the wedge check (a poll under way)
        // saw nothing
        var queue = InMemoryQueue.standard("orders");
        var failOnce = new java.util.concurrent.atomic.AtomicInteger(2); // one failure for each of the two pollers
        var source = new dev.ferry.domain.transport.Source() {
            @Override
            public String name() {
                return "orders";
            }

            @Override
            public List<Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
                if (failOnce.getAndDecrement() > 0) {
                    throw new IllegalStateException("SQS answered 500 (injected)");
                }
                return queue.poll(request);
            }
        };
        var blocked = new BlockingLog("poll of");
        var listener = Listener.builder(source, queue, new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().pollers(2).build()).build().start();
        try {
            assertThat(Await.until(Duration.ofSeconds(10), () -> failOnce.get() <= 0)).isTrue();
            queue.send("after the failures");
            assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0))
                    .as("taken in and acknowledged while the failures' warnings wait for the log").isTrue();
        } finally {
            blocked.close();
            listener.stop();
        }
    }

    /** The listener's log, its lines that start with {@code prefix} blocking (the log's pipe full) until closed. */
    @Test // a review: the settler wrote its own "unexpected error" line itself: a log that blocked held every ack after it
    void theSettlersUnexpectedErrorLine_doesNotHoldTheNextAcknowledgements() {
        var queue = InMemoryQueue.standard("orders");
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        var acknowledger = new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                var failed = queue.settle(settlements);
                if (calls.getAndIncrement() > 0) {
                    return failed;
                }
                return new java.util.AbstractList<>() { // a plugin's answer that throws when it is counted the second time
                    private int sizes;

                    @Override
                    public Settlement.Failure get(int index) {
                        throw new IndexOutOfBoundsException(index);
                    }

                    @Override
                    public int size() {
                        if (sizes++ > 0) {
                            throw new IllegalStateException("a plugin's list (injected)");
                        }
                        return 0;
                    }
                };
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        var blocked = new BlockingLog("settler of");
        var listener = Listener.builder(queue, acknowledger, new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().build()).build().start();
        try {
            queue.send("first");
            assertThat(Await.until(Duration.ofSeconds(10), () -> calls.get() == 1)).isTrue();
            queue.send("second");
            assertThat(Await.until(Duration.ofSeconds(10),
                    () -> queue.messages().stream().noneMatch(m -> m.body().equals("second"))))
                    .as("the second acknowledged while the settler's error line waits for the log").isTrue();
        } finally {
            blocked.close();
            listener.stop();
        }
    }

    @Test // a review: the "started" line was written on the thread that called start() (ferry run's main thread, in the
          // runtime's start): with the log's pipe blocked, start() never returned — a stop asked for then never seen, the
          // listeners started polling on until the kill
    void aListenersStart_returnsWhileItsStartedLineWaitsForTheLog() throws Exception {
        var queue = InMemoryQueue.standard("orders");
        var listener = Listener.builder(queue, queue, new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().build()).build();
        try (var blocked = new BlockingLog("listener ''{0}'' started", Level.INFO)) {
            var starting = Thread.ofPlatform().daemon().name("ferry-main-under-test").start(() -> listener.start());
            assertThat(blocked.blocked.await(10, TimeUnit.SECONDS)).as("the started line in its write").isTrue();
            assertThat(starting.join(Duration.ofSeconds(5))).as("start() returned, its line still waiting").isTrue();
            assertThat(listener.isRunning()).isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test // a review: the "stopped" line was written on the thread that called stop() (ferry run's close): with the log's
          // pipe blocked, stop() never returned its report — the close waited out its bound and exited 1, or was killed
          // first, its sources, sinks and ledger unclosed
    void aListenersStop_returnsItsReportWhileItsStoppedLineWaitsForTheLog() throws Exception {
        var queue = InMemoryQueue.standard("orders");
        var listener = Listener.builder(queue, queue, new LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerTest.fast().build()).build().start();
        try (var blocked = new BlockingLog("listener ''{0}'' stopped", Level.INFO)) {
            var report = new AtomicReference<ShutdownReport>();
            var stopping = Thread.ofPlatform().daemon().name("ferry-close-under-test").start(() -> report.set(listener.stop()));
            assertThat(blocked.blocked.await(10, TimeUnit.SECONDS)).as("the stopped line in its write").isTrue();
            assertThat(stopping.join(Duration.ofSeconds(5))).as("stop() returned, its line still waiting").isTrue();
            assertThat(report.get()).as("its report").isNotNull().matches(r -> !r.failed(), "not failed");
        } finally {
            listener.stop();
        }
    }

    /** The listener's lines starting with {@code prefix} wait until closed (a log whose pipe is full). */
    static final class BlockingLog extends Handler implements AutoCloseable {
        private final String prefix;
        /** Counted down as a line starts to wait. */
        final CountDownLatch blocked = new CountDownLatch(1);
        private final CountDownLatch unblock = new CountDownLatch(1);
        private final Logger logger = Logger.getLogger(Listener.class.getName());
        private final Level level = logger.getLevel();

        BlockingLog(String prefix) {
            this(prefix, Level.WARNING); // the tests' logging keeps SEVERE only
        }

        BlockingLog(String prefix, Level from) {
            this.prefix = prefix;
            logger.setLevel(from);
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord r) {
            if (String.valueOf(r.getMessage()).startsWith(prefix)) {
                blocked.countDown();
                try {
                    unblock.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            unblock.countDown();
            logger.removeHandler(this);
            logger.setLevel(level);
        }
    }
}
