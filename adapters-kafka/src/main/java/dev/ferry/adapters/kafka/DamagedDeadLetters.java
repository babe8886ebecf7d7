package dev.ferry.adapters.kafka;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
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

    /** {@code ends} with each stopped partition's end where it stopped, if below: the cursor stays below the damage. */
    Map<TopicPartition, Long> ends(Map<TopicPartition, Long> ends) {
        var cut = new LinkedHashMap<>(ends);
        stopped.forEach((tp, at) -> cut.merge(tp, at, Math::min));
        return cut;
    }

    /**
     * Why the key cannot be released past the damage, or null when the damage is not its: it is, when the key has
     * records found in a stopped partition, when its key goes there by the default partitioner ({@code
     * partitionCounts}: each partition's topic's count), or when fewer of its records were found than wait — they may
     * be behind the damage (a dead-letter topic whose partitions grew, a partitioner of the user's).
     */
    String problem(ParkedGroup parked, List<ParkedRecords.Parked> found, Map<TopicPartition, Integer> partitionCounts) {
        if (stopped.isEmpty()) {
            return null;
        }
        byte[] key = KafkaKeys.bytes(group);
        for (var s : stopped.entrySet()) {
            var tp = s.getKey();
            Integer count = partitionCounts.get(tp);
            boolean hashed = key != null && count != null && Utils.toPositive(Utils.murmur2(key)) % count == tp.partition();
            if (hashed || found.stream().anyMatch(p -> p.partition().equals(tp))) {
                return said("dead-letter partition " + tp + " has a record that cannot be read at offset " + s.getValue());
            }
        }
        if (found.size() < parked.waiting()) { // not all found: where the rest are cannot be known, any may hide them
            var where = new java.util.ArrayList<String>();
            stopped.forEach((tp, at) -> where.add(tp + " at offset " + at));
            return said("dead-letter partitions with a record that cannot be read (" + String.join(", ", where) + ") may "
                    + "hold records of the key not found elsewhere");
        }
        return null;
    }

    private String said(String what) {
        return what + ": what key " + group + " has behind it there cannot be moved; mend the topic and release it again";
    }

    /** Whether some of {@code found} are in a partition not stopped: sent back, they would overtake what the damage hides. */
    boolean foundElsewhere(List<ParkedRecords.Parked> found) {
        return found.stream().anyMatch(p -> !stopped.containsKey(p.partition()));
    }

    /** {@code moved} with {@code problem} added (after why it stopped, if it did); as it is for none. */
    static GroupParker.Moved with(GroupParker.Moved moved, String problem) {
        return problem == null ? moved : new GroupParker.Moved(moved.counted(), moved.redriven(),
                moved.problem() == null || moved.problem().equals(problem) ? problem : moved.problem() + "; and " + problem);
    }
}
