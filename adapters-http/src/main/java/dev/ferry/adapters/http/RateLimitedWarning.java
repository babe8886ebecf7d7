package dev.ferry.adapters.http;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A warning written at most once a period, what came between counted into the next line, and never more than one line
 * being written at once: a log may block (stdout backed up, a log driver throttled), and the thread that writes waits
 * for it. The line is written on the executor given, so that a thread which must not wait (a timer's) need not. A log
 * that throws loses its line, never the caller's work. Thread-safe.
 */
final class RateLimitedWarning {

    private final long everyNanos;
    private final Executor writer;
    private final AtomicLong next = new AtomicLong(System.nanoTime());
    private final AtomicLong unsaid = new AtomicLong();
    private final AtomicBoolean writing = new AtomicBoolean();

    /** A warning at most once every {@code every}, written on {@code writer} ({@code Runnable::run}: the caller's). */
    RateLimitedWarning(Duration every, Executor writer) {
        this.everyNanos = every.toNanos();
        this.writer = writer;
    }

    /**
     * Counts {@code n} more; when a line is due and none is being written, {@code say} writes it, given these and all
     * counted since the last line. Never throws.
     */
    void count(long n, LongConsumer say) {
        long now = System.nanoTime();
        long due = next.get();
        if (now - due < 0 || !writing.compareAndSet(false, true)) {
            unsaid.addAndGet(n);
            return;
        }
        if (!next.compareAndSet(due, now + everyNanos)) {
            writing.set(false);
            unsaid.addAndGet(n);
            return;
        }
        long total = unsaid.getAndSet(0) + n;
        var taken = new AtomicBoolean(); // said by the task, or counted again here: not both
        try {
            writer.execute(() -> {
                try {
                    if (taken.compareAndSet(false, true)) {
                        say.accept(total);
                    }
                } catch (RuntimeException | Error logFailing) {
                    // the line is lost; what the caller does goes on
                } finally {
                    writing.set(false);
                }
            });
        } catch (RuntimeException | Error noThread) { // closing, or no thread to be had: said with the next line
            if (taken.compareAndSet(false, true)) {
                unsaid.addAndGet(total);
                writing.set(false);
            }
        }
    }
}
