package dev.ferry.adapters.kafka;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer interceptor (set by class name in {@code interceptor.classes}) that interrupts the thread it runs on — the
 * source's consumer thread — the first time it sees records of a topic named by {@link #arm}, and lets the records
 * through: a plugin or an agent that leaves an interrupt behind. Public: the consumer instantiates it.
 */
public final class InterruptOnceInterceptor implements ConsumerInterceptor<byte[], byte[]> {

    private static final Set<String> ARMED = ConcurrentHashMap.newKeySet();
    private static final Set<String> INTERRUPTED = ConcurrentHashMap.newKeySet();

    public InterruptOnceInterceptor() {
    }

    /** Consumers made with this interceptor since the last {@link #arm}: one more each time a consumer is replaced. */
    private static final java.util.concurrent.atomic.AtomicInteger CONSUMERS = new java.util.concurrent.atomic.AtomicInteger();

    static void arm(String topic) {
        ARMED.add(topic);
        CONSUMERS.set(0);
    }

    static int consumers() {
        return CONSUMERS.get();
    }

    /** Whether the consumer thread was interrupted on seeing records of {@code topic}. */
    static boolean interrupted(String topic) {
        return INTERRUPTED.contains(topic);
    }

    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
        for (var partition : records.partitions()) {
            if (ARMED.remove(partition.topic())) {
                Thread.currentThread().interrupt();
                INTERRUPTED.add(partition.topic());
            }
        }
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
        for (var partition : offsets.keySet()) {
            if (ARMED_ON_COMMIT.remove(partition.topic())) {
                Thread.currentThread().interrupt();
                INTERRUPTED.add(partition.topic());
            }
        }
    }

    private static final Set<String> ARMED_ON_COMMIT = ConcurrentHashMap.newKeySet();

    /** Interrupts the thread a commit of {@code topic}'s offsets is answered on, once: the consumer's, in a later poll. */
    static void armOnCommit(String topic) {
        ARMED_ON_COMMIT.add(topic);
        CONSUMERS.set(0);
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        CONSUMERS.incrementAndGet();
    }
}
