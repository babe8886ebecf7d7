package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a release's dead letters again by where they are ({@link ParkedRecords}), one at a time in the order they go
 * back, on the consumer that found them. It holds no more than one poll's records: read on from where it is while
 * the next is close ahead, sought when it is behind or far ahead, only its partition fetched.
 */
final class DeadLetterReader {

    /** How far ahead a record may be and still be read up to rather than sought (about a poll's worth). */
    static final long READ_ON = 500;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Duration limit;
    /** Records of {@link #reading} polled past the last one asked for, in order. */
    private final ArrayDeque<ConsumerRecord<byte[], byte[]>> ahead = new ArrayDeque<>();
    private TopicPartition reading;

    DeadLetterReader(KafkaConsumer<byte[], byte[]> consumer, Duration limit) {
        this.consumer = consumer;
        this.limit = limit;
    }

    /**
     * The record at {@code offset} of {@code partition}; refused when the topic no longer has it (its retention), or
     * it could not be read within the limit.
     */
    ConsumerRecord<byte[], byte[]> read(TopicPartition partition, long offset) {
        if (!partition.equals(reading)) {
            ahead.clear();
            consumer.pause(consumer.assignment()); // the other partitions' records would fill the polls
            consumer.resume(List.of(partition));
            consumer.seek(partition, offset);
            reading = partition;
        }
        var found = next(offset);
        if (found != null) {
            return found;
        }
        if (!ahead.isEmpty()) { // past it: it is behind (the order records go back in is not the topic's)
            ahead.clear();
            consumer.seek(partition, offset);
        } else {
            long position = consumer.position(partition, limit);
            if (position > offset || offset - position > READ_ON) {
                consumer.seek(partition, offset);
            }
        }
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() - deadline < 0) {
            for (var record : consumer.poll(Duration.ofMillis(200)).records(partition)) {
                if (record.offset() >= offset) {
                    ahead.addLast(record);
                }
            }
            found = next(offset);
            if (found != null) {
                return found;
            }
            if (!ahead.isEmpty()) { // read from at or before it, and the next one is past it
                ahead.clear();
                throw new IllegalStateException(partition + "@" + offset + " is gone from the topic since it was read (its "
                        + "retention?)");
            }
        }
        throw new IllegalStateException(partition + "@" + offset + " was not read again within " + limit.toSeconds() + " s");
    }

    /** The record at {@code offset} if it is the next read ahead; those before it are dropped, those after kept. */
    private ConsumerRecord<byte[], byte[]> next(long offset) {
        while (!ahead.isEmpty() && ahead.peekFirst().offset() < offset) {
            ahead.pollFirst();
        }
        return !ahead.isEmpty() && ahead.peekFirst().offset() == offset ? ahead.pollFirst() : null;
    }
}
