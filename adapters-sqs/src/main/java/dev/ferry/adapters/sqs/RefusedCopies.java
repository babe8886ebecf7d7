package dev.ferry.adapters.sqs;

import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;

/**
 * Copies of a standard queue's refused messages (foreign senders, damaged bodies) to its dead-letter queue, made off
 * the poll — a dead-letter queue slow to answer would hold the receive's good messages, whose leases count from when the
 * poll returns — and at most {@code limit} at once: a slow dead-letter queue and a flood of refusals started a thread
 * per receive, each holding its bodies. Past the limit, a later receive copies them, once their visibility runs out.
 */
final class RefusedCopies {

    private final Executor executor;
    private final Semaphore running;

    RefusedCopies(Executor executor, int limit) {
        this.executor = executor;
        this.running = new Semaphore(limit);
    }

    /**
     * Starts {@code copy} on the executor; runs it on this thread when the executor refuses it (closing) or cannot start
     * it at all (an {@code OutOfMemoryError} when no thread can be had: its place was never given back, and after two
     * such a source copied no refused message again until restarted). False when {@code limit} copies are under way:
     * nothing was run.
     */
    boolean start(Runnable copy) {
        if (!running.tryAcquire()) {
            return false;
        }
        try {
            executor.execute(() -> {
                try {
                    copy.run();
                } finally {
                    running.release();
                }
            });
        } catch (Throwable notStarted) {
            running.release();
            copy.run();
        }
        return true;
    }
}
