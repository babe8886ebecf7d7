package dev.ferry.domain.listener;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** A listener's shutdown report, once its stop has ended: handed to every caller that waits for it. */
final class StopReport {

    private final CountDownLatch ended = new CountDownLatch(1);
    private final AtomicReference<ShutdownReport> report = new AtomicReference<>();

    /** The report, or null while the stop has not ended. */
    ShutdownReport get() {
        return report.get();
    }

    boolean ended() {
        return ended.getCount() == 0;
    }

    void publish(ShutdownReport r) {
        report.set(r);
        ended.countDown();
    }

    Optional<ShutdownReport> await(Duration timeout) throws InterruptedException {
        return ended.await(dev.ferry.domain.model.Durations.millis(timeout), TimeUnit.MILLISECONDS) ? Optional.of(report.get())
                : Optional.empty();
    }

    /** Waits for the report of a stop another thread runs (bounded by its deadline); an interrupt is kept, not obeyed. */
    ShutdownReport awaitKeepingInterrupts() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    ended.await();
                    return report.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
