package dev.ferry.adapters.sqs;

import java.time.Duration;

/**
 * {@code max-wait: 0s} (short polls) of an idle queue: SQS answers at once, and a listener that would wait for messages
 * asked again at once — a poller went round without a pause, tens of paid receives a second each. The poll waits a
 * moment before it answers "nothing": 10 ms, doubling to 1 s while the receives stay empty, never past the wait the
 * listener asked for (as the listener pauses its own short polls).
 */
final class IdleShortPolls {

    /** Empty short polls in a row, per poller thread. */
    private final ThreadLocal<Integer> inARow = ThreadLocal.withInitial(() -> 0);

    /** After a receive: {@code emptyAtOnce} when it used no wait and found nothing, while the listener asked for {@code maxWait}. */
    void after(boolean emptyAtOnce, Duration maxWait) {
        if (!emptyAtOnce || maxWait.isZero()) {
            inARow.set(0); // the listener's own short polls (its poll wait 0) are paused by the listener
            return;
        }
        int n = inARow.get();
        inARow.set(n + 1);
        long pause = Math.min(Math.min(1_000, 10L << Math.min(n, 7)), maxWait.toMillis());
        try {
            Thread.sleep(pause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // a stop: the poll answers at once
        }
    }
}
