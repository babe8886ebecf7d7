package dev.ferry.domain.listener;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes log lines on a virtual thread, one write at a time, for a thread the listener cannot do without
 * (the settler, the lease keeper): a log that blocks — stdout backed up, a log driver throttled — must not
 * hold every acknowledgement or every lease. What comes while a write is under way is dropped, not piled up.
 */
final class AsideLog {

    private final String threadName;
    private final AtomicBoolean writing = new AtomicBoolean();

    AsideLog(String threadName) {
        this.threadName = threadName;
    }

    /** Runs {@code log} aside, unless a write is under way; never throws. */
    void write(Runnable log) {
        if (!writing.compareAndSet(false, true)) {
            return;
        }
        try {
            Thread.ofVirtual().name(threadName).start(() -> {
                try {
                    log.run();
                } finally {
                    writing.set(false);
                }
            });
        } catch (Throwable e) { // no thread to be had: the line is lost, the work it tells of is not
            writing.set(false);
        }
    }
}
