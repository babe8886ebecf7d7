package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.spi.FerryPlugin;
import dev.ferry.domain.spi.SinkProvider;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Sink;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop signal acts before it is logged, and is logged aside: with the log's pipe blocked, the handler
 * logged first and never acted — neither the clean stop nor a second signal's exit; only a kill ended it.
 * The run's own lines, from its start to its exit, are said aside too: one said on the run's main thread
 * held it for good, and a stop that had ended exited only by the kill after the grace period (137). A pipe
 * blocks every logger's lines, not Ferry's alone: the listeners' own are said aside as well. And a log that
 * only stalls still gets the run's last lines: the exit waits for them, a while at most.
 */
class StopSignalsTest {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StopSignalsTest.class);

    @Test
    void withTheLogBlocked_theFirstSignalStillAsksForTheStop_andALaterOneStillExits() throws Exception {
        var logBlocked = new CountDownLatch(1);
        // every line waits until the test ends: the log's pipe is full; the signal's thread waits for it a moment
        Consumer<Runnable> blockedLog = line -> StopSignals.aMoment(() -> {
            try {
                logBlocked.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            line.run();
        });
        var stop = new CountDownLatch(1);
        var halted = new AtomicInteger(-1);
        var signals = new StopSignals(stop, () -> false, halted::set, blockedLog, LOG);
        try {
            var first = Thread.ofVirtual().start(() -> signals.received(15));
            assertThat(stop.await(5, TimeUnit.SECONDS)).as("the stop asked for, the log line not yet written").isTrue();
            assertThat(first.join(Duration.ofSeconds(5))).as("the signal's thread free again").isTrue();

            Thread.sleep(Duration.ofNanos(StopSignals.SECOND_AFTER_NANOS).toMillis() + 200);
            var second = Thread.ofVirtual().start(() -> signals.received(2));
            assertThat(second.join(Duration.ofSeconds(5))).as("the second signal's thread returned").isTrue();
            assertThat(halted).as("halted with 128 + SIGINT, the line unsaid").hasValue(130);
        } finally {
            logBlocked.countDown();
        }
    }

    @Test
    void aSecondSignalAMomentAfterTheFirst_isTheSameOneSentTwice_notAnExit() {
        var stop = new CountDownLatch(1);
        var halted = new AtomicInteger(-1);
        var signals = new StopSignals(stop, () -> true, halted::set, Runnable::run, LOG);
        signals.received(15);
        signals.received(2); // a wrapper forwarding INT and TERM
        assertThat(stop.getCount()).isZero();
        assertThat(halted).as("not halted").hasValue(-1);
    }

    @Test // a review: the first signal's thread took "first", then noted its time; a second signal's thread in between read
          // no time (0), took it for a signal long ago, and halted — two signals at once (INT and TERM from a wrapper, each
          // on a thread of its own)
    void twoSignalsAtOnce_areTheSameOneSentTwice_neverAnExit() throws Exception {
        var halts = new AtomicInteger();
        for (int round = 0; round < 5_000 && halts.get() == 0; round++) {
            var signals = new StopSignals(new CountDownLatch(1), () -> false, status -> halts.incrementAndGet(), line -> { },
                    LOG);
            var together = new java.util.concurrent.CyclicBarrier(2);
            var other = Thread.ofPlatform().start(() -> {
                await(together);
                signals.received(2);
            });
            await(together);
            signals.received(15);
            assertThat(other.join(Duration.ofSeconds(5))).isTrue();
        }
        assertThat(halts).as("two signals at once are one stop request, not an exit").hasValue(0);
    }

    @Test // a review: `ferry run`'s last flush of its output waited for the stream's lock, held by a log line stuck in its
          // write to a pipe that stopped draining (a log driver that blocks): the stop done, the exit never came
    void ferryRun_withItsOutputStuckInAWrite_stillReturns(@TempDir Path dir) throws Exception {
        var drained = new CountDownLatch(1);
        var inItsWrite = new CountDownLatch(1);
        var pipe = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) {
                inItsWrite.countDown();
                awaitQuietly(drained); // the pipe does not take it
            }
        };
        var stdout = new PrintStream(pipe, true, StandardCharsets.UTF_8);
        var logLine = Thread.ofPlatform().daemon().start(() -> stdout.println("a log line the pipe does not take"));
        try {
            assertThat(inItsWrite.await(5, TimeUnit.SECONDS)).as("the line in its write, the stream's lock held").isTrue();
            // a configuration that is not there: `run` ends at once, and only the flush is left between it and the exit
            var run = onItsOwnThread(() -> Ferry.run(new String[] {"run", "-c", dir.resolve("missing.yaml").toString()},
                    stdout, new ByteArrayOutputStream(), name -> null));

            assertThat(run).as("returned, the pipe still taking nothing").succeedsWithin(Duration.ofSeconds(10))
                    .isEqualTo(Ferry.USAGE);
            assertThat(logLine.isAlive()).as("the log line still in its write").isTrue();
        } finally {
            drained.countDown();
        }
    }

    @Test // a review: "could not start" and "stopped while starting" were said on the run's main thread: with the log's pipe
          // blocked, the run neither exited 1 nor 0 — a clean stop during the start ended by a kill
    void aStartThatFails_orIsStopped_withTheLogBlocked_stillEndsTheRun() throws Exception {
        try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            var failing = FerryAppIT.runtime(config(RunParts.freePort(), taken.getLocalPort())); // read before the log blocks
            var stopping = FerryAppIT.runtime(config(RunParts.freePort(), taken.getLocalPort()));
            var stopAsked = new CountDownLatch(1);
            stopAsked.countDown();
            try (var log = new StuckLog(line -> true)) {
                var failed = onItsOwnThread(() -> RunCommands.Run.untilStopped(failing, new CountDownLatch(1),
                        new AtomicBoolean(true)));
                assertThat(failed).as("the admin port is taken").succeedsWithin(Duration.ofSeconds(20))
                        .isEqualTo(Ferry.FAILED);

                var stopped = onItsOwnThread(() -> RunCommands.Run.untilStopped(stopping, stopAsked, new AtomicBoolean(true)));
                assertThat(stopped).as("a stop asked for while starting").succeedsWithin(Duration.ofSeconds(20))
                        .isEqualTo(Ferry.OK);

                assertThat(log.waiting()).as("both lines still waiting in their write")
                        .anyMatch(line -> line.startsWith("could not start"))
                        .anyMatch(line -> line.startsWith("stopped while starting"));
            }
        }
    }

    @Test // a review: with the log's pipe blocked, the start held on its "health on" line inside start() (a stop asked for
          // then never seen), and the close's "stopped" line held its listener's close past the bound: a clean stop
          // exited 1, or was killed. A second review: the pipe blocks every logger, and the listener's own "started" and
          // "stopped" lines, said on the threads that started and stopped it, held both the same way
    void aRunWithTheLogBlockedFromItsFirstLine_startsAndStopsWhole() throws Exception {
        var stop = new CountDownLatch(1);
        var starting = new AtomicBoolean(true);
        var runtime = FerryAppIT.runtime(config(RunParts.freePort(), RunParts.freePort())); // read before the log blocks
        try (var log = new StuckLog(line -> true)) {
            var run = onItsOwnThread(() -> RunCommands.Run.untilStopped(runtime, stop, starting));
            try {
                assertThat(Await.until(Duration.ofSeconds(20), () -> !starting.get())).as("the start over").isTrue();
                assertThat(run).as("started, not failed: it waits for the stop").isNotDone();
                assertThat(runtime.listeners()).as("the listener started").hasSize(1);

                stop.countDown();

                assertThat(run).as("stopped, every part closed").succeedsWithin(Duration.ofSeconds(20)).isEqualTo(Ferry.OK);
                assertThat(log.waiting()).as("the lines still waiting in their write")
                        .anyMatch(line -> line.startsWith("health on http://127.0.0.1:"))
                        .anyMatch(line -> line.startsWith("listener 'in' started: "))
                        .anyMatch(line -> line.startsWith("listening on '"))
                        .anyMatch(line -> line.startsWith("stopping (signal received)"))
                        .anyMatch(line -> line.startsWith("stopped '"));
            } finally {
                stop.countDown(); // a run that failed the test above still closes what it opened
            }
        }
    }

    @Test // a review: "stopped, but a part did not close ..." was said on the run's main thread: with the log's pipe blocked
          // there, the run's exit 1 never came
    void aStopThatDidNotCloseWhole_withTheLogBlockedAtItsLastLine_stillExits1() throws Exception {
        var runtime = withASinkWhoseCloseFails(RunParts.freePort(), "off");
        var stopAsked = new CountDownLatch(1);
        stopAsked.countDown(); // before the start: the sources are not started, the sink is closed all the same
        try (var log = new StuckLog(line -> line.startsWith("stopped, but"))) {
            var run = onItsOwnThread(() -> RunCommands.Run.untilStopped(runtime, stopAsked, new AtomicBoolean(true)));

            assertThat(run).as("the sink's close failed: not whole").succeedsWithin(Duration.ofSeconds(20))
                    .isEqualTo(Ferry.FAILED);
            assertThat(log.waiting()).as("the last line still waiting in its write").singleElement().asString()
                    .startsWith("stopped, but a part did not close");
        }
    }

    @Test // a review: a stop asked for while the listeners started (a signal that came as one's start waited on the log)
          // started every one after it all the same, each taking messages only for the close to give them back
    void aStopAskedWhileTheListenersStart_startsNoneAfterIt() throws Exception {
        var runtime = FerryAppIT.runtime(RunParts.config("""
                ledger:
                  kind: memory
                sources:
                  first:
                    http: {listen: "127.0.0.1:%d", auth: none}
                    format: raw
                  second:
                    http: {listen: "127.0.0.1:%d", auth: none}
                    format: raw
                sinks:
                  log: {type: log}
                routes:
                  - to: [log]
                admin:
                  listen: off
                stats-every: off
                """.formatted(RunParts.freePort(), RunParts.freePort())));
        try {
            runtime.start(() -> !runtime.listeners().isEmpty()); // asked the moment the first listener is started

            assertThat(runtime.listeners()).as("the first started, the second not").hasSize(1);
        } finally {
            runtime.close();
        }
    }

    @Test // a review: with a log that stalls (a slow collector, not a pipe blocked for good), "could not start" was still in
          // its write after its moment and the last flush's, and the exit cut it off: the run ended, no line saying why
    void aStartThatFails_withALogThatStalls_isToldWhyBeforeTheRunsLastCallReturns() throws Exception {
        try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            var failing = FerryAppIT.runtime(config(RunParts.freePort(), taken.getLocalPort())); // read before the log stalls
            try (var log = new StallingLog(Duration.ofSeconds(1))) {
                var run = onItsOwnThread(() -> { // as `ferry run`'s main: the run, its last lines waited for, then the exit
                    int code = RunCommands.Run.untilStopped(failing, new CountDownLatch(1), new AtomicBoolean(true));
                    StopSignals.lastLines(StopSignals.LAST_LINES);
                    return code;
                });

                assertThat(run).as("the admin port is taken").succeedsWithin(Duration.ofSeconds(30)).isEqualTo(Ferry.FAILED);
                assertThat(log.written()).as("written before the exit comes")
                        .anyMatch(line -> line.startsWith("could not start"));
            }
        }
    }

    @Test // a last look: a start that failed after a stop was asked exited 0 ("a clean stop") without asking whether what
          // had started closed whole — a sink whose last flush failed, or a listener that had started, lost to the exit 0
    void aStartThatFailsAfterAStopWasAsked_whoseCloseWasNotWhole_exits1_sayingSo() throws Exception {
        try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            var runtime = withASinkWhoseCloseFails(RunParts.freePort(), "\"127.0.0.1:" + taken.getLocalPort() + "\"");
            var stopAsked = new CountDownLatch(1);
            stopAsked.countDown();
            try (var log = new StallingLog(Duration.ZERO)) {
                int code = RunCommands.Run.untilStopped(runtime, stopAsked, new AtomicBoolean(true));

                assertThat(code).as("the admin port taken, the sink's close failed: not whole").isEqualTo(Ferry.FAILED);
                assertThat(StopSignals.lastLines(Duration.ofSeconds(5))).as("every line written").isTrue();
                assertThat(log.written()).anyMatch(line -> line.startsWith("stopped while starting"))
                        .anyMatch(line -> line.startsWith("stopped, but a part did not close"));
            }
        }
    }

    @Test // a last look: the JVM asked to end otherwise (SIGHUP) ran the hook's close alone — a close not whole was said by
          // no one (the main thread, woken too, is cut off once the hooks are done), nor were the lines aside waited for
    void theShutdownHook_saysACloseNotWhole_once_thoughTheMainThreadFindsItToo() throws Exception {
        var runtime = withASinkWhoseCloseFails(RunParts.freePort(), "off");
        var stop = new CountDownLatch(1);
        var starting = new AtomicBoolean(true);
        var told = new AtomicBoolean();
        try (var log = new StallingLog(Duration.ZERO)) {
            var run = onItsOwnThread(() -> RunCommands.Run.untilStopped(runtime, stop, starting, told));
            try {
                assertThat(Await.until(Duration.ofSeconds(20), () -> !starting.get())).as("the start over").isTrue();
                assertThat(runtime.listeners()).as("the listener started").hasSize(1);

                RunCommands.Run.onShutdown(runtime, stop, told); // as the JVM's hook: its close first, then the main's

                assertThat(log.written()).as("said by the hook, before it returns")
                        .anyMatch(line -> line.startsWith("stopped, but a part did not close"));
                assertThat(run).succeedsWithin(Duration.ofSeconds(20)).isEqualTo(Ferry.FAILED);
                assertThat(StopSignals.lastLines(Duration.ofSeconds(5))).isTrue();
                assertThat(log.written()).as("said once").filteredOn(line -> line.startsWith("stopped, but")).hasSize(1);
            } finally {
                stop.countDown();
                runtime.close();
            }
        }
    }

    /** A runtime (not started) of an HTTP source on {@code ingestPort} to a plugin's sink whose close throws. */
    private static FerryRuntime withASinkWhoseCloseFails(int ingestPort, String admin) {
        SinkProvider lastFlushFails = settings -> {
            settings.string("port", null);
            return context -> new Sink() {
                @Override
                public String name() {
                    return "loud";
                }

                @Override
                public dev.ferry.domain.handle.Outcome publish(dev.ferry.domain.model.Event event) {
                    return dev.ferry.domain.handle.Outcome.done();
                }

                @Override
                public void close() {
                    throw new IllegalStateException("its last flush failed (injected)");
                }
            };
        };
        var built = FerryComponent.builtIn().adapters();
        var adapters = Adapters.merge(built.sources(), built.sinks(), built.ledgers(), List.of(new Plugins.Loaded(
                new FerryPlugin() {
                    @Override
                    public Map<String, SinkProvider> sinks() {
                        return Map.of("plugged", lastFlushFails);
                    }
                }, "p.jar")));
        var read = ConfigReader.parse("ferry.yaml", """
                ledger: {kind: memory}
                sources:
                  in: {http: {listen: "127.0.0.1:%d", auth: none}, format: raw}
                sinks:
                  loud: {type: plugged, port: 1}
                routes:
                  - to: [loud]
                admin:
                  listen: %s
                stats-every: off
                """.formatted(ingestPort, admin), name -> null, adapters);
        assertThat(read).as(String.valueOf(read)).isInstanceOf(ConfigReader.Result.Ok.class);
        return FerryAppIT.runtime(((ConfigReader.Result.Ok) read).config());
    }

    /** An HTTP source on {@code ingestPort}, its events to a log sink; the admin endpoint on {@code adminPort}. */
    private static FerryConfig config(int ingestPort, int adminPort) {
        return RunParts.config("""
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
                  listen: "127.0.0.1:%d"
                stats-every: off
                """.formatted(ingestPort, adminPort));
    }

    /** {@code run} on a thread of its own, as `ferry run`'s main thread: the test waits for its end a bounded time. */
    private static FutureTask<Integer> onItsOwnThread(Callable<Integer> run) {
        var task = new FutureTask<>(run);
        Thread.ofPlatform().daemon().name("ferry-main-under-test").start(task);
        return task;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A log on the root logger, as the console that writes to standard output is: every logger's lines come to it (a pipe
     * blocks them all, not Ferry's alone), Ferry's and the listener's at INFO whatever levels an earlier test left.
     * Unsynchronized: lines waiting on a monitor would each hold a virtual thread's carrier, and the run's own virtual
     * threads would not run.
     */
    private abstract static class PipeLog extends UnsynchronizedAppenderBase<ILoggingEvent> implements AutoCloseable {
        private static final List<String> AT_INFO = List.of(org.slf4j.Logger.ROOT_LOGGER_NAME, "ferry",
                dev.ferry.domain.listener.Listener.class.getName());
        private final Map<String, Level> levelsBefore = new HashMap<>(); // null: the logger's level inherited
        private final ch.qos.logback.classic.Logger root = logger(org.slf4j.Logger.ROOT_LOGGER_NAME);

        /** Attached last in each subclass's constructor: a line that came earlier would find its fields unset. */
        final void attach() {
            start();
            for (String name : AT_INFO) {
                var logger = logger(name);
                levelsBefore.put(name, logger.getLevel());
                logger.setLevel(Level.INFO);
            }
            root.addAppender(this);
        }

        private static ch.qos.logback.classic.Logger logger(String name) {
            return (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(name);
        }

        @Override
        public void close() {
            root.detachAppender(this);
            levelsBefore.forEach((name, level) -> logger(name).setLevel(level));
            stop();
        }
    }

    /**
     * Standard output with its pipe blocked from the first line {@code from} accepts: that line and every later one wait
     * in their write until {@link #close()}, as a write to a stdout pipe that stopped draining waits.
     */
    private static final class StuckLog extends PipeLog {
        private final Predicate<String> from;
        private final AtomicBoolean blocked = new AtomicBoolean();
        private final CountDownLatch drained = new CountDownLatch(1);
        private final List<String> waiting = new CopyOnWriteArrayList<>();

        StuckLog(Predicate<String> from) {
            this.from = from;
            attach();
        }

        @Override
        protected void append(ILoggingEvent event) {
            if (!runOrListener(event)) {
                return;
            }
            String line = event.getFormattedMessage();
            if (from.test(line)) {
                blocked.set(true);
            }
            if (!blocked.get()) {
                return;
            }
            waiting.add(line);
            try {
                awaitQuietly(drained);
            } finally {
                waiting.remove(line);
            }
        }

        /**
         * Whether {@code event} is a line of the run's or of a listener's own: those these tests are about, let wait. A line
         * another part says on the thread that opens it — the HTTP source's "listening on" (HttpSource.start), the
         * OpenTelemetry API's own when it first looks for an SDK — still holds the run's start where a real pipe blocks;
         * let through here, a wedge of its own, said where the run's faults are listed.
         */
        private static boolean runOrListener(ILoggingEvent event) {
            return event.getLoggerName().equals("ferry") || event.getLoggerName().startsWith("dev.ferry.domain.listener.");
        }

        /** The lines waiting in their write now. */
        List<String> waiting() {
            return List.copyOf(waiting);
        }

        @Override
        public void close() {
            drained.countDown();
            super.close();
        }
    }

    /**
     * Standard output read by a collector that stalls: each line takes {@code each} to write, one at a time, as a pipe
     * takes them. A lock, not a monitor: a line waiting for it must not hold a virtual thread's carrier.
     */
    private static final class StallingLog extends PipeLog {
        private final Duration each;
        private final java.util.concurrent.locks.ReentrantLock pipe = new java.util.concurrent.locks.ReentrantLock();
        private final List<String> written = new CopyOnWriteArrayList<>();

        StallingLog(Duration each) {
            this.each = each;
            attach();
        }

        @Override
        protected void append(ILoggingEvent event) {
            pipe.lock();
            try {
                Thread.sleep(each);
                written.add(event.getFormattedMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                pipe.unlock();
            }
        }

        /** The lines written so far. */
        List<String> written() {
            return List.copyOf(written);
        }
    }

    private static void await(java.util.concurrent.CyclicBarrier barrier) {
        try {
            barrier.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
