package dev.ferry.app;

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
     */
    static void aMoment(Runnable line) {
        try {
            Thread.ofVirtual().name(Thread.currentThread().getName()).start(line).join(java.time.Duration.ofMillis(200));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
