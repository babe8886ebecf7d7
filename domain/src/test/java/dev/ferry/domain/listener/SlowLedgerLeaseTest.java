package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.ForwardingLedger;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A ledger slow to answer (throttled, a hung connection) while long handlers run: the transport's
 * leases must still be extended every round, or the messages come back and run a second time.
 */
class SlowLedgerLeaseTest {

    @Test
    void aLedgerThatTakesSecondsToExtendAClaim_doesNotHoldBackTheTransportsLeaseExtensions() {
        var queue = InMemoryQueue.standard("slow-ledger");
        var ledger = new ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean extend(String key, long token, Duration lease) {
                try {
                    Thread.sleep(3_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.extend(key, token, lease);
            }
        };
        Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        Handler slow = (event, delivery) -> {
            runs.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        var listener = Listener.builder(queue, queue, new LineDecoder(), slow).ledger(ledger)
                .config(ListenerTest.fast().lease(Duration.ofSeconds(2)).concurrency(4).build()).build().start();
        try {
            queue.send("a");
            queue.send("b");
            queue.send("c");
            assertThat(Await.until(Duration.ofSeconds(30), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as(listener.stats().line()).isTrue();
            assertThat(runs).as("each run once: the messages never came back").containsOnlyKeys("a", "b", "c")
                    .allSatisfy((key, count) -> assertThat(count.get()).as(key).isEqualTo(1));
        } finally {
            listener.stop();
        }
    }

    @Test // the ledger's "no" was dropped unread: a claim lost mid-handler went unsaid, and asked again every round
    void aClaimTheLedgerWillNotExtend_isCountedAndSaidOnce_andNotAskedAgain() {
        var queue = InMemoryQueue.standard("lost-claim");
        var asked = new AtomicInteger();
        var ledger = new ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean extend(String key, long token, Duration lease) {
                asked.incrementAndGet();
                return false; // its lease ran out before: another worker may hold it
            }
        };
        var log = new CapturedLog();
        var lines = log.lines;
        Handler slow = (event, delivery) -> {
            try {
                Thread.sleep(3_000); // extended every ~0.5 s: five rounds or so
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        var listener = Listener.builder(queue, queue, new LineDecoder(), slow).ledger(ledger)
                .config(ListenerTest.fast().lease(Duration.ofSeconds(1)).build()).build().start();
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(15), () -> listener.stats().acked() == 1)).as(listener.stats().line())
                    .isTrue();
            assertThat(listener.stats().claimsLost()).isEqualTo(1);
            assertThat(asked).as("asked once: lost stays lost").hasValue(1);
            assertThat(lines.stream().filter(l -> l.contains("was lost"))).singleElement().asString()
                    .contains("of 'lost-claim'").contains("another worker may hold it");
            assertThat(listener.stats().line()).contains("claimsLost=1");
        } finally {
            listener.stop();
            log.close();
        }
    }

    @Test // a Kafka partition revoked, an SQS receipt gone stale: the claim was let go with the lease, and the copy ran beside
    void aLeaseTheTransportWillNotExtend_keepsItsLedgerClaim_soTheCopyWaitsAndFindsItDone() {
        var queue = InMemoryQueue.standard("refused");
        copyWaitsForTheClaim(queue, new RefusingExtensions(queue)); // the message goes to whoever polls next
    }

    @Test
    void aLeaseExtensionThatThrows_keepsTheLedgerClaimsAllTheSame_soTheCopyWaitsAndFindsItDone() {
        // a transport unreachable for a while (a plugin's extension throws): the claims were extended only in the loop
        // over the answer, which never ran — they lapsed with the lease, and the copy ran beside the first handler
        var queue = InMemoryQueue.standard("unreachable");
        var throwing = new RefusingExtensions(queue) {
            @Override
            public java.util.List<dev.ferry.domain.model.Delivery> extendLeases(
                    java.util.List<dev.ferry.domain.model.Delivery> deliveries, Duration lease) {
                asked.incrementAndGet();
                throw new dev.ferry.domain.model.FerryException("transport unreachable (injected)", true);
            }
        };
        copyWaitsForTheClaim(queue, throwing);
        assertThat(throwing.asked).as("asked to extend").hasValueGreaterThanOrEqualTo(1);
    }

    /** A handler running three 1 s leases the transport does not extend: its copy must wait on the claim, then find it done. */
    private static void copyWaitsForTheClaim(InMemoryQueue queue, dev.ferry.domain.transport.Acknowledger refusing) {
        var running = new AtomicInteger();
        var runs = new AtomicInteger();
        var overlapped = new java.util.concurrent.atomic.AtomicBoolean();
        Handler slow = (event, delivery) -> {
            runs.incrementAndGet();
            if (running.incrementAndGet() > 1) {
                overlapped.set(true);
            }
            try {
                Thread.sleep(3_000); // three leases
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
            return Outcome.done();
        };
        var listener = Listener.builder(queue, refusing, new LineDecoder(), slow).ledger(InMemoryLedger.create())
                .config(ListenerTest.fast().lease(Duration.ofSeconds(1)).build()).build().start();
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().duplicatesDropped() >= 1))
                    .as("the copy found it done: " + listener.stats().line()).isTrue();
            assertThat(overlapped).as("the copy never ran beside the first").isFalse();
            assertThat(runs).hasValue(1);
        } finally {
            listener.stop();
        }
    }

