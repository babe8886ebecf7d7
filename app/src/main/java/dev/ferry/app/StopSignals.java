package dev.ferry.app;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * What {@code ferry run} does on SIGTERM or SIGINT: the first asks for a clean stop, one that comes
 * later again exits at once. Each acts before it says so, and says so on a thread of its own: with
 * the log's pipe blocked (a collector that stopped reading), a handler that logged first never
 * acted — neither the stop nor the second signal's exit, only a kill ended the process.
 */
final class StopSignals {

    /** How long after the first stop request a second one exits at once (one sent twice is the same one). */
    static final long SECOND_AFTER_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final CountDownLatch stopRequested;
    private final BooleanSupplier starting;
    private final IntConsumer halt;
    private final Consumer<Runnable> aside;
    private final org.slf4j.Logger log;
    /** When the first stop request came (nanoTime), or {@link #NONE}: one atomic, taken and timed at once. */
    private final AtomicLong firstSignal = new AtomicLong(NONE);
    private static final long NONE = Long.MIN_VALUE;

    /**
     * @param halt  ends the process with a status at once ({@code Runtime.halt})
     * @param aside runs a line's logging where a blocked log cannot hold the signal's thread
     */
    StopSignals(CountDownLatch stopRequested, BooleanSupplier starting, IntConsumer halt, Consumer<Runnable> aside,
                org.slf4j.Logger log) {
        this.log = log;
        this.stopRequested = stopRequested;
        this.starting = starting;
        this.halt = halt;
        this.aside = aside;
    }

    /** For {@code ferry run}: halts the JVM; logs on a virtual thread, waited for a moment at most. */
    static StopSignals of(CountDownLatch stopRequested, BooleanSupplier starting, org.slf4j.Logger log) {
        return new StopSignals(stopRequested, starting, status -> Runtime.getRuntime().halt(status), StopSignals::aMoment, log);
    }

    /**
     * Runs {@code line} on a virtual thread and waits for it a moment at most (a halt after it would cut it off). The
     * thread is named as the caller: the line's {@code [thread]} in the log says whose it is, as when it was said there.
     * One still writing after its moment is kept for {@link #lastLines} to wait on before the exit.
     */
    static void aMoment(Runnable line) {
        var saying = Thread.ofVirtual().name(Thread.currentThread().getName()).start(line);
        try {
            saying.join(Duration.ofMillis(200));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (saying.isAlive()) { // a log that stalls (a slow collector, not one blocked for good) writes it late
            STILL_SAYING.removeIf(t -> !t.isAlive()); // written since: a long run's stalls keep none of them
            STILL_SAYING.add(saying);
        }
    }

    /** Lines said {@link #aMoment aside} that outlived their moment, still in their write. */
    private static final Queue<Thread> STILL_SAYING = new ConcurrentLinkedQueue<>();

    /** How long {@code ferry run}'s exit waits, at most, for the lines said aside that are still in their write. */
    static final Duration LAST_LINES = Duration.ofSeconds(3);

    /**
     * Waits for the lines said aside that are still in their write, {@code budget} at most for all of them together;
     * true when each was written. Before {@code ferry run}'s exit: a log that stalled (not blocked) wrote "could not
     * start", "stopped while starting" or "stopped, but a part did not close" late, and the exit a moment after they
     * were said cut them off — the run ended, and no line said why. Bounded: a pipe blocked for good still exits.
     */
    static boolean lastLines(Duration budget) {
        long end = System.nanoTime() + budget.toNanos();
        boolean interrupted = false;
        try {
            for (Thread saying; (saying = STILL_SAYING.peek()) != null; ) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    if (saying.join(Duration.ofNanos(left))) {
                        STILL_SAYING.remove(saying);
                    }
                } catch (InterruptedException e) { // waited out all the same, the interrupt kept: the exit comes after
                    interrupted = true;
                }
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Signal {@code number} (15 for TERM, 2 for INT) arrived. */
    void received(int number) {
        long now = System.nanoTime();
        long prior = firstSignal.compareAndExchange(NONE, now); // taken and timed in one step: a second signal's thread
        if (prior != NONE) {                                     // never sees it taken without its time (0: "long ago")
            // a second request a moment after the first is the same one sent twice (a wrapper forwarding INT and TERM):
            // only one that comes later means "now" — while starting or stopping: a stop that hangs (a plugin's close)
            // ends only with a kill -9 otherwise, and the operator asked twice
            if (now - prior > SECOND_AFTER_NANOS) {
                say(() -> log.warn("second stop request: exiting now")); // a moment at most: then the exit, said or not
                halt.accept(128 + number);
            }
            return;
        }
        stopRequested.countDown();
        boolean whileStarting = starting.getAsBoolean();
        say(() -> log.info(whileStarting ? "stop requested while starting: stopping once start-up is done (again to "
                + "exit now)" : "stop requested (again to exit now)"));
    }

    private void say(Runnable line) {
        try {
            aside.accept(line);
        } catch (Throwable noThread) { // not said: what the signal asks for is done all the same
        }
    }
}
