package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (or SIGTERM) during {@code ferry queues redrive}: the run ends after the batch in hand — copied and deleted —
 * or in a paced wait, and the exit waits for that. Without it the JVM stopped wherever the run was: between a batch's
 * copies and their deletes up to ten messages were left in both queues, and the next run sent them again.
 */
final class RedriveStop {

    private final Duration patience;
    private final String from;
    private final CountDownLatch over = new CountDownLatch(1);
    private volatile boolean stopping;

    private volatile Thread hook;

    RedriveStop(String from, Duration patience) {
        this.from = from;
        this.patience = patience;
    }

    /**
     * A stop run by the JVM's exit (Ctrl-C, SIGTERM), until {@link #over}: it waits for the batch in hand, and says on
     * {@code err} when it could not wait for it.
     */
    static RedriveStop onExit(String from, Duration patience, java.io.PrintWriter err) {
        var stop = new RedriveStop(from, patience);
        stop.hook = new Thread(() -> {
            if (!stop.stop()) {
                err.println("ferry: the redrive from " + from + " did not end its batch within " + patience.toSeconds()
                        + " s (SQS slow to answer): up to ten messages of it may be both copied and still in " + from);
                err.flush();
            }
        }, "ferry-redrive-stop");
        Runtime.getRuntime().addShutdownHook(stop.hook);
        return stop;
    }

    /** {@code progress}, ended by a stop after the batch it is told of. */
    SqsQueues.RedriveProgress around(SqsQueues.RedriveProgress progress) {
        return new SqsQueues.RedriveProgress() {
            @Override
            public void update(int moved, int failed) {
                progress.update(moved, failed);
                if (stopping) {
                    throw new IllegalStateException("the redrive from " + from + " was stopped after the batch in hand "
                            + "(copied and deleted): nothing is in both queues; run it again to move the rest");
                }
            }

            @Override
            public boolean stopping() {
                return stopping;
            }
        };
    }

    /** The shutdown hook's work: asks the run to end, and waits up to the patience for it. False when it had not. */
    boolean stop() {
        stopping = true;
        try {
            return over.await(patience.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether a stop was asked for. */
    boolean asked() {
        return stopping;
    }

    /** The run ended (returned or threw) and said so: a stop waiting for it goes on, and the exit no longer runs one. */
    void over() {
        over.countDown();
        var registered = hook;
        if (registered != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(registered);
            } catch (IllegalStateException exiting) { // the JVM is stopping: the hook runs, and finds the run over
            }
        }
    }
}
