package dev.ferry.adapters.kafka;

import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.spi.Settings;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A {@code type: kafka} sink section.
 *
 * <pre>
 * type: kafka
 * bootstrap-servers: 127.0.0.1:9092
 * topic: prod-archive-new
 * value-from-attribute: objectKey   # optional: the record's value is this attribute, not the payload
 * timeout: 30s                      # delivery.timeout.ms: the producer's retries included; one send per publish
 * properties: {compression.type: zstd}
 * outage-patience: 15m              # the cluster unreachable: events wait this long (Throttled) before attempts are spent
 * </pre>
 */
public record KafkaSinkConfig(String name, String bootstrapServers, String topic, String valueFromAttribute,
                              Duration timeout, Map<String, String> properties, Duration outagePatience)
        implements Plan<Sink> {

    /** A section without {@code outage-patience}: the default (kept for code written before the setting). */
    public KafkaSinkConfig(String name, String bootstrapServers, String topic, String valueFromAttribute,
                           Duration timeout, Map<String, String> properties) {
        this(name, bootstrapServers, topic, valueFromAttribute, timeout, properties,
                dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE);
    }

    public static KafkaSinkConfig read(Settings s) {
        String servers = s.required("bootstrap-servers");
        String topic = s.required("topic");
        if (topic != null && !topic.matches("[A-Za-z0-9._-]{1,249}")) {
            s.problem("topic", "Kafka topic names are 1-249 of [A-Za-z0-9._-], was '" + topic + "'");
        }
        var timeout = s.duration("timeout", Duration.ofSeconds(30));
        if (timeout != null && (timeout.isZero() || timeout.isNegative())) { // the sink refused it only as the run opened it
            s.problem("timeout", "must be more than 0, was " + timeout);
        }
        var properties = s.map("properties");
        // the producer refuses a delivery timeout under linger.ms + request.timeout.ms as it opens (the sink shortens its
        // requests to fit, unless request.timeout.ms is given): said here, not as the run opens the sink
        long linger = KafkaSink.millis(properties.get("linger.ms"), 1);
        long request = properties.containsKey("request.timeout.ms") ? KafkaSink.millis(properties.get("request.timeout.ms"), 0) : 1;
        // a delivery.timeout.ms in properties is the sink's timeout (given to the producer after it): that one is checked
        if (properties.containsKey("delivery.timeout.ms")) {
            long delivery = KafkaSink.millis(properties.get("delivery.timeout.ms"), 0);
            if (delivery < linger + request) {
                s.problem("properties", "delivery.timeout.ms must be at least linger.ms + request.timeout.ms (" + (linger + request)
                        + " ms), was " + delivery + " ms");
            }
        } else if (timeout != null && timeout.isPositive() && timeout.toMillis() < linger + request) {
            s.problem("timeout", "must be at least linger.ms + request.timeout.ms (" + (linger + request) + " ms), was " + timeout);
        }
        if (properties.containsKey("bootstrap.servers")) { // the producer took it; the check for a sink into its source not
            s.problem("properties", "'bootstrap.servers' is set by 'bootstrap-servers': say the cluster there, once");
        }
        for (String fixed : List.of("acks", "enable.idempotence", "key.serializer", "value.serializer")) {
            if (properties.containsKey(fixed)) {
                s.problem("properties", "'" + fixed + "' is Ferry's to set (acks=all with idempotence: nothing lost or doubled)");
            }
        }
        for (var refused : KafkaSourceConfig.keyOrderUndone(properties)) {
            s.problem("properties", refused);
        }
        if (properties.containsKey("transactional.id")) {
            s.problem("properties", "'transactional.id' is not supported: the sink sends each record on its own, "
                    + "idempotently, outside any transaction (a transactional producer refuses such sends)");
        }
        var patience = s.duration("outage-patience", dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE);
        return new KafkaSinkConfig(s.name(), servers, topic, s.string("value-from-attribute", null), timeout, properties,
                patience);
    }

    /**
     * Waiting for the topic's metadata, then the send to its delivery timeout and the margin an unknown outcome gets.
     * None without patience: an interrupt then costs what the sink's own answer would.
     */
    @Override
    public Duration longestCall() {
        if (outagePatience != null && outagePatience.isZero()) {
            return Duration.ZERO;
        }
        long block = KafkaSink.millis(properties.get("max.block.ms"), 10_000);
        long delivery = KafkaSink.millis(properties.get("delivery.timeout.ms"), timeout.toMillis());
        return Duration.ofMillis(block + delivery).plus(KafkaSink.UNKNOWN_OUTCOME_MARGIN);
    }

    @Override
    public Sink open(AdapterContext context) {
        var builder = KafkaSink.builder(bootstrapServers, topic).name(name).timeout(timeout).outagePatience(outagePatience);
        if (valueFromAttribute != null) {
            builder.valueFromAttribute(valueFromAttribute);
        }
        properties.forEach(builder::config);
        return builder.build();
    }
}
