package dev.ferry.adapters.kafka;

import dev.ferry.domain.model.Thrown;
import java.util.concurrent.TimeUnit;

/**
 * Offset commits failing in a row, for the source's health. They showed only as a warning every 10 s: an offsets
 * partition under its in-sync minimum, a coordinator that keeps refusing, left a source ready while nothing it
 * finished was committed — every such record read again by the next owner of its partition, after a rebalance or a
 * restart. Past {@link #patienceNanos} of failing, the source names it as a problem (not ready) until one works.
 */
final class CommitHealth {

    /** How long commits may fail before the source is not ready: a coordinator moving takes seconds. */
    static volatile long patienceNanos = TimeUnit.MINUTES.toNanos(1);

    private final String name;
    private volatile long failingSince; // System.nanoTime() of the first failure in a row; 0 while commits work
    private volatile String lastFailure;

    CommitHealth(String name) {
        this.name = name;
    }

    void failed(Throwable e) {
        lastFailure = Thrown.describe(e);
        if (failingSince == 0) {
            long now = System.nanoTime();
            failingSince = now == 0 ? 1 : now;
        }
    }

    void worked() {
        failingSince = 0;
    }

    boolean failing() {
        return failingSince != 0;
    }

    /** Null while commits work, or have failed for less than the patience. */
    String problem() {
        long since = failingSince;
        long failing = System.nanoTime() - since;
        if (since == 0 || failing < patienceNanos) {
            return null;
        }
        return "Kafka source '" + name + "': offset commits have failed for " + TimeUnit.NANOSECONDS.toSeconds(failing)
                + " s (last: " + lastFailure + "); the records finished since are read again by the next owner of "
                + "their partitions";
    }
}
