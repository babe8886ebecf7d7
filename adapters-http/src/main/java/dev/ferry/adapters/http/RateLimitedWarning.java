package dev.ferry.adapters.http;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * A warning written at most once a period, what came between counted into the next line, and never more than one line
 * being written at once: a log may block (stdout backed up, a log driver throttled), and the thread that writes waits
 * for it. The line is written on the executor given, so that a thread which must not wait (a timer's) need not. A log
 * that throws loses its line, never the caller's work; a heap too short to write one (an OutOfMemoryError) defers it to
 * the next. Thread-safe.
 */
final class RateLimitedWarning {

    private final long everyNanos;
    private final Executor writer;
    private final Supplier<AtomicBoolean> flags;
    private final AtomicLong next = new AtomicLong(System.nanoTime());
    private final AtomicLong unsaid = new AtomicLong();
    private final AtomicBoolean writing = new AtomicBoolean();

    /** A warning at most once every {@code every}, written on {@code writer} ({@code Runnable::run}: the caller's). */
    RateLimitedWarning(Duration every, Executor writer) {
        this(every, writer, AtomicBoolean::new);
    }

    /** With the maker of each line's flag given (a test's, which throws as a heap too short would). */
    RateLimitedWarning(Duration every, Executor writer, Supplier<AtomicBoolean> flags) {
        this.everyNanos = every.toNanos();
        this.writer = writer;
        this.flags = flags;
    }

    /**
     * Counts {@code n} more; when a line is due and none is being written, {@code say} writes it, given these and all
     * counted since the last line. Never throws.
     */
    void count(long n, LongConsumer say) {
        long now = System.nanoTime();
        long due = next.get();
        if (now - due < 0) {
            unsaid.addAndGet(n);
            return;
        }
        AtomicBoolean taken; // said by the task, or counted again here: not both
        try {
            // made before writing is set: made after it, outside any try, an OutOfMemoryError threw out of count (and
            // out of HttpRefusals.count) and left writing set for good, every later line counted and never said
            taken = flags.get();
        } catch (Throwable noHeap) {
            unsaid.addAndGet(n); // said with the next line
            return;
        }
        if (!writing.compareAndSet(false, true)) {
            unsaid.addAndGet(n);
            return;
        }
        if (!next.compareAndSet(due, now + everyNanos)) {
            writing.set(false);
            unsaid.addAndGet(n);
            return;
        }
        long total = unsaid.getAndSet(0) + n;
        try {
            writer.execute(() -> {
                try {
                    if (taken.compareAndSet(false, true)) {
                        say.accept(total);
                    }
                } catch (Throwable logFailing) {
                    // the line is lost; what the caller does goes on
                } finally {
                    writing.set(false);
                }
            });
        } catch (Throwable noThread) { // closing, no thread to be had, no heap for the task: said with the next line
            if (taken.compareAndSet(false, true)) {
                unsaid.addAndGet(total);
                writing.set(false);
            }
        }
    }
}
