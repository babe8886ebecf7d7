package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSinkConfig;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.routing.EventMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What the configuration's sections become for a run: route matchers, decoders, the queues to make, span names. */
final class ConfigParts {

    private ConfigParts() {
    }

    /** OpenTelemetry's {@code messaging.system} for a transport or sink type. */
    /**
     * The engine's settings of the file's {@code listener} section. A file {@code ferry validate} passed must build:
     * an {@code extend-every} under a millisecond was 0 of the lease here, refused at {@code ferry run}.
     */
    static dev.ferry.domain.listener.ListenerConfig.Builder listenerConfig(FerryConfig config) {
        var l = config.listener();
        var built = dev.ferry.domain.listener.ListenerConfig.builder().pollers(l.pollers()).concurrency(l.concurrency())
                .lease(l.lease()).extendAt((double) l.extendEvery().toNanos() / l.lease().toNanos())
                .extendLeases(l.extendLeases())
                .deadLetter(dev.ferry.domain.retry.DeadLetterPolicy.maxReceives(l.maxReceives()))
                .retry(dev.ferry.domain.retry.RetryPolicy.of(l.maxAttempts(), dev.ferry.domain.retry.RetryPolicy.defaults().backoff()))
                .completedTtl(config.ledger().ttl())
                .shutdownDeadline(l.shutdownDeadline()).holdLimit(l.holdLimit())
                .handlerTimeout(l.handlerTimeout());
        if (l.maxInFlight() > 0) {
            built.maxInFlight(l.maxInFlight());
        }
        return built;
    }

    static String system(String type) {
        return switch (type == null ? "" : type) {
            case "sqs" -> "aws_sqs";
            case "kafka" -> "kafka";
            case "http" -> "http";
            default -> "ferry";
        };
    }

    static EventMatcher matcher(FerryConfig.RouteSpec r) {
        EventMatcher m = r.type() != null ? EventMatcher.type(r.type())
                : r.typePrefix() != null ? EventMatcher.typePrefix(r.typePrefix())
                : !r.types().isEmpty() ? EventMatcher.typeIn(Set.copyOf(r.types())) : EventMatcher.any();
        if (!r.notTypes().isEmpty()) {
            m = m.and(EventMatcher.typeIn(Set.copyOf(r.notTypes())).negate());
        }
        for (var a : r.attributes().entrySet()) {
            m = m.and(EventMatcher.attribute(a.getKey(), a.getValue()));
        }
        return m;
    }

    static Decoder decoder(FerryConfig.SourceSpec spec) {
        var limits = JsonLimits.defaults();
        if (spec.plan() instanceof dev.ferry.adapters.http.HttpSourceConfig http) {
            // the body the source takes, the decoder reads: with its own 1 MiB it answered every larger one 422, malformed
            limits = reading(limits, http.maxBodyBytes());
        } else if (spec.plan() instanceof dev.ferry.adapters.kafka.KafkaSourceConfig) {
            // what a topic holds (a Ferry Kafka sink writes up to this): with 1 MiB, every larger record was a poison
            // dead-lettered unhandled, its key parked behind it under on-poison: park, and released only to fail again
            limits = reading(limits, dev.ferry.adapters.kafka.KafkaSourceConfig.MAX_RECORD_BYTES);
        }
        if (spec.json() != null) {
            var p = spec.json();
            return Codecs.json(limits, p.id(), p.type(), p.group(), p.time(), p.defaultType());
        }
        return Codecs.named(spec.format(), limits);
    }

    /** {@code limits} reading bodies up to {@code bytes}, a string in them as long, less a little (one base64 field). */
    private static JsonLimits reading(JsonLimits limits, int bytes) {
        return bytes <= limits.maxBodyBytes() ? limits : new JsonLimits(bytes, limits.maxDepth(),
                Math.max(limits.maxStringLength(), bytes - 1024), limits.maxNumberLength());
    }

    /** The config's SQS queues as {@code ferry queues create} makes them, each with a DLQ; what exists is kept. */
    static List<SqsQueues.Created> createQueues(SqsQueues queues, FerryConfig config) {
        var specs = new ArrayList<SqsQueues.QueueSpec>();
        config.sources().values().forEach(source -> {
            if (source.plan() instanceof SqsSourceConfig sqs) {
                specs.add(sqs.queueSpec());
            }
        });
        config.sinks().values().forEach(sink -> {
            if (sink.plan() instanceof SqsSinkConfig sqs) {
                specs.add(sqs.queueSpec());
            }
        });
        return specs.stream().map(queues::create).toList();
    }
}