    @Test
    void anObserverThatBlocksWhenToldOfExtensions_doesNotHoldBackTheLeaseKeeper() {
        // told on the lease keeper's own thread, a plugin's observer that blocked (a metrics push to a server
        // that hangs) stopped every extension after the first: each message came back and ran again
        var queue = InMemoryQueue.standard("slow-observer");
        var release = new java.util.concurrent.CountDownLatch(1);
        var told = new AtomicInteger();
        var observer = new ListenerObserver() {
            @Override
            public void leasesExtended(int count) {
                told.addAndGet(count);
                try {
                    release.await(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        Handler slow = (event, delivery) -> {
            runs.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        };
        var listener = Listener.builder(queue, queue, new LineDecoder(), slow).observer(observer)
                .config(ListenerTest.fast().lease(Duration.ofSeconds(2)).concurrency(4).build()).build().start();
        try {
            queue.send("a");
            queue.send("b");
            assertThat(Await.until(Duration.ofSeconds(30), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as(listener.stats().line()).isTrue();
            assertThat(runs).as("each run once: the messages never came back").containsOnlyKeys("a", "b")
                    .allSatisfy((key, count) -> assertThat(count.get()).as(key).isEqualTo(1));
            release.countDown();
            assertThat(Await.until(Duration.ofSeconds(10), () -> told.get() == listener.stats().leaseExtensions()))
                    .as("every extension told once the observer answers: " + told.get() + " of "
                            + listener.stats().leaseExtensions()).isTrue();
        } finally {
            release.countDown();
            listener.stop();
        }
    }

    @Test
    void aClaimThatAnswersAfterItsLeaseRanOut_isNotRunOn_whileADuplicateTakesTheKey() {
        // a duplicate of one event (two messages, one key): the first claim answered Acquired 2.5 s late, its 2 s lease
        // over; the duplicate had taken the key meanwhile and run, and the first ran as well
        var queue = InMemoryQueue.standard("slow-claim");
        var runs = new AtomicInteger();
        var listener = listen(queue, new SlowClaims(1, lease -> lease.plusMillis(500)), counting(runs), Duration.ofSeconds(2), 4);
        try {
            queue.send("a");
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(30), () -> queue.size() == 0 && queue.inFlightCount() == 0))
                    .as(listener.stats().line()).isTrue();
            assertThat(runs.get()).as("the event handled once: " + listener.stats().line()).isEqualTo(1);
        } finally {
            listener.stop();
        }
    }

    @Test // a review of the check above: a ledger slower than every lease held the message as "claimed elsewhere"
    void aLedgerSlowerThanEveryLease_isReportedAsFailing_andNothingRunsOnAClaimAlreadyOver() {
        var queue = InMemoryQueue.standard("slower-than-leases");
        var runs = new AtomicInteger();
        var listener = listen(queue, new SlowClaims(-1, lease -> lease.plusMillis(300)), counting(runs), Duration.ofSeconds(2), 2);
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().ledgerFailures() >= 2))
                    .as("told as the ledger's failure: " + listener.stats().line()).isTrue();
            assertThat(listener.health().problems()).as("on the health check").anyMatch(p -> p.contains("ledger"));
            assertThat(runs.get()).as("never run on a claim already over").isZero();
        } finally {
            listener.stop();
        }
    }

    @Test // the same review: a claim answered late but within its lease, while the delivery's lease was extended
    void aClaimAnsweredWhileItsDeliverysLeaseWasExtended_isExtendedToMatch_beforeItRuns() {
        var queue = InMemoryQueue.standard("claim-behind-its-lease");
        // past the point the lease keeper extends the delivery
        var ledger = new SlowClaims(1, lease -> lease.multipliedBy(3).dividedBy(4));
        var runs = new AtomicInteger();
        var extensionsBeforeRun = new AtomicInteger(-1);
        Handler counting = (event, delivery) -> {
            extensionsBeforeRun.compareAndSet(-1, ledger.extended.size());
            runs.incrementAndGet();
            return Outcome.done();
        };
        var listener = listen(queue, ledger, counting, Duration.ofSeconds(2), 2);
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(20), () -> queue.size() == 0)).as(listener.stats().line()).isTrue();
            assertThat(runs.get()).isEqualTo(1);
            assertThat(extensionsBeforeRun.get()).as("the claim extended with its delivery before the handler ran")
                    .isGreaterThanOrEqualTo(1);
        } finally {
            listener.stop();
        }
    }

    @Test // a review of the change above: a claim whose extension to match is refused was let go unseen
    void aClaimWhoseExtensionToMatchItsDeliveryIsRefused_isTheLedgersFailure_andDoesNotRun() {
        var queue = InMemoryQueue.standard("claim-not-extended");
        var ledger = new SlowClaims(-1, lease -> lease.multipliedBy(3).dividedBy(4));
        ledger.refuseExtensions = true;
        var runs = new AtomicInteger();
        var listener = listen(queue, ledger, counting(runs), Duration.ofSeconds(2), 2);
        try {
            queue.send("a");
            assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().ledgerFailures() >= 1))
                    .as("told as the ledger's failure: " + listener.stats().line()).isTrue();
            assertThat(listener.health().problems()).as("on the health check").anyMatch(p -> p.contains("ledger"));
            assertThat(runs.get()).as("never run on a claim that was not extended").isZero();
        } finally {
            listener.stop();
        }
    }

    /** An in-memory ledger whose first {@code slow} claims (every one, when negative) answer {@code delay(lease)} late. */
    private static final class SlowClaims extends ForwardingLedger {
        private final AtomicInteger slowLeft;
        private final java.util.function.UnaryOperator<Duration> delay;
        /** Whether every extension is refused (as one of a lease that ran out). */
        volatile boolean refuseExtensions;
        /** The leases of the extensions asked for. */
        final java.util.List<Duration> extended = new java.util.concurrent.CopyOnWriteArrayList<>();

        SlowClaims(int slow, java.util.function.UnaryOperator<Duration> delay) {
            super(InMemoryLedger.create());
            this.slowLeft = new AtomicInteger(slow);
            this.delay = delay;
        }

        @Override
        public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
            var answer = super.claim(key, lease);
            if (slowLeft.getAndUpdate(left -> left > 0 ? left - 1 : left) != 0) {
                try {
                    Thread.sleep(delay.apply(lease).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return answer;
        }

        @Override
        public boolean extend(String key, long token, Duration lease) {
            extended.add(lease);
            return !refuseExtensions && super.extend(key, token, lease);
        }
    }

    private static Handler counting(AtomicInteger runs) {
        return (event, delivery) -> {
            runs.incrementAndGet();
            return Outcome.done();
        };
    }

    private static Listener listen(InMemoryQueue queue, dev.ferry.domain.idempotency.IdempotencyLedger ledger, Handler handler,
                                   Duration lease, int concurrency) {
        return Listener.builder(queue, queue, new LineDecoder(), handler).ledger(ledger)
                .config(ListenerTest.fast().lease(lease).concurrency(concurrency).build()).build().start();
    }
}
