package dev.ferry.adapters.kafka;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The caps of one partition's buffer: the records not done yet, their bytes, and how far the
 * records kept between the commit and the newest may span; and the filling of a buffer up to them.
 * Used under the buffers' lock.
 */
record BufferCaps(int maxRecords, long maxBytes) {

    /**
     * How many times the record cap the records between the commit and the newest may span, done
     * ones included: the caps count only what is not done (finished records behind one still in hand
     * keep no value), so one key held for a retry does not pause its partition's other keys; this
     * bounds what is kept of their places.
     */
    static final int SPAN = 10;

    /** A buffer at either cap: its partition is paused. */
    boolean full(PartitionBuffer p) {
        return p.live >= maxRecords || p.bytes >= maxBytes || p.size() >= SPAN * (long) maxRecords; // long: a cap near Integer.MAX_VALUE overflowed, every buffer full
    }

    /**
     * A paused partition's buffer with room for a fetch's worth again: at most half of either cap.
     * Resuming at the first free slot would fetch a whole batch to take one record and seek back.
     */
    boolean roomy(PartitionBuffer p) {
        return p.live <= maxRecords / 2 && p.bytes <= maxBytes / 2 && p.size() <= SPAN * (long) maxRecords / 2;
    }

    /**
     * Takes a poll's {@code fetched} records of one partition into its buffer {@code p}, in offset order, as far as the
     * caps let; returns the offset of the first one not taken (the partition is read again from there once the engine
     * caught up), -1 when every one was.
     */
    long fill(PartitionBuffer p, List<ConsumerRecord<byte[], byte[]>> fetched) {
        for (var r : fetched) {
            if (p.contains(r.offset())) {
                continue;
            }
            if (full(p)) {
                return r.offset();
            }
            p.add(r);
        }
        return -1;
    }
}
