package dev.ferry.adapters.kafka;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.adapters.kafka.PartitionBuffer.State;
import dev.ferry.domain.transport.Settlement;
import java.util.List;

/**
 * What a settle call that threw partway (an {@code Error}: no memory) had not carried out, and what a poll
 * that threw building its deliveries had handed out ({@link #notDelivered}). The engine
 * counts the whole call failed, to come back when its lease runs out; but Kafka hands nothing out again
 * by lease: a record left out, or marked to come back or to be dead-lettered, stayed so for good — its
 * key stopped, the partition's commits stopped at it, and at last the partition was paused. Runs under
 * the lock of the {@link PartitionBuffers} the records belong to.
 */
final class UnfinishedSettle {

    private UnfinishedSettle() {
    }

    /**
     * Queues again, at once, the records this call marked to come back ({@code comingBack}: not queued
     * yet) or to be dead-lettered ({@code deadLetters}: never written now), and those of {@code all}
     * still out; the ones done or queued again already stay as they are, so none moves twice. Their
     * receive stays counted: the engine had them, as a lease running out counts elsewhere (and a
     * record that keeps failing so still reaches its dead-letter policy). A settlement of {@code all}
     * that cannot be read (what threw, perhaps) is left.
     */
    static void handBack(List<Settlement> all, List<Settlement> comingBack, List<Settlement> deadLetters) {
        for (int i = 0; i < comingBack.size(); i++) {
            giveBack(comingBack.get(i), State.RETURNING);
        }
        for (int i = 0; i < deadLetters.size(); i++) {
            giveBack(deadLetters.get(i), State.DEAD_LETTERING);
        }
        try {
            for (var s : all) {
                giveBack(s, State.OUT);
            }
        } catch (Throwable e) { // the list itself throws: what is past that cannot be known
        }
    }

    /**
     * Queues again records handed out whose deliveries could not be made (an {@code Error} building them), as they
     * were: never handed to the engine, their receive is not counted. Each on its own, as in {@link #giveBack}: one
     * that throws stays out, and the others still go back (one that threw left every record after it out for good,
     * its key stopped and the partition's commits with it); the first failure is thrown after them, later ones
     * suppressed in it.
     */
    static void notDelivered(List<Rec> out) {
        Throwable failed = null;
        // from the last handed out, nothing allocated (it may be the memory that ran out): a key's records went out
        // in offset order, and each one queued again goes to the front of its key's waiting records
        for (int i = out.size() - 1; i >= 0; i--) {
            try {
                var r = out.get(i);
                if (r.state == State.OUT && !r.part.revoked) { // a revoked partition's records are its next owner's
                    r.part.requeue(r, false, 0);
                    r.receives--; // never handed to the engine: not a receive to count against it
                }
            } catch (Throwable e) {
                if (failed == null) {
                    failed = e;
                } else if (e != failed) { // the JVM may throw one OutOfMemoryError object again
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed instanceof Error e) {
            throw e;
        }
        if (failed instanceof RuntimeException e) {
            throw e;
        }
        if (failed != null) {
            throw new IllegalStateException("a record handed out could not be queued again", failed);
        }
    }

    /**
     * Queues {@code s}'s record again when it is still in state {@code from}, under {@code s}'s receive (an earlier
     * receive's settle names a record out again since: queued, it was handed out beside the copy still running); not a
     * revoked partition's (its next owner reads it).
     */
    private static void giveBack(Settlement s, State from) {
        if (s != null && s.delivery().receipt() instanceof Rec r && r.state == from && !r.part.revoked
                && s.delivery().receiveCount() == r.receives) {
            try {
                r.part.requeue(r, false, 0);
            } catch (Throwable e) { // each on its own: the next may find the memory this one did not
            }
        }
    }
}
