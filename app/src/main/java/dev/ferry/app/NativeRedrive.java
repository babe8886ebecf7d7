package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import java.time.Duration;

/** {@code ferry queues redrive --native}: starts SQS's own message move task and follows it to its end. */
final class NativeRedrive {

    private static final Duration POLL = Duration.ofSeconds(1);

    private NativeRedrive() {
    }

    static int follow(SqsQueues queues, String dlqUrl, String dlqArn, String targetArn, int perSecond,
                      RedriveProgressLine progress, String from, String where) throws InterruptedException {
        long startedAt = System.currentTimeMillis();
        String handle = queues.startMoveTask(dlqArn, targetArn, perSecond);
        for (;;) {
            Thread.sleep(POLL);
            // SQS lists a finished task without its handle: then it is ours if it started when ours did
            var task = queues.latestMoveTask(dlqArn).filter(t -> handle.equals(t.handle())
                    || t.handle() == null && t.startedAt() >= startedAt - 60_000);
            if (task.isEmpty()) {
                progress.finish();
                throw new IllegalStateException("SQS no longer lists the move task it started from " + from + " (" + handle + ")");
            }
            var t = task.get();
            progress.update(t.moved(), 0);
            if (t.finished()) {
                progress.finish();
                if (!"COMPLETED".equals(t.status())) {
                    throw new IllegalStateException("SQS's move task from " + from + " ended " + t.status() + " after "
                            + t.moved() + " message(s)" + (t.failureReason() != null ? ": " + t.failureReason() : ""));
                }
                // SQS's count is approximate (and ElasticMQ's counts more than it moved): say what the DLQ holds now
                progress.out().println("moved " + t.moved() + " message(s) by SQS's count from " + from + " to " + where
                        + " (SQS's message move task); " + from + " now holds about " + queues.approximateMessages(dlqUrl));
                return Ferry.OK;
            }
        }
    }
}
