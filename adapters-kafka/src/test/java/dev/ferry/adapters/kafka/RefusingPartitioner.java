package dev.ferry.adapters.kafka;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.Partitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.errors.TopicAuthorizationException;

/**
 * A partitioner (set by class name in {@code partitioner.class}) that, while a topic is armed,
 * refuses its records with {@link TopicAuthorizationException} — what the producer answers when an
 * ACL is missing — and puts every other record in partition 0. Public: the producer instantiates it.
 */
public final class RefusingPartitioner implements Partitioner {

    private static final Set<String> REFUSED = ConcurrentHashMap.newKeySet();

    public RefusingPartitioner() {
    }

    static void refuse(String topic) {
        REFUSED.add(topic);
    }

    static void allow(String topic) {
        REFUSED.remove(topic);
    }

    @Override
    public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster) {
        if (REFUSED.contains(topic)) {
            throw new TopicAuthorizationException(Set.of(topic));
        }
        return 0;
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
