package dev.ferry.adapters.kafka;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.adapters.kafka.PartitionBuffer.State;
import dev.ferry.domain.model.Delivery;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * What a partition's going means for the records of it in hand: which are no longer ours, and the dead letters under
 * way that its last commit waits for. Reads and waits under the buffers' lock.
 */
final class Revocations {

    /**
     * How long a revocation waits for its partitions' dead letters under way before its last commit: the rebalance waits
     * as long, as it does for the commit (10 s).
     */
    static final Duration DEAD_LETTERS_WAITED = Duration.ofSeconds(10);

    private Revocations() {
    }

    /** Of {@code deliveries}, those no longer ours: not from here, settled, or of a revoked partition. */
    static List<Delivery> notOurs(PartitionBuffers buffers, List<Delivery> deliveries) {
        buffers.lock.lock();
        try {
            return deliveries.stream()
                    .filter(d -> !(d.receipt() instanceof Rec r) || r.part.revoked
                            || (r.state != State.OUT && r.state != State.DEAD_LETTERING))
                    .toList();
        } finally {
            buffers.lock.unlock();
        }
    }

    /**
     * Waits up to {@code nanos} while records of {@code revoking} are being dead-lettered, so that the commit after it
     * passes those written. Revoked with the write under way, a dead letter was confirmed to the engine and not
     * committed: the next owner read the record again and ran it after its key's later records, a copy of it in the
     * dead-letter topic besides. On the consumer thread, in the rebalance; the writes are the settlers' (a producer's),
     * and each one ending wakes this wait.
     */
    static void awaitDeadLetters(PartitionBuffers buffers, Collection<TopicPartition> revoking, long nanos) {
        long end = System.nanoTime() + nanos;
        buffers.lock.lock();
        try {
            long left;
            while ((left = end - System.nanoTime()) > 0 && deadLettering(buffers, revoking)) {
                try {
                    buffers.available.awaitNanos(left);
                } catch (InterruptedException stray) { // a plugin's: nothing of Ferry's interrupts this thread
                }
            }
            // from here to the drop, a dead letter asked is refused and no attempt starts (ours): taken during the last
            // commit (a slow coordinator's seconds), it was confirmed while the commit stayed below it, and the next owner
            // ran it again
            for (var tp : revoking) {
                var part = buffers.part(tp);
                if (part != null) {
                    part.revoking = true;
                }
            }
        } finally {
            buffers.lock.unlock();
        }
    }

    /**
     * Whether {@code r} is still ours to run (a retry, its key's next record): not once its partition went, nor from its
     * revocation's last commit on. Ours then, its dead letter was refused for the commit, yet its key's next record ran
     * here; the next owner ran the record again after it, and the next one a second time. Not ours either, a dead letter
     * of it not sent yet is not sent: a key's later dead letter waits for its earlier one's write, and sent once that
     * outlasted the revocation's wait, it landed for a partition no longer ours, and the next owner read the record again
     * and dead-lettered (or ran) it a second time. Read without the lock (both flags are volatile, and once set stay
     * set): the engine asks before each attempt.
     */
    static boolean ours(Rec r) {
        return !(r.part.revoked || r.part.revoking);
    }

    private static boolean deadLettering(PartitionBuffers buffers, Collection<TopicPartition> revoking) {
        for (var tp : revoking) {
            var part = buffers.part(tp);
            if (part != null && part.deadLettering()) {
                return true;
            }
        }
        return false;
    }
}
