package dev.ferry.adapters.kafka;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Where the source's consumer reads each partition next, as far as it is known without asking the broker: a poll's next
 * offsets (the client's position, past a transaction's commit marker or an aborted transaction's records, which no
 * record handed out shows), where a full buffer made it read again from, where an offset reset moved it. A partition
 * with nothing undone in hand commits up to here: committing only past the last record seen left a transactional
 * partition's group one below its end for ever (lag 1), and a move past deleted records was never committed, so every
 * start said the same records were lost — and, once retention emptied such a partition, called its marker a lost
 * record. Written by the consumer thread, which also reads it (under the buffers' lock, for a commit).
 */
final class ReadPositions {

    /** Each partition's next offset, with the leader epoch the client had there when it said so. */
    private final Map<TopicPartition, OffsetAndMetadata> next = new ConcurrentHashMap<>();

    /**
     * A poll's {@code records} were taken into the buffers; those of {@code rewound} did not all fit, and their
     * partitions are read again from the offset given.
     */
    void polled(ConsumerRecords<?, ?> records, Map<TopicPartition, Long> rewound) {
        next.putAll(records.nextOffsets());
        rewound.forEach((tp, offset) -> next.put(tp, new OffsetAndMetadata(offset)));
    }

    /** The consumer's position of {@code tp} was moved to {@code offset} (a seek). */
    void moved(TopicPartition tp, long offset) {
        next.put(tp, new OffsetAndMetadata(offset));
    }

    /** Partitions gone, or assigned afresh: where they are read next is not known until they are fetched. */
    void forget(Collection<TopicPartition> partitions) {
        next.keySet().removeAll(partitions);
    }

    /** The consumer goes (it died): its next one starts where the group committed. */
    void forgetAll() {
        next.clear();
    }

    /** Where {@code tp} is read next; null when not known. */
    OffsetAndMetadata of(TopicPartition tp) {
        return next.get(tp);
    }
}
