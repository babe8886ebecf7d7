package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class IntakeTest {

    @Test
    void aLedgerThatWorksAgain_isReportedWell_whateverTheFailuresAndSuccessesRacedBeforeIt() throws Exception {
        // a failing worker counted its failure, a succeeding one reset the count and cleared the problem, then the
        // failing one wrote its problem: the count 0 and the problem set, which no later success cleared — readiness
        // 503 until the ledger failed again (an HTTP source out of rotation gets nothing that would fail it). A long
        // problem text keeps the failing worker between its count and its problem long enough for the other to pass.
        var intake = new Intake("l", Duration.ofMillis(1), Duration.ofMillis(1), null);
        var stop = new AtomicBoolean();
        var working = new Thread(() -> {
            while (!stop.get()) {
                intake.ledgerWorked();
            }
        });
        working.start();
        try {
            for (int i = 0; i < 20; i++) {
                intake.ledgerFailed("claim", "down ".repeat(400_000));
            }
        } finally {
            stop.set(true);
            working.join(TimeUnit.SECONDS.toMillis(30));
        }

        intake.ledgerWorked(); // the ledger answers again

        assertThat(intake.problems()).extracting(p -> p.substring(0, 40)).isEmpty();
    }

    @Test // a review: without a ledger of the listener's, a handler's ledger failure was said for 5 s after the last, and
          // a delivery tries a failing ledger again up to 10 s apart: a lasting outage read ready half the time
    void withoutALedger_aHandlersLedgerFailureIsSaid_longerThanTheLongestWaitBetweenTries() throws Exception {
        var backoff = dev.ferry.domain.retry.FailureDecision.STORE_BACKOFF;
        long longest = 0;
        var random = new java.util.Random(7);
        for (int attempt = 1; attempt < 64; attempt++) {
            for (int i = 0; i < 100; i++) {
                longest = Math.max(longest, backoff.delay(attempt, random).toNanos());
            }
        }
        assertThat(Intake.SAID_WITHOUT_A_LEDGER_NANOS).as("the longest wait between tries: %s ns", longest)
                .isGreaterThan(longest + TimeUnit.SECONDS.toNanos(1));

        var intake = new Intake("l", Duration.ofMillis(1), Duration.ofMillis(1), null);
        intake.ledgerFailed("mark", "the handler's ledger failed");
        intake.probeLedger(); // the lease keeper's round, at once: still said
        assertThat(intake.problems()).anySatisfy(p -> assertThat(p).contains("the handler's ledger failed"));
    }

    @Test // a review of the fix: the window counted from the last failure said, while the next try's ledger call hung to its
          // bound (30 s configured): "the ledger answers again" each cycle of a lasting outage, readiness flapping
    void withoutALedger_aTryUnderWayAfterTheHandlersLedgerFailed_keepsItSaid_pastTheWindow() {
        var intake = new Intake("l", Duration.ofMillis(1), Duration.ofMillis(1), null);
        intake.ledgerFailed("mark", "the handler's ledger failed");
        intake.ledgerRetryRunning(1); // the next try, its ledger call hanging
        intake.lastLedgerFailureNanos -= Intake.SAID_WITHOUT_A_LEDGER_NANOS + TimeUnit.SECONDS.toNanos(1);
        intake.probeLedger();
        assertThat(intake.problems()).as("still said while the try runs")
                .anySatisfy(p -> assertThat(p).contains("the handler's ledger failed"));
        intake.ledgerRetryRunning(-1); // it ended, and said nothing (an HTTP endpoint out of rotation gets no more)
        intake.probeLedger();
        assertThat(intake.problems()).as("no longer said past the window with none running").isEmpty();
    }

    @Test // a review of the fix: a try held by a sink that hangs (no handler timeout) held the ledger's failure said for good
    void withoutALedger_aTryRunningPastAMinute_noLongerHoldsTheLedgersFailureSaid() {
        var intake = new Intake("l", Duration.ofMillis(1), Duration.ofMillis(1), null);
        intake.ledgerFailed("mark", "the handler's ledger failed");
        intake.ledgerRetryRunning(1);
        intake.lastLedgerFailureNanos -= Intake.SAID_WITHOUT_A_LEDGER_NANOS + TimeUnit.SECONDS.toNanos(1);
        intake.lastLedgerRetryNanos -= Intake.LEDGER_RETRY_SAID_NANOS + TimeUnit.SECONDS.toNanos(1);
        intake.probeLedger();
        assertThat(intake.problems()).as("a try past any ledger call's bound is not the ledger's").isEmpty();
    }

    @Test // a review: the probe read (a peek, a GetItem) while the writes failed (a table out of write capacity):
          // readiness up, "the ledger answers again", the held try failed again "1 in a row" — flapping
    void aLedgerWhoseReadsAnswer_butWhoseWritesAreThrottled_staysNotReady_pastTheProbe() {
        var ledger = new WritesThrottled();
        var intake = new Intake("l", Duration.ofMillis(1), Duration.ofMillis(1), ledger);
        intake.ledgerFailed("claim", "throttled (write capacity exceeded)");
        intake.lastLedgerFailureNanos -= Intake.PROBE_AFTER_NANOS + TimeUnit.SECONDS.toNanos(1);

        intake.probeLedger(); // the lease keeper's round, past the probe's 5 s: asked on a thread of its own

        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(20), () -> {
            var problems = intake.problems();
            return problems.isEmpty() || problems.toString().contains("ledger probe failing");
        })).as("the probe answered").isTrue();
        assertThat(intake.problems()).as("the writes still fail: not ready")
                .anySatisfy(p -> assertThat(p).contains("ledger probe failing"));
        assertThat(ledger.writes.get()).as("the probe wrote").isPositive();
    }

    /** A ledger whose reads answer and whose every write is throttled, as DynamoDB's table out of write capacity. */
    private static final class WritesThrottled implements dev.ferry.domain.idempotency.IdempotencyLedger {

        final java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();

        private RuntimeException throttled() {
            writes.incrementAndGet();
            return new dev.ferry.domain.model.FerryException("throttled (write capacity exceeded, injected)", true);
        }

        @Override
        public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
            throw throttled();
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            throw throttled();
        }

        @Override
        public boolean release(String key, long token) {
            throw throttled();
        }

        @Override
        public boolean extend(String key, long token, Duration lease) {
            throw throttled();
        }

        @Override
        public java.util.Optional<dev.ferry.domain.idempotency.Claim> peek(String key) {
            return java.util.Optional.empty(); // a GetItem: answered
        }
    }

    @Test // a review: each of a burst's Throttled answers doubled the pause, 64 at once paused intake for its longest
    void aBurstOfThrottledAnswers_pausesPollingOnce_notDoubledPerAnswer() {
        var intake = new Intake("l", Duration.ofSeconds(1), Duration.ofSeconds(30), null);
        for (int i = 0; i < 64; i++) {
            intake.throttled(); // a poll's batch, every worker answered Throttled at once
        }
        assertThat(Duration.ofNanos(intake.pausedForNanos())).as("the first pause, not 30 s")
                .isLessThanOrEqualTo(Duration.ofSeconds(1)).isGreaterThan(Duration.ofMillis(500));
    }

    @Test // a review: the burst's check and the pause it set were two steps; answers at the same moment each doubled it
    void aBurstOfThrottledAnswersOnManyThreadsAtOnce_pausesPollingOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            var intake = new Intake("l", Duration.ofSeconds(1), Duration.ofSeconds(30), null);
            var start = new java.util.concurrent.CyclicBarrier(8);
            var threads = new java.util.ArrayList<Thread>();
            for (int t = 0; t < 8; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    intake.throttled();
                }));
            }
            for (var t : threads) {
                t.join(10_000);
            }
            assertThat(Duration.ofNanos(intake.pausedForNanos())).as("round %s: the first pause, not doubled", round)
                    .isLessThanOrEqualTo(Duration.ofSeconds(1));
        }
    }
}
