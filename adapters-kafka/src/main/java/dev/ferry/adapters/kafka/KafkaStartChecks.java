package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks made before a source starts. A topic the source is to read that does not exist (a name mistyped) is refused:
 * the consumer would wait on it, ready and reading nothing, while the records on the right topic aged out. And a
 * dead-letter topic that compacts loses dead letters: compaction keeps only the last of each key, and
 * a copy without its value (a record too large for the topic) or a dead-lettered tombstone deletes the
 * key's others. A source whose dead-letter topic exists with {@code cleanup.policy} including
 * {@code compact} is refused at start. A lookup that fails (no broker yet, no right to describe the
 * topic) is logged and the source starts; a topic not made yet is not looked at.
 */
final class KafkaStartChecks {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class); // its warnings where the source's are
    /** How long the lookup may hold up a start: as long as a dead-letter write waits for its topic's metadata. */
    static final Duration WAIT = Duration.ofMillis(KafkaDeadLetters.MAX_BLOCK_MS);

    private KafkaStartChecks() {
    }

    /**
     * Throws an {@link IllegalStateException} naming each topic of {@code topics} the cluster says does not exist, or
     * else each dead-letter topic of theirs that exists and compacts.
     */
    static void refuse(String name, Map<String, Object> producerConfig, Collection<String> topics, UnaryOperator<String> topicOf) {
        List<String> compacted;
        var missing = new ArrayList<String>();
        try {
            var deadLetterTopics = new LinkedHashSet<String>();
            for (var topic : topics) {
                deadLetterTopics.add(topicOf.apply(topic));
            }
            compacted = compacted(name, producerConfig, topics, missing, deadLetterTopics);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Throwable e) { // the naming function, the admin client: a check not made is no reason not to start
            LOG.warn("Kafka source '{}': could not look up whether its dead-letter topics compact (a compacted one loses "
                    + "dead letters): {}", name, dev.ferry.domain.model.Thrown.describe(e));
            return;
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Kafka source '" + name + "': topic " + String.join(", ", missing) + " does not "
                    + "exist on the cluster (is the name right?); create it first — the consumer would wait on it, reading "
                    + "nothing, and it does not create topics");
        }
        if (!compacted.isEmpty()) {
            throw new IllegalStateException("Kafka source '" + name + "': dead-letter topic " + String.join(", ", compacted)
                    + ": compaction keeps only the last dead letter of each key, and a copy without its value (a record too "
                    + "large for the topic) or a dead-lettered tombstone deletes the others; set cleanup.policy=delete on it, "
                    + "or name another dead-letter topic");
        }
    }

    /**
     * The dead-letter topics that exist and compact, each as {@code 'NAME' (cleanup.policy=...)}; adds to {@code missing}
     * each of {@code topics} the cluster says does not exist.
     */
    private static List<String> compacted(String name, Map<String, Object> producerConfig, Collection<String> topics,
                                          List<String> missing, Collection<String> deadLetterTopics) throws InterruptedException {
        var known = AdminClientConfig.configNames();
        var config = new HashMap<String, Object>();
        producerConfig.forEach((key, value) -> {
            if (known.contains(key)) { // where the broker is and how to reach it; not the producer's own settings
                config.put(key, value);
            }
        });
        config.remove(AdminClientConfig.CLIENT_ID_CONFIG); // its own: one id registered twice is a warning
        var compacted = new ArrayList<String>();
        var admin = Admin.create(config);
        try {
            missing.addAll(missing(name, admin, topics));
            var resources = deadLetterTopics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
            var described = admin.describeConfigs(resources, new DescribeConfigsOptions().timeoutMs((int) WAIT.toMillis()))
                    .values();
            long end = System.nanoTime() + WAIT.plusSeconds(1).toNanos();
            for (var e : described.entrySet()) {
                String topic = e.getKey().name();
                try {
                    var policy = e.getValue().get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS)
                            .get(TopicConfig.CLEANUP_POLICY_CONFIG);
                    if (policy != null && policy.value() != null && policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
                        compacted.add("'" + topic + "' (" + TopicConfig.CLEANUP_POLICY_CONFIG + "=" + policy.value() + ")");
                    }
                } catch (ExecutionException | TimeoutException x) {
                    if (!(x.getCause() instanceof UnknownTopicOrPartitionException)) { // not made yet: nothing to refuse
                        LOG.warn("Kafka source '{}': could not look up whether dead-letter topic '{}' compacts (a compacted "
                                + "one loses dead letters): {}", name, topic,
                                dev.ferry.domain.model.Thrown.describe(x.getCause() != null ? x.getCause() : x));
                    }
                }
            }
        } finally {
            admin.close(Duration.ofSeconds(5));
        }
        return compacted;
    }

    /** Each of {@code topics} the cluster says does not exist, as {@code 'NAME'}; one it could not say of is logged. */
    private static List<String> missing(String name, Admin admin, Collection<String> topics) throws InterruptedException {
        var missing = new ArrayList<String>();
        var described = admin.describeTopics(topics, new DescribeTopicsOptions().timeoutMs((int) WAIT.toMillis()))
                .topicNameValues();
        long end = System.nanoTime() + WAIT.plusSeconds(1).toNanos();
        for (var e : described.entrySet()) {
            try {
                e.getValue().get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException x) {
                if (x.getCause() instanceof UnknownTopicOrPartitionException) {
                    missing.add("'" + e.getKey() + "'");
                } else {
                    LOG.warn("Kafka source '{}': could not look up whether topic '{}' exists: {}", name, e.getKey(),
                            dev.ferry.domain.model.Thrown.describe(x.getCause() != null ? x.getCause() : x));
                }
            }
        }
        return missing;
    }
}
