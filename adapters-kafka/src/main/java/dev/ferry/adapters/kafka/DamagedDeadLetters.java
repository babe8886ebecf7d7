package dev.ferry.adapters.kafka;

import dev.ferry.domain.parking.GroupParker;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead-letter partitions a release's read stopped on at a record that cannot be read (a damaged batch, see
 * {@link UnreadablePartitions}). Every poll then threw and the release of every key failed, though a key's dead letters
 * are all in the one partition its key goes to: one damaged batch kept every parked key parked. The read now pauses
 * such a partition there and reads the others to their ends; the key's release fails only when the partition is its
 * own (its key goes there, or its records were found there), and what it moved before the damage counts.
 */
final class DamagedDeadLetters {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);

    private final String group;
    /** Each partition stopped, and the offset of the record it cannot read. */
    private final Map<TopicPartition, Long> stopped = new LinkedHashMap<>();

    DamagedDeadLetters(String group) {
        this.group = group;
    }

    /**
     * Stops the partition {@code e} says {@code consumer} cannot read on, paused where it stands; false when {@code e}
     * says something else (or names one stopped already): the caller fails as before.
     */
    boolean stop(Consumer<?, ?> consumer, KafkaException e) {
        var found = UnreadablePartitions.partitionOf(e, consumer.assignment());
        if (found.isEmpty() || stopped.containsKey(found.get())) {
            return false;
        }
        long at = consumer.position(found.get(), Duration.ofSeconds(30));
        consumer.pause(List.of(found.get()));
        stopped.put(found.get(), at);
        LOG.error("the release of key " + group + " cannot read dead-letter partition " + found.get() + " at offset " + at
                + " (" + (e.getCause() == null ? e.getMessage() : e.getCause()) + "): keys whose dead letters are there "
                + "cannot be released past it until the topic is mended; the others go on", e);
        return true;
    }

    /** Whether {@code partition} is read no further. */
    boolean stopped(TopicPartition partition) {
        return stopped.containsKey(partition);
    }

    /** {@code ends} with each stopped partition's end where it stopped: the release's cursor stays below the damage. */
    Map<TopicPartition, Long> ends(Map<TopicPartition, Long> ends) {
        var cut = new LinkedHashMap<>(ends);
        stopped.forEach(cut::put);
        return cut;
    }

    /**
     * {@code moved}, failed when a stopped partition is the key's own — its key goes there by the default partitioner,
     * or {@code found} has its records there — since what it has behind the damage was not moved.
     */
    GroupParker.Moved told(GroupParker.Moved moved, Map<TopicPartition, Integer> partitionCounts,
                           java.util.Set<TopicPartition> found) {
        byte[] key = KafkaKeys.bytes(group);
        for (var s : stopped.entrySet()) {
            var tp = s.getKey();
            Integer count = partitionCounts.get(tp);
            boolean keys = found.contains(tp) || count != null && Utils.toPositive(Utils.murmur2(key)) % count == tp.partition();
            if (keys) {
                String said = "dead-letter partition " + tp + " has a record that cannot be read at offset " + s.getValue()
                        + ": what key " + group + " has behind it there was not moved; mend the topic and release it again";
                return new GroupParker.Moved(moved.counted(), moved.redriven(),
                        moved.problem() == null ? said : moved.problem() + "; and " + said);
            }
        }
        return moved;
    }
}
