package dev.ferry.app.config;

import dev.ferry.adapters.kafka.KafkaSinkConfig;
import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.adapters.sqs.SqsSinkConfig;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Sources and sinks that share what they read or write, in ways that break the promise: two Kafka
 * sources in one consumer group on one topic (each orders and claims in a scope of its own, so every
 * rebalance hands one's records in hand to the other, which runs them again beside it), and a sink
 * that writes to a source's own queue or topic (each copy is a new message, a new event: handled and
 * written again, for ever).
 */
final class SharedTransports {

    private SharedTransports() {
    }

    static void check(Map<String, FerryConfig.SourceSpec> sources, Map<String, Section> sourceSections,
                      Map<String, FerryConfig.SinkSpec> sinks, Map<String, Section> sinkSections) {
        kafkaGroups(sources, sourceSections);
        for (var sink : sinks.values()) {
            var section = sinkSections.get(sink.name());
            for (var source : sources.values()) {
                String loop = loop(sink, source);
                if (loop != null && section != null) {
                    section.error(sink.plan() instanceof SqsSinkConfig ? "queue" : "topic", loop + " that source '"
                            + source.name() + "' reads: every event written there is read again as a new one, handled "
                            + "and written again, for ever; write to another " + (sink.plan() instanceof SqsSinkConfig
                            ? "queue" : "topic"));
                    break;
                }
            }
        }
    }

    /** Two Kafka sources of one group on the same servers reading a topic in common: refused at the second. */
    private static void kafkaGroups(Map<String, FerryConfig.SourceSpec> sources, Map<String, Section> sections) {
        var seen = new java.util.LinkedHashMap<String, KafkaSourceConfig>();
        for (var source : sources.values()) {
            if (!(source.plan() instanceof KafkaSourceConfig kafka)) {
                continue;
            }
            for (var other : seen.entrySet()) {
                var o = other.getValue();
                var common = new HashSet<>(o.topics());
                common.retainAll(kafka.topics());
                if (o.groupId().equals(kafka.groupId()) && servers(o.bootstrapServers()).equals(servers(kafka.bootstrapServers()))
                        && !common.isEmpty()) {
                    sections.get(source.name()).error("kafka", "source '" + other.getKey() + "' reads topic "
                            + common.stream().sorted().collect(Collectors.joining(", ")) + " in group '" + kafka.groupId()
                            + "' already: each source orders and claims on its own, so every rebalance hands records one "
                            + "has in hand to the other, which runs them again; one source per topic and group (raise "
                            + "listener.concurrency for more throughput), or another group-id");
                    break;
                }
            }
            seen.put(source.name(), kafka);
        }
    }

    /** What {@code sink} writes to that {@code source} reads (described), or null. */
    private static String loop(FerryConfig.SinkSpec sink, FerryConfig.SourceSpec source) {
        if (sink.plan() instanceof SqsSinkConfig out && source.plan() instanceof SqsSourceConfig in && in.queue() != null
                && out.queue() != null && out.queueName().equals(in.queueName())
                && (out.queueAccount() == null || in.queueAccount() == null || out.queueAccount().equals(in.queueAccount()))) {
            return "queue " + out.queueName() + " is the queue";
        }
        if (sink.plan() instanceof KafkaSinkConfig out && source.plan() instanceof KafkaSourceConfig in
                && in.topics().contains(out.topic()) && servers(in.bootstrapServers()).equals(servers(out.bootstrapServers()))) {
            return "topic " + out.topic() + " is a topic";
        }
        return null;
    }

    /** Bootstrap servers as a set: the order and the case of the names do not make other servers. */
    private static Set<String> servers(String list) {
        return Arrays.stream(list.split(",")).map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
    }
}
