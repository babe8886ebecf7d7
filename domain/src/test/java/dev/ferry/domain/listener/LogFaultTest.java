package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.ForwardingLedger;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the engine logs never decides what happens: a log that blocks (a full pipe) or that throws while it reads
 * what it was given (a throwable whose message cannot be read).
 */
class LogFaultTest {

    private final Logger logger = Logger.getLogger(Listener.class.getName());
    private final Level level = logger.getLevel();
    private Handler handler;
    private Listener listener;

    @AfterEach
    void restore() {
        if (listener != null) {
            listener.stop();
        }
        if (handler != null) {
            logger.removeHandler(handler);
        }
        logger.setLevel(level);
    }

    private void onRecords(Level at, Predicate<LogRecord> which, Runnable doing) {
        handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (which.test(r)) {
                    doing.run();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.setLevel(at);
        logger.addHandler(handler);
    }

    @Test
    void aFailedClaimExtensionsWarning_blockedInTheLog_doesNotKeepTheClaimFromBeingExtendedAgain() {
        // the warning was written on the extension's thread before it let the claim be asked again: with the log blocked
        // the claim was never extended again, and ran out under its handler
        var unblock = new CountDownLatch(1);
        onRecords(Level.WARNING, r -> String.valueOf(r.getMessage()).startsWith("ledger lease extension"), () -> {
            try {
                unblock.await(30, TimeUnit.SECONDS); // the log's pipe is full
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        var extends_ = new AtomicInteger();
        var ledger = new ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean extend(String key, long token, Duration lease) {
                if (extends_.incrementAndGet() == 1) {
                    throw new dev.ferry.domain.model.FerryException("ledger blip (injected)", true);
                }
                return super.extend(key, token, lease);
            }
        };
        var queue = InMemoryQueue.standard("slow");
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            sleep(4_000); // four leases
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().lease(Duration.ofSeconds(1)).build()).build().start();
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(10), () -> extends_.get() >= 2))
                    .as("extended again after the failure: " + extends_.get()).isTrue();
        } finally {
            unblock.countDown();
        }
    }

    @Test
    void anObserverThrowingWhatCannotBePrinted_withDebugOn_doesNotKeepTheSettlementFromGoing() {
        // the observer's guard logged at debug with the throwable; a log reading its message threw out of the guard, and
        // the settlement, told to the observer before it was queued, was never sent
        logger.setLevel(Level.ALL); // debug on
        handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getThrown() != null) {
                    r.getThrown().getMessage(); // as Logback's ThrowableProxy does
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        var observer = new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                throw new IllegalStateException() {
                    @Override
                    public String getMessage() {
                        throw new UnsupportedOperationException("unprintable");
                    }
                };
            }
        };
        var queue = InMemoryQueue.standard("observed");
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.done()).observer(observer)
                .config(ListenerTest.fast().lease(Duration.ofMinutes(5)).build()).build().start();
        queue.send("b");
        assertThat(Await.until(Duration.ofSeconds(10), () -> queue.size() == 0))
                .as("acked, not left in flight for its 5-minute lease: " + listener.stats().line()).isTrue();
    }

    @Test // a review: a throw between the claim and the handler's call left the claim held by the delivery itself
    void aLogThatThrowsRightAfterAClaim_doesNotLeaveTheDeliveryWaitingOnItsOwnClaim() {
        // the ledger's first claim fails; the next one's "answers again" line, logged on the worker after the claim was
        // taken, throws: the step failed with the claim still marked the delivery's, extended by the lease keeper, and
        // every later try found the key held — by itself — for good
        onRecords(Level.INFO, r -> String.valueOf(r.getMessage()).contains("the ledger answers again"), () -> {
            throw new IllegalStateException("log appender failed (injected)");
        });
        var claims = new AtomicInteger();
        var ledger = new ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
                if (claims.incrementAndGet() == 1) {
                    throw new dev.ferry.domain.model.FerryException("ledger blip (injected)", true);
                }
                return super.claim(key, lease);
            }
        };
        var handled = new AtomicInteger();
        var queue = InMemoryQueue.standard("claimed");
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.incrementAndGet();
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().build()).build().start();
        queue.send("c");
        assertThat(Await.until(Duration.ofSeconds(15), () -> handled.get() == 1 && queue.size() == 0))
                .as("handled and acked: handled %s, claims %s, %s", handled.get(), claims.get(), listener.stats().line()).isTrue();
    }

    @Test // a review: a throw past a failed completion (its warning's log) left the claim tracked nowhere: run again
    void aLogThatThrowsAfterAFailedCompletion_doesNotRunTheEventAgain() {
        // the first event's completion fails; the warning that messages wait in hand, logged on the worker, throws: the
        // step failed with the claim neither the handler's, nor the one to complete, nor owed — the next try found the key
        // held by its own lost claim, waited out its lease, claimed it anew and ran the handler again
        onRecords(Level.WARNING, r -> String.valueOf(r.getMessage()).contains("messages wait in hand"), () -> {
            throw new OutOfMemoryError("log appender out of memory (injected)");
        });
        var completions = new AtomicInteger();
        var ledger = new ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (completions.incrementAndGet() == 1) {
                    throw new dev.ferry.domain.model.FerryException("ledger blip (injected)", true);
                }
                return super.complete(key, token, ttl);
            }
        };
        var handled = new java.util.concurrent.ConcurrentHashMap<String, AtomicInteger>();
        var queue = InMemoryQueue.standard("completed");
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.computeIfAbsent(new String(event.payload(), java.nio.charset.StandardCharsets.UTF_8),
                    k -> new AtomicInteger()).incrementAndGet();
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().build()).build().start();
        queue.send("a\nb");
        assertThat(Await.until(Duration.ofSeconds(15), () -> handled.containsKey("b") && queue.size() == 0))
                .as("handled and acked: %s, %s", handled, listener.stats().line()).isTrue();
        assertThat(handled.get("a").get()).as("the first event, whose effect happened once: %s", handled).isEqualTo(1);
    }

    @Test // a review: the ledger's warning, thrown by its log, failed the step: a claim's failure spent an attempt
    void aLogThatThrowsOnTheLedgersWarning_spendsNoAttempt() {
        aLogThatThrowsOn("messages wait in hand");
    }

    @Test // a review of the above: the line that the ledger answers again, thrown by its log, spent one too
    void aLogThatThrowsOnTheLedgerAnsweringAgain_spendsNoAttempt() {
        aLogThatThrowsOn("the ledger answers again");
    }

    /** One claim fails, the log throws on the line containing {@code line}: one attempt allowed, none spent. */
    private void aLogThatThrowsOn(String line) {
        onRecords(Level.INFO, r -> String.valueOf(r.getMessage()).contains(line), () -> {
            throw new IllegalStateException("log appender failed (injected)");
        });
        var claims = new AtomicInteger();
        var ledger = new ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
                if (claims.incrementAndGet() == 1) {
                    throw new dev.ferry.domain.model.FerryException("ledger blip (injected)", true);
                }
                return super.claim(key, lease);
            }
        };
        var dlq = InMemoryQueue.standard("warned-dlq");
        var queue = InMemoryQueue.builder("warned").deadLetterQueue(dlq).build();
        var handled = new AtomicInteger();
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> {
            handled.incrementAndGet();
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().retry(dev.ferry.domain.retry.RetryPolicy.of(1,
                dev.ferry.domain.retry.Backoff.fixed(Duration.ofMillis(1)))).build()).build().start();
        queue.send("d");
        assertThat(Await.until(Duration.ofSeconds(15), () -> queue.size() == 0)).as(listener.stats().line()).isTrue();
        assertThat(dlq.size()).as("one attempt allowed, and a ledger failure is none: %s", listener.stats().line()).isZero();
        assertThat(handled.get()).isEqualTo(1);
    }

    @Test // a review: the failed stop's fallback line threw too, and the stop left before it published its report
    void aLogThatThrowsOnEveryLineOfTheStop_stillPublishesTheReport_andClosesTheSource() throws Exception {
        // the stop's line on the source's failure throws, so it is reported failed; that report's error line throws, and
        // its fallback too: thrown out of the stop, the report was never published, the observer never told, close()
        // skipped the source's close (Kafka's last commit, its leave), and every later stop() (a shutdown hook's) waited
        // for ever. (The stop's closing line threw too, once: it is said aside since, and fails the stop no longer)
        var stopping = new AtomicBoolean();
        onRecords(Level.INFO, r -> stopping.get(), () -> {
            throw new AssertionError("log appender failed (injected)");
        });
        var queue = InMemoryQueue.standard("unlogged");
        var closed = new CountDownLatch(1);
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
            public void stopping() { // said on the stopping thread (SourceStopping), through the log that throws
                throw new IllegalStateException("client already closed (injected)");
            }

            @Override
            public void close() {
                closed.countDown();
            }
        };
        var told = new AtomicReference<ShutdownReport>();
        // not this.listener: before the fix, @AfterEach's stop() waited for ever too
        var unlogged = Listener.builder(source, queue, new LineDecoder(), (event, delivery) -> Outcome.done())
                .closeSourceOnClose(true).observer(new ListenerObserver() {
                    @Override
                    public void stopped(ShutdownReport report) {
                        told.set(report);
                    }
                }).config(ListenerTest.fast().build()).build().start();
        stopping.set(true);
        var thrown = new AtomicReference<Throwable>();
        var first = Thread.ofPlatform().daemon(true).start(() -> {
            try {
                unlogged.close();
            } catch (Throwable e) { // thrown or not: what a later caller meets is the point
                thrown.set(e);
            }
        });
        assertThat(first.join(Duration.ofSeconds(30))).as("the first close() ended").isTrue();
        var report = new AtomicReference<ShutdownReport>();
        var second = Thread.ofPlatform().daemon(true).start(() -> report.set(unlogged.stop()));
        assertThat(second.join(Duration.ofSeconds(5))).as("a later stop() returned (the first threw %s)", thrown.get())
                .isTrue();
        assertThat(report.get()).isNotNull();
        assertThat(report.get().failed()).as("its line on the source's failure threw: %s", report.get()).isTrue();
        assertThat(told.get()).as("the observer was told of the stop").isSameAs(report.get());
        assertThat(closed.getCount()).as("the source was closed").isZero();
    }

    @Test // a review: the dead letters' count, its line thrown by the log at the stop, broke the stop and its fallback
    void aDeadLetterLogThatThrowsOnEveryLine_doesNotBreakTheStop_andTheListenersThreadsEnd() {
        // past a burst of dead letters the rest are counted, said at the stop on its thread: thrown there, the count
        // kept, it threw again in the failed stop's fallback, whose shutdownNow then never ran — the holds' and
        // workers' threads left running, handlers past the deadline never interrupted
        var deadLetters = Logger.getLogger(SettlerLines.LOGGER);
        var deadLettersLevel = deadLetters.getLevel();
        Handler throwing = new Handler() {
            @Override
            public void publish(LogRecord r) {
                throw new IllegalStateException("log appender failed (injected)");
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        deadLetters.setLevel(Level.WARNING); // the tests' root level is SEVERE
        deadLetters.addHandler(throwing);
        deadLetters.setUseParentHandlers(false);
        try {
            var dlq = InMemoryQueue.standard("unlogged-dlq");
            var queue = InMemoryQueue.builder("unlogged-dead-letters").deadLetterQueue(dlq).build();
            int poison = SettlerLines.BURST + 5; // within ten seconds: five left to count
            for (int i = 0; i < poison; i++) {
                queue.send("poison-" + i);
            }
            listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) -> Outcome.reject("poison"))
                    .config(ListenerTest.fast().build()).build().start();
            assertThat(Await.until(Duration.ofSeconds(15), () -> dlq.size() == poison)).as(listener.stats().line())
                    .isTrue();

            ShutdownReport report;
            Throwable thrown = null;
            try {
                report = listener.stop();
            } catch (Throwable e) { // thrown past the fallback too: a later stop() returns the report published
                thrown = e;
                report = listener.stop();
            }

            assertThat(report.failed()).as("%s; the stop threw %s", report, thrown).isFalse();
            var holds = "ferry-" + queue.name() + "-holds";
            assertThat(Await.until(Duration.ofSeconds(5), () -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.isAlive() && t.getName().equals(holds)))).as("the holds' thread ended").isTrue();
        } finally {
            deadLetters.removeHandler(throwing);
            deadLetters.setUseParentHandlers(true);
            deadLetters.setLevel(deadLettersLevel);
        }
    }

    @Test // a review: the stop's line on the owed completions it could not record, thrown by the log, failed the stop
          // before it closed the journal's notes, and the failed stop's fallback left them open too: their writer
          // thread polled for the JVM's life (one a failed stop), and owed dead-letter marks missed their last try
    void aLogThatThrowsOnEveryLineOfTheStop_withACompletionOwed_stillEndsTheJournalsWriter() {
        var stopping = new AtomicBoolean();
        onRecords(Level.INFO, r -> stopping.get(), () -> {
            throw new IllegalStateException("log appender failed (injected)");
        });
        var inner = InMemoryLedger.create();
        class Journaled extends ForwardingLedger implements dev.ferry.domain.idempotency.EventJournal {
            Journaled() {
                super(inner);
            }

            @Override
            public boolean complete(String key, long token, Duration ttl) { // down: owed, and the stop's last try fails
                throw new dev.ferry.domain.model.FerryException("ledger unreachable (injected)", true);
            }

            @Override
            public void note(String key, Note note) {
                inner.note(key, note);
            }

            @Override
            public java.util.Optional<Journal> journal(String key) {
                return inner.journal(key);
            }
        }
        var tries = new AtomicInteger();
        var queue = InMemoryQueue.standard("journaled");
        // the first try fails (noted in the journal: its writer starts), the second is done and its completion owed —
        // no wait in hand: acked
        var config = ListenerTest.fast().holdLimit(Duration.ZERO).lease(Duration.ofSeconds(30)).build();
        listener = Listener.builder(queue, queue, new LineDecoder(), (event, delivery) ->
                        tries.incrementAndGet() == 1 ? Outcome.retry("the first try fails") : Outcome.done())
                .ledger(new Journaled()).config(config).build().start();
        queue.send("e");
        var writer = "ferry-" + queue.name() + "-journal";
        assertThat(Await.until(Duration.ofSeconds(15), () -> listener.stats().acked() >= 1 && alive(writer)))
                .as("acked, its completion owed, its first try noted: %s", listener.stats().line()).isTrue();

        stopping.set(true);
        Throwable thrown = null;
        try {
            listener.stop();
        } catch (Throwable e) { // thrown or not: the writer's end is the point
            thrown = e;
        }

        assertThat(Await.until(Duration.ofSeconds(3), () -> !alive(writer)))
                .as("the journal's writer ended (the stop threw %s)", thrown).isTrue();
    }

    private static boolean alive(String threadName) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().equals(threadName));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
