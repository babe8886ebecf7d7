package dev.ferry.adapters.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A commit's offsets and the buffers they were taken from (a partition assigned again since has a
 * new one). Every method here runs under the lock of the {@link PartitionBuffers} they belong to.
 */
record OffsetCommit(Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, PartitionBuffer> buffers) {

    boolean isEmpty() {
        return offsets.isEmpty();
    }

    /**
     * The finished offsets of {@code parts} to commit, of {@code only} (every partition when null):
     * past what was committed, and for a commit not waited for ({@code async}) past what was sent
     * already, which it then counts as sent.
     */
    static OffsetCommit of(Collection<PartitionBuffer> parts, Collection<TopicPartition> only, boolean async) {
        var offsets = new HashMap<TopicPartition, OffsetAndMetadata>();
        var buffers = new HashMap<TopicPartition, PartitionBuffer>();
        for (var p : parts) {
            if (only != null && !only.contains(p.tp)) {
                continue;
            }
            long offset = p.committable();
            if (offset >= 0 && offset > (async ? Math.max(p.committed, p.requested) : p.committed)) {
                offsets.put(p.tp, new OffsetAndMetadata(offset));
                buffers.put(p.tp, p);
                if (async) {
                    p.requested = offset;
                }
            }
        }
        return new OffsetCommit(offsets, buffers);
    }

    /** The broker took this commit: its buffers forget what it covers. */
    void confirmed() {
        for (var e : offsets.entrySet()) {
            var p = buffers.get(e.getKey());
            long offset = e.getValue().offset();
            if (offset > p.committed) {
                p.committed = offset;
                p.removeBelow(offset);
            }
        }
    }

    /** An async commit failed: what it covered is sent again with the next one (unless a later one was sent since). */
    void failed() {
        for (var e : offsets.entrySet()) {
            var p = buffers.get(e.getKey());
            if (p.requested <= e.getValue().offset()) {
                p.requested = p.committed;
            }
        }
    }
}
