package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records a topic's retention (or a deletion of records) took before the group read them. The consumer moves a
 * committed offset below its partition's first record on to that first record (auto.offset.reset: earliest) and says
 * so at INFO, in a logger the app keeps at WARN: the records in between were skipped without a word. So when
 * partitions are assigned, each one's committed offset is held against its first offset, and a gap is said in a
 * warning: which partition, which offsets, how many.
 */
final class RetentionLoss {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class); // where the source's warnings are
    /** How long each look-up may hold up an assignment: it runs on the consumer's thread, in its rebalance. */
    static final Duration WAIT = Duration.ofSeconds(5);

    private RetentionLoss() {
    }

    /**
     * Warns of each partition of {@code assigned} whose committed offset is below its first record; returns how many
     * records were lost so, in all. A look-up that fails is logged, not thrown (a check not made is no reason to stop
     * consuming); only a wakeup goes on (the source closes).
     */
    static long warnOfLost(Consumer<?, ?> consumer, Collection<TopicPartition> assigned, String name) {
        if (assigned.isEmpty()) {
            return 0;
        }
        Map<TopicPartition, OffsetAndMetadata> committed;
        Map<TopicPartition, Long> first;
        try {
            committed = consumer.committed(new HashSet<>(assigned), WAIT);
            first = consumer.beginningOffsets(assigned, WAIT);
        } catch (WakeupException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.warn("Kafka source '{}': could not look up whether records of {} were deleted (by the topic's retention) "
                    + "before the group read them: {}", name, assigned, e.toString());
            return 0;
        }
        long lost = 0;
        for (var tp : assigned) {
            var at = committed.get(tp);
            var start = first.get(tp);
            if (at == null || start == null || at.offset() >= start) {
                continue;       // no offset committed (the group starts at the first record), or nothing skipped
            }
            long gone = start - at.offset();
            lost += gone;
            LOG.warn("Kafka source '" + name + "': " + tp + ": offsets " + at.offset() + " to " + (start - 1) + " ("
                    + gone + (gone == 1 ? " record" : " records") + ") were deleted, by the topic's retention or a "
                    + "deletion of records, before the group read them: they are lost, not handled; the group goes on "
                    + "from offset " + start + " (a retention shorter than the group's longest stop loses records)");
        }
        return lost;
    }
}
