package dev.ferry.adapters.kafka;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer interceptor (set by class name in {@code interceptor.classes}) that throws an
 * {@link AssertionError} — an {@code Error}, which the Kafka client lets out of {@code poll} — the
 * first time it sees records of a topic named by {@link #arm}. Public: the consumer instantiates it.
 */
public final class ErrorOnceInterceptor implements ConsumerInterceptor<byte[], byte[]> {

    private static final Set<String> ARMED = ConcurrentHashMap.newKeySet();
    private static final Set<String> ARMED_UNREADABLE = ConcurrentHashMap.newKeySet();
    private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();

    public ErrorOnceInterceptor() {
    }

    static void arm(String topic) {
        ARMED.add(topic);
    }

    /** The first records of {@code topic} make it throw an {@code Error} whose text cannot be read (reading it throws). */
    static void armUnreadable(String topic) {
        ARMED_UNREADABLE.add(topic);
    }

    /** Whether a consumer with this interceptor was handed records of {@code topic}. */
    static boolean saw(String topic) {
        return SEEN.contains(topic);
    }

    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
        for (var partition : records.partitions()) {
            SEEN.add(partition.topic());
            if (ARMED.remove(partition.topic())) {
                throw new AssertionError("a plugin's Error, out of poll (injected)");
            }
            if (ARMED_UNREADABLE.remove(partition.topic())) {
                throw new UnreadableError();
            }
        }
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }

    /** A plugin's Error whose message cannot be read: reading it throws another such. */
    static final class UnreadableError extends AssertionError {
        @Override
        public String getMessage() {
            throw new UnreadableError();
        }
    }
}
