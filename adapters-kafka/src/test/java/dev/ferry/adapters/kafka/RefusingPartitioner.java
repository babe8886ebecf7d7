package dev.ferry.adapters.kafka;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.Partitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;

/**
 * A partitioner (set by class name in {@code partitioner.class}) that, while a topic is armed,
 * refuses its records with {@link TopicAuthorizationException} — what the producer answers when an
 * ACL is missing — and puts every other record in partition 0. Public: the producer instantiates it.
 */
public final class RefusingPartitioner implements Partitioner {

    private static final Set<String> REFUSED = ConcurrentHashMap.newKeySet();
    private static final Set<String> CLUSTER_REFUSED = ConcurrentHashMap.newKeySet();

    public RefusingPartitioner() {
    }

    static void refuse(String topic) {
        REFUSED.add(topic);
    }

    /**
     * Refuses the topic's records with {@link ClusterAuthorizationException}: the client takes it for fatal, and the
     * producer fails every later send from {@code send()} itself, whatever the partitioner then does.
     */
    static void refuseCluster(String topic) {
        CLUSTER_REFUSED.add(topic);
    }

    static void allow(String topic) {
        REFUSED.remove(topic);
        CLUSTER_REFUSED.remove(topic);
    }

    @Override
    public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster) {
        if (CLUSTER_REFUSED.contains(topic)) {
            throw new ClusterAuthorizationException("cluster authorization refused (injected)");
        }
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
