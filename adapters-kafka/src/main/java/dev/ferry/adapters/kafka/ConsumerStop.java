package dev.ferry.adapters.kafka;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.Thrown;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a source's consumer: the stop's last commit, and the close (of a consumer that died too). While the group
 * rebalances, every commit is refused at once (RebalanceInProgressException, which commitSync does not try again), and
 * a close then calls onPartitionsLost, not onPartitionsRevoked: its revocation commits nothing either. A stop in a
 * rolling deploy, when rebalances are likeliest, while another member was slow to rejoin, committed nothing finished
 * since the rebalance began: the next owners read it all again. So the stop waits the rebalance out, briefly.
 */
final class ConsumerStop {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);
    /** How long a stop waits for a rebalance to end, to commit after it; its close waits 15 s for the whole stop. */
    static final Duration REBALANCE_WAITED = Duration.ofSeconds(5);
    private static final Duration POLL = Duration.ofMillis(100);

    private ConsumerStop() {
    }

    /**
     * Runs {@code commit} (of what is finished; it returns its failure, or null). Refused for a rebalance, it polls
     * with every partition paused until the group's generation moves on (the revocation callback commits what the
     * rebalance takes back, in the poll) and runs it again; up to {@link #REBALANCE_WAITED} in all. What those polls
     * return is neither handed out nor committed: paused, nothing should come, and what does is the next owner's.
     * {@code anyToCommit}: whether anything finished is left to commit (the rebalance may have lost it all).
     */
    static void commit(KafkaConsumer<byte[], byte[]> c, String name, java.util.function.BooleanSupplier anyToCommit,
                       Supplier<RuntimeException> commit) {
        if (!rebalancing(commit.get())) {
            return;
        }
        long end = System.nanoTime() + REBALANCE_WAITED.toNanos();
        try {
            int generation = c.groupMetadata().generationId();
            while (System.nanoTime() - end < 0) {
                c.pause(c.assignment()); // a partition the last poll assigned too
                try {
                    c.poll(POLL);
                } catch (WakeupException late) {
                    // close()'s, sent after the commit's call: it wakes one call only
                } catch (KafkaException e) {
                    // the rebalance went on in the poll all the same. A partition it assigned has no position (Ferry
                    // runs auto.offset.reset none) or a record that cannot be read: its next owner's. An interrupt is a
                    // plugin's (set again as thrown). Not polled again at once: this poll did not wait
                    Thread.interrupted();
                    LockSupport.parkNanos(POLL.toNanos());
                }
                int now = c.groupMetadata().generationId();
                if (now != generation) {
                    boolean any = anyToCommit.getAsBoolean(); // none: the partitions lost, not revoked — the warning
                    var failed = commit.get();                // of the refused commit stands
                    if (failed == null && any) { // after the warning of the refused one
                        LOG.info("Kafka source '{}': committed at the stop, once the group's rebalance ended", name);
                    }
                    if (!rebalancing(failed)) {
                        return;
                    }
                    generation = now; // a cooperative revocation rejoins at once: one more round
                }
            }
            LOG.warn("Kafka source '{}': the group still rebalanced {} after the stop; what was finished since it "
                    + "began is read again by the next owners", name, Durations.text(REBALANCE_WAITED));
        } catch (RuntimeException e) {
            LOG.warn("Kafka source '{}': waiting out the group's rebalance at the stop failed ({}); what was finished "
                    + "since it began is read again by the next owners", name, Thrown.describe(e));
        }
    }

    /** Whether {@code e}, or one it wraps, says the group is rebalancing. */
    static boolean rebalancing(Throwable e) {
        for (int depth = 0; e != null && depth < 10; depth++, e = e.getCause()) {
            if (e instanceof RebalanceInProgressException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Closes {@code c}, saying when that fails. Subscribed, it revokes (and commits) its partitions first; while the
     * group rebalances it loses them instead, committing nothing: {@link #commit} waited for the rebalance's end.
     */
    static void close(KafkaConsumer<byte[], byte[]> c, String name) {
        try {
            c.close(Duration.ofSeconds(5));
        } catch (Throwable e) { // an Error too: thrown from run()'s finally, it ended the thread
            LOG.warn("Kafka source '{}': closing the consumer failed: {}", name, Thrown.describe(e));
        }
    }
}
