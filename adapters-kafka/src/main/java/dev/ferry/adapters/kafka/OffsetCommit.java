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
     * already, which it then counts as sent. Where the consumer reads each next is in {@code positions}.
     */
    static OffsetCommit of(Collection<PartitionBuffer> parts, Collection<TopicPartition> only, boolean async,
                           ReadPositions positions) {
        var offsets = new HashMap<TopicPartition, OffsetAndMetadata>();
        var buffers = new HashMap<TopicPartition, PartitionBuffer>();
        for (var p : parts) {
            if (only != null && !only.contains(p.tp)) {
                continue;
            }
            var point = commitPoint(p, positions.of(p.tp));
            if (point != null && point.offset() > (async ? Math.max(p.committed, p.requested) : p.committed)) {
                offsets.put(p.tp, point);
                buffers.put(p.tp, p);
                if (async) {
                    p.requested = point.offset();
                }
            }
        }
        return new OffsetCommit(offsets, buffers);
    }

    /**
     * Where {@code p}'s commit may go: its first record not done; when none is, the one after the last seen, or
     * {@code readTo} (where the consumer reads next, null unknown) when further — past a transaction's commit marker,
     * past records deleted: committed only past the last record, a transactional partition's group stayed one below
     * its end for ever, and a move past deleted records was said again at every start. With the leader epoch of the
     * record there (of the last seen), by which a consumer starting at the commit finds a log cut back since (an
     * unclean leader election) instead of reading on where the offsets now hold other records. Null while nothing is.
     */
    private static OffsetAndMetadata commitPoint(PartitionBuffer p, OffsetAndMetadata readTo) {
        long offset = p.committable();
        if (offset == p.nextOffset && readTo != null && readTo.offset() > offset) {
            return readTo;      // nothing undone: every record in hand is before nextOffset
        }
        return offset < 0 ? null : new OffsetAndMetadata(offset, p.epochAt(offset), "");
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
