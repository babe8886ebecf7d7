package dev.ferry.domain.listener;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The brakes on polling, and what they say about the listener's health. A throttled sink and a
 * failing ledger both slow intake (with growing, capped pauses) instead of taking in messages that
 * would only wait; a poll that fails is paced the same way. Thread-safe.
 */
final class Intake {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long MAX_STORE_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final String name;
    private final Duration throttlePause;
    private final Duration maxThrottlePause;
    /** The ledger asked by {@link #probeLedger()}; null when there is none. */
    private final dev.ferry.domain.idempotency.IdempotencyLedger ledger;

    private volatile long pausedUntilNanos;
    private final AtomicInteger consecutiveThrottles = new AtomicInteger();
    /** When the pause the last counted throttle set ends (nanoTime). */
    private volatile long throttledUntilNanos = System.nanoTime();

    private final AtomicInteger consecutiveLedgerFailures = new AtomicInteger();
    private volatile String ledgerProblem;
    private final AtomicLong lastLedgerLogNanos = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);

    private final AtomicInteger consecutivePollFailures = new AtomicInteger();
    private volatile String pollProblem;

    Intake(String name, Duration throttlePause, Duration maxThrottlePause,
           dev.ferry.domain.idempotency.IdempotencyLedger ledger) {
        this.name = name;
        this.throttlePause = throttlePause;
        this.maxThrottlePause = maxThrottlePause;
        this.ledger = ledger;
        this.peeks = ledger != null && asksTheStore(ledger);
    }

    /** Whether the ledger's {@code peek} is its own: the port's default answers "nothing" without asking anything. */
    private final boolean peeks;

    private static boolean asksTheStore(dev.ferry.domain.idempotency.IdempotencyLedger ledger) {
        try {
            return ledger.getClass().getMethod("peek", String.class).getDeclaringClass()
                    != dev.ferry.domain.idempotency.IdempotencyLedger.class;
        } catch (NoSuchMethodException | RuntimeException e) {
            return false;
        }
    }

    /** How long after the last ledger failure, with no ledger call since, the ledger is asked by a probe. */
    static final long PROBE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(5);
    /**
     * Without a ledger of the listener's, how long a handler's ledger failure is said with none since: longer than the
     * longest wait between a delivery's tries of a failing ledger (its store backoff's cap) — at 5 s, a lasting outage
     * was ready half the time, "the ledger answers again" each cycle, its count and intake pause reset.
     */
    static final long SAID_WITHOUT_A_LEDGER_NANOS = 2 * dev.ferry.domain.model.Durations.nanos(
            dev.ferry.domain.retry.FailureDecision.STORE_BACKOFF.max());
    private static final String PROBE_KEY = "p:ferry-readiness-probe"; // no event's or mark's key has this form

    /** When a ledger failure was last reported (a test moves it back, as the last try's start). */
    volatile long lastLedgerFailureNanos;
    /**
     * Handlers running now on a delivery whose last try met its handler's ledger failing: without a ledger of the
     * listener's, none of their calls has answered yet — one hung to its bound (DynamoDB's 10 s, or 30 s configured)
     * outlasted {@link #SAID_WITHOUT_A_LEDGER_NANOS}, and a lasting outage read "the ledger answers again" every cycle.
     */
    private final java.util.concurrent.atomic.AtomicInteger ledgerRetriesRunning = new java.util.concurrent.atomic.AtomicInteger();

    volatile long lastLedgerRetryNanos;
    /**
     * How long a try after a ledger failure holds the failure said: longer than a ledger call's bound (10 s, 30 s
     * configured), not for as long as the try runs — one held by a sink that hangs, with no handler timeout, said the
     * ledger failed for good after it answered again.
     */
    static final long LEDGER_RETRY_SAID_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** A handler begins ({@code +1}) or ended ({@code -1}) a try after its ledger failed. */
    void ledgerRetryRunning(int change) {
        if (change > 0) {
            lastLedgerRetryNanos = System.nanoTime();
        }
        ledgerRetriesRunning.addAndGet(change);
    }
    private final java.util.concurrent.atomic.AtomicBoolean probing = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * While the ledger is reported failing and no ledger call has said otherwise for {@link #PROBE_AFTER_NANOS}, asks
     * it (a write to a key of its own, on a thread of its own: a hung ledger holds no caller) and reports what it
     * answered. Readiness was cleared only by a delivery's own ledger call: a source that holds nothing in hand to try
     * again (an HTTP endpoint, its client answered at once) taken out of rotation for the failure got no request, so
     * made no call, and stayed not ready for good after the ledger came back. Called by the lease keeper's rounds.
     */
    void probeLedger() {
        if (ledger == null && consecutiveLedgerFailures.get() != 0
                && (ledgerRetriesRunning.get() == 0 || System.nanoTime() - lastLedgerRetryNanos >= LEDGER_RETRY_SAID_NANOS)
                && System.nanoTime() - lastLedgerFailureNanos >= SAID_WITHOUT_A_LEDGER_NANOS) {
            // no ledger of the listener's to ask: its handler's (LedgerFailedException) failed, and nothing else says it
            // ended when no event comes done (an HTTP endpoint out of rotation gets none) — said for as long, then not
            ledgerWorked();
            return;
        }
        if (ledger == null || consecutiveLedgerFailures.get() == 0
                || System.nanoTime() - lastLedgerFailureNanos < PROBE_AFTER_NANOS || !probing.compareAndSet(false, true)) {
            return;
        }
        try {
            Thread.ofVirtual().name("ferry-" + name + "-ledger-probe").start(() -> {
                try {
                    if (peeks) {
                        // its peek runs what its claims run first (DynamoDB's layout check, the table owed made); an
                        // extension does not: alone, it took a table of a later layout, every claim refused, as working
                        ledger.peek(PROBE_KEY);
                    }
                    // and a write, as a claim and a completion are: an extension of a claim nobody holds asks the
                    // store, changes nothing (false), and is throttled as any write. A read alone answered while the
                    // writes failed (a table out of write capacity): readiness up, "the ledger answers again", intake
                    // paused 100 ms, the held try failed again "1 in a row" — flapping. A plugin's peek asks nothing
                    ledger.extend(PROBE_KEY, 0, java.time.Duration.ofMillis(1));
                    ledgerWorked();
                } catch (Throwable e) {
                    ledgerFailed("probe", dev.ferry.domain.model.Thrown.describe(e));
                } finally {
                    probing.set(false);
                }
            });
        } catch (Throwable noThread) { // asked again next round
            probing.set(false);
        }
    }

    /**
     * A Throttled outcome: pause polling, longer while throttling goes on — once per pause: the answers of one burst
     * (a poll's batch, every worker's at once) each doubled it, and 64 answers of one moment's 429s paused intake for
     * its longest at once (an HTTP endpoint's every client waited 30 s, events of healthy routes too). Under a lock: the
     * check and the pause it sets were two steps, and answers at the same moment each doubled it.
     */
    synchronized void throttled() {
        long now = System.nanoTime();
        if (throttledUntilNanos - now > 0) {
            return; // the pause this throttling set is still on: the same burst
        }
        int n = consecutiveThrottles.incrementAndGet();
        // saturated: a longest pause of "for ever" threw here on every Throttled, which then counted as the message's failure
        long pause = dev.ferry.domain.model.Durations.nanos(throttlePause);
        int doublings = Math.min(n - 1, 20);
        long grown = pause > Long.MAX_VALUE >> doublings ? Long.MAX_VALUE : pause << doublings;
        long nanos = Math.min(Math.min(dev.ferry.domain.model.Durations.nanos(maxThrottlePause), grown), Long.MAX_VALUE / 4);
        throttledUntilNanos = now + nanos;
        pauseFor(nanos);
    }

    /** How long polling stays paused from now (0 when it is not). */
    long pausedForNanos() {
        return Math.max(0, pausedUntilNanos - System.nanoTime());
    }

    /** A Done outcome: the downstream is keeping up again. */
    void succeeded() {
        if (consecutiveThrottles.get() != 0) {
            consecutiveThrottles.set(0);
        }
        if (ledger == null && consecutiveLedgerFailures.get() != 0) {
            // no ledger of the listener's: the failure was the handler's own (LedgerFailedException, a fan-out's marks),
            // and nothing else would say it ended — an event done says so (its ledger calls answered)
            ledgerWorked();
        }
    }

    /** A ledger call failed: pause intake, say so in a log line at most every 10 s, report not ready. */
    void ledgerFailed(String operation, String problem) {
        int n = consecutiveLedgerFailures.incrementAndGet();
        lastLedgerFailureNanos = System.nanoTime();
        ledgerProblem = "ledger " + operation + " failing (" + n + " in a row): " + problem;
        pauseFor(Math.min(MAX_STORE_PAUSE_NANOS, TimeUnit.MILLISECONDS.toNanos(100) << Math.min(n - 1, 20)));
        long last = lastLedgerLogNanos.get();
        long now = System.nanoTime();
        if (now - last >= LOG_EVERY_NANOS && lastLedgerLogNanos.compareAndSet(last, now)) {
            quietly(() -> LOG.log(Level.WARNING, "listener ''{0}'': {1}; messages wait in hand, nothing is spent or "
                    + "dead-lettered for it, intake is paused while it lasts", name, ledgerProblem));
        }
    }

    /** A ledger call worked: the store is back. */
    void ledgerWorked() {
        if (consecutiveLedgerFailures.get() != 0 && consecutiveLedgerFailures.getAndSet(0) != 0) {
            ledgerProblem = null; // before the log line: one that throws left readiness saying the ledger fails
            quietly(() -> LOG.log(Level.INFO, "listener ''{0}'': the ledger answers again", name));
        }
    }

    /**
     * Writes a log line whose throw (an appender's fault, no memory) must not fail the step that wrote it: a claim's
     * failure spent an attempt, a completion that worked was asked again and called fenced. The line is lost; what it
     * says is on the health check.
     */
    private static void quietly(Runnable line) {
        try {
            line.run();
        } catch (RuntimeException | Error e) {
            // lost
        }
    }

    void pollFailed(String problem) {
        consecutivePollFailures.incrementAndGet();
        pollProblem = problem;
    }

    void pollWorked() {
        if (consecutivePollFailures.get() != 0) {
            consecutivePollFailures.set(0);
            pollProblem = null;
        }
    }

    /** The pause before the next attempt after {@code n} failed polls in a row: 100 ms doubling to 5 s. */
    long pollRetryNanos() {
        int n = Math.max(1, consecutivePollFailures.get());
        return Math.min(TimeUnit.SECONDS.toNanos(5), TimeUnit.MILLISECONDS.toNanos(100) << Math.min(n - 1, 20));
    }

    /** Waits while intake is paused, or until {@code running} turns false. */
    void awaitOpen(BooleanSupplier running) throws InterruptedException {
        long wait;
        while ((wait = pausedUntilNanos - System.nanoTime()) > 0 && running.getAsBoolean()) {
            TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    /** What keeps the listener from being ready, from the intake's side; empty when nothing. */
    List<String> problems() {
        var problems = new ArrayList<String>(2);
        var ledger = ledgerProblem;
        // the count decides, not the text: a failure's text may land after a success reset its count (the text is
        // written after the count), and no success that follows has a count to clear it by
        if (ledger != null && consecutiveLedgerFailures.get() != 0) {
            problems.add(ledger);
        }
        var poll = pollProblem;
        if (poll != null && consecutivePollFailures.get() >= 3) {
            problems.add("polls failing (" + consecutivePollFailures.get() + " in a row): " + poll);
        }
        return problems;
    }

    private synchronized void pauseFor(long nanos) { // with throttled's: a shorter pause set between its two steps won
        long until = System.nanoTime() + Math.min(nanos, Long.MAX_VALUE / 4); // a century and more: for ever, not a wrap
        if (until - pausedUntilNanos > 0) {
            pausedUntilNanos = until;
        }
    }
}
