package dev.ferry.domain.listener;

import java.lang.System.Logger.Level;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes log lines on a virtual thread, one write at a time, for a thread the listener cannot do without
 * (the settler, the lease keeper, the handler watch): a log that blocks — stdout backed up, a log driver
 * throttled — must not hold every acknowledgement or every lease. Lines that come while a write is under
 * way wait their turn, up to {@link #MAX_WAITING}; past that they are counted, and the count is written
 * once the log takes lines again.
 */
final class AsideLog {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    /** Lines waiting for a log that blocks: enough for a burst (two handlers timing out in one round), not a pile. */
    static final int MAX_WAITING = 64;

    private final String threadName;
    private final AtomicBoolean writing = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waitingCount = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();

    AsideLog(String threadName) {
        this.threadName = threadName;
    }

    /** Runs {@code log} aside, after the lines before it; never throws, never blocks. */
    void write(Runnable log) {
        if (waitingCount.incrementAndGet() > MAX_WAITING) {
            waitingCount.decrementAndGet();
            dropped.incrementAndGet();
        } else {
            waiting.add(log);
        }
        startWriter();
    }

    private void startWriter() {
        if (!writing.compareAndSet(false, true)) {
            return; // the writer under way takes it
        }
        try {
            Thread.ofVirtual().name(threadName).start(this::drain);
        } catch (Throwable e) { // no thread to be had: the lines wait for the next write, the work they tell of goes on
            writing.set(false);
        }
    }

    private void drain() {
        do {
            try {
                for (Runnable line; (line = waiting.poll()) != null; ) {
                    waitingCount.decrementAndGet();
                    try {
                        line.run();
                    } catch (Throwable e) { // a line that failed to be written: the next ones still are
                    }
                }
                long lost = dropped.getAndSet(0);
                if (lost > 0) {
                    LOG.log(Level.WARNING, lost + " log line(s) of " + threadName + " dropped while the log was blocked");
                }
            } finally {
                writing.set(false);
            }
        } while ((!waiting.isEmpty() || dropped.get() > 0) && writing.compareAndSet(false, true)); // came after the last look
    }
}
