package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code ferry queues redrive --native}: starts SQS's own message move task and follows it to its end. The task runs
 * in SQS, not here: a stop (Ctrl-C) cancels it, so that a stopped redrive stops moving, as the other redrive does; a
 * server that cannot be asked about it for {@link #OUTAGE} ends the following, saying the task goes on and how to
 * cancel it. Neither loses a message: what moved stays moved, the rest stays in the DLQ.
 */
final class NativeRedrive {

    private static final Duration POLL = Duration.ofSeconds(1);
    /** How long the task's state may be unreadable (a throttled or unreachable SQS) before the command gives up following. */
    static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final Duration CANCEL_WAIT = Duration.ofSeconds(5);

    private final SqsQueues queues;
    private final String dlqArn;
    private final RedriveProgressLine progress;
    private final String from;
    private final Duration poll;
    private final Duration outage;
    private volatile String handle;
    private volatile boolean over;
    private volatile boolean stopping;
    /** Counted down once the call that starts the task has returned (or failed): a stop during it waits for the handle. */
    private final java.util.concurrent.CountDownLatch startCalled = new java.util.concurrent.CountDownLatch(1);

    NativeRedrive(SqsQueues queues, String dlqArn, RedriveProgressLine progress, String from, Duration poll,
                  Duration outage) {
        this.queues = queues;
        this.dlqArn = dlqArn;
        this.progress = progress;
        this.from = from;
        this.poll = poll;
        this.outage = outage;
    }

    static int follow(SqsQueues queues, String dlqUrl, String dlqArn, String targetArn, int perSecond,
                      RedriveProgressLine progress, String from, String where) throws InterruptedException {
        var redrive = new NativeRedrive(queues, dlqArn, progress, from, POLL, OUTAGE);
        var stop = new Thread(redrive::stopped, "ferry-redrive-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        try {
            return redrive.run(dlqUrl, targetArn, perSecond, where);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stop);
            } catch (IllegalStateException exiting) {
                // the JVM is stopping: the hook runs, and finds the following over
            }
        }
    }

    int run(String dlqUrl, String targetArn, int perSecond, String where) throws InterruptedException {
        try {
            return followed(dlqUrl, targetArn, perSecond, where);
        } finally {
            over = true;
        }
    }

    private int followed(String dlqUrl, String targetArn, int perSecond, String where) throws InterruptedException {
        long startedAt = System.currentTimeMillis();
        Long before = null; // SQS's start of the latest task before ours (MIN_VALUE: none), by SQS's clock
        try {
            before = queues.latestMoveTask(dlqArn).map(SqsQueues.MoveTask::startedAt).orElse(Long.MIN_VALUE);
        } catch (RuntimeException e) { // not answered: ours is told by this host's clock, or as seen running
        }
        long earlierTask = before == null ? Long.MIN_VALUE : before;
        boolean askedBefore = before != null;
        try {
            if (stopping) {
                throw new IllegalStateException("the redrive from " + from + " was stopped before it began");
            }
            handle = queues.startMoveTask(dlqArn, targetArn, perSecond);
        } finally {
            startCalled.countDown();
        }
        long failingSince = 0;
        long[] seenStart = {Long.MIN_VALUE}; // SQS's own start of the task, once seen with its handle
        for (;;) {
            Thread.sleep(poll);
            if (stopping) {
                throw new IllegalStateException("the redrive from " + from + " was stopped");
            }
            SqsQueues.MoveTask t;
            try {
                // SQS lists a finished task without its handle: then it is ours if it started after the one before it,
                // or as ours was seen running — by SQS's clock (this host's, a minute fast, took a finished move for
                // gone). Looked for among the latest few: the newest alone may be one someone started after ours
                // ended, and ours, done, was said gone. Of several, the first to start: SQS runs one at a time
                var tasks = queues.moveTasks(dlqArn);
                t = tasks.stream().filter(task -> handle.equals(task.handle())).findFirst().orElse(null);
                if (t != null) {
                    seenStart[0] = t.startedAt();
                } else {
                    boolean bySqsClock = askedBefore || seenStart[0] != Long.MIN_VALUE;
                    long since = askedBefore ? earlierTask + 1 : bySqsClock ? seenStart[0] : startedAt - 60_000;
                    // told by this host's clock alone (the list before ours failed, ours done before a poll saw it):
                    // the one that started nearest ours. The first to start in the minute before ours was taken: one
                    // another operator started and saw end before ours began, and its FAILED was said as ours
                    java.util.Comparator<SqsQueues.MoveTask> ours = bySqsClock
                            ? java.util.Comparator.comparingLong(SqsQueues.MoveTask::startedAt)
                            : java.util.Comparator.comparingLong(task -> Math.abs(task.startedAt() - startedAt));
                    t = tasks.stream().filter(task -> task.handle() == null && task.startedAt() >= since)
                            .min(ours).orElse(null);
                }
                failingSince = 0;
            } catch (RuntimeException e) {
                long now = System.nanoTime();
                failingSince = failingSince == 0 ? now : failingSince;
                if (now - failingSince < outage.toNanos()) {
                    continue; // a throttled or briefly unreachable SQS: the task goes on there, so ask again
                }
                progress.finish();
                throw new IllegalStateException("could not ask SQS about its move task from " + from + " for "
                        + outage.toSeconds() + " s (" + Printable.of(e.getMessage()) + "); " + goesOn(), e);
            }
            if (t == null) {
                progress.finish();
                throw new IllegalStateException("SQS no longer lists the move task it started from " + from + " (" + handle + ")");
            }
            progress.update(t.moved(), 0);
            if (t.finished()) {
                progress.finish();
                if (!"COMPLETED".equals(t.status())) {
                    throw new IllegalStateException("SQS's move task from " + from + " ended " + t.status() + " after "
                            + t.moved() + " message(s)" + (t.failureReason() != null ? ": " + t.failureReason() : ""));
                }
                // SQS's count is approximate (and ElasticMQ's counts more than it moved): say what the DLQ holds now
                progress.out().println("moved " + t.moved() + " message(s) by SQS's count from " + from + " to " + where
                        + " (SQS's message move task); " + holdsNow(dlqUrl));
                return Ferry.OK;
            }
        }
    }

    /** What the DLQ holds after the move, said; a count that cannot be read (throttled) does not fail a move done. */
    private String holdsNow(String dlqUrl) {
        try {
            return from + " now holds about " + queues.approximateMessages(dlqUrl);
        } catch (RuntimeException e) {
            return "what " + from + " holds now could not be read (" + Printable.of(e.getMessage()) + ")";
        }
    }

    /** The command stopped (Ctrl-C, a stop signal) before the task finished: cancel it, in a bounded time, and say so. */
    void stopped() {
        stopping = true;
        try {
            startCalled.await(CANCEL_WAIT.toMillis(), TimeUnit.MILLISECONDS); // stopped while the task was being started
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String h = handle;
        if (over || h == null) {
            return;
        }
        var out = progress.out();
        var cancel = new CompletableFuture<Long>();
        var canceller = new Thread(() -> {
            try {
                cancel.complete(queues.cancelMoveTask(h));
            } catch (Throwable t) {
                cancel.completeExceptionally(t);
            }
        }, "ferry-redrive-cancel");
        canceller.setDaemon(true);
        canceller.start();
        try {
            long moved = cancel.get(CANCEL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            progress.finish();
            out.println("stopped: SQS's move task from " + from + " cancelled after about " + moved
                    + " message(s) by SQS's count; the rest stay in " + from);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            Throwable why = e instanceof ExecutionException ? e.getCause() : e;
            out.println("stopped following, but could not cancel SQS's move task from " + from + " ("
                    + Printable.of(why instanceof TimeoutException ? "no answer in " + CANCEL_WAIT.toSeconds() + " s"
                            : why.getMessage()) + "); " + goesOn());
        }
        out.flush();
    }

    private String goesOn() {
        return "it goes on in SQS: follow it with `aws sqs list-message-move-tasks --source-arn " + dlqArn
                + "`, or cancel it with `aws sqs cancel-message-move-task --task-handle " + handle + "`";
    }
}
