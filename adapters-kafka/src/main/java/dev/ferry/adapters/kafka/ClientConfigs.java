package dev.ferry.adapters.kafka;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.producer.ProducerInterceptor;

/**
 * What of a source's settings goes to which of its clients. A source's {@code properties} go to its consumer and to its
 * dead-letter producer (and to a release's) alike, beside Ferry's own settings: a setting one client takes, the other
 * may refuse at start, and the source with it.
 */
final class ClientConfigs {

    /** The assignor Ferry sets under the classic group protocol (see {@link KafkaSource.Builder}). */
    static final String COOPERATIVE_ASSIGNOR = "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";

    private ClientConfigs() {
    }

    /**
     * The consumer's settings as its group protocol takes them. Under {@code group.protocol: consumer} (KIP-848) the
     * broker assigns the partitions, a few at a time, and the client refuses an assignor: Ferry's own made every such
     * source fail at start, over a setting the user never wrote. That protocol refuses three settings
     * (partition.assignment.strategy, session.timeout.ms, heartbeat.interval.ms); Ferry sets only the first.
     */
    static Map<String, Object> forGroupProtocol(Map<String, Object> consumerConfig) {
        var config = new HashMap<>(consumerConfig);
        Object protocol = config.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        if (protocol != null && protocol.toString().trim().equalsIgnoreCase("consumer")
                && COOPERATIVE_ASSIGNOR.equals(config.get(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG))) {
            config.remove(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG);
        }
        return config;
    }

    /** {@code config}, a copy to change, with only the interceptors a consumer takes ({@link #interceptorsOf}). */
    static Map<String, Object> forConsumer(Map<String, ?> config) {
        return interceptorsOf(config, ConsumerInterceptor.class, ProducerInterceptor.class);
    }

    /** {@code config}, a copy to change, with only the interceptors a producer takes ({@link #interceptorsOf}). */
    static Map<String, Object> forProducer(Map<String, ?> config) {
        return interceptorsOf(config, ProducerInterceptor.class, ConsumerInterceptor.class);
    }

    /**
     * {@code config} without those of its {@code interceptor.classes} that are only of the {@code other} kind: a client
     * refuses, at start, an interceptor of the other client's kind ("not an instance of ProducerInterceptor"), and the
     * properties name them for both. A class of both kinds stays, and so does one of neither kind or a name that cannot
     * be loaded here: the client says what is wrong with it. The key goes when no class is left.
     */
    private static Map<String, Object> interceptorsOf(Map<String, ?> config, Class<?> kind, Class<?> other) {
        var copy = new HashMap<String, Object>(config);
        Object named = copy.get(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG);
        if (named == null) {
            return copy;
        }
        List<?> entries = named instanceof List<?> list ? list
                : named instanceof String text ? Arrays.asList(text.split(",")) : List.of(named);
        var kept = new ArrayList<String>();
        for (Object entry : entries) {
            Class<?> given = entry instanceof Class<?> c ? c : null;
            String name = given != null ? given.getName() : String.valueOf(entry).trim();
            if (name.isEmpty()) {
                continue;
            }
            Class<?> type = given != null ? given : load(name);
            if (type == null || kind.isAssignableFrom(type) || !other.isAssignableFrom(type)) {
                kept.add(name);
            }
        }
        if (kept.isEmpty()) {
            copy.remove(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG);
        } else {
            copy.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, String.join(",", kept));
        }
        return copy;
    }

    /** The class of {@code name} as the Kafka client finds it (the thread's context class loader first); null if none. */
    private static Class<?> load(String name) {
        var loader = Thread.currentThread().getContextClassLoader();
        try {
            return Class.forName(name, false, loader != null ? loader : ClientConfigs.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }
}
