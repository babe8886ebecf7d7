package dev.ferry.adapters.kafka;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A Kafka topic as a {@link Sink} (the S3 → Kafka job, reference/002), on an idempotent producer
 * ({@code acks=all}, idempotence on). The record key is the event's group key, so one object's
 * events keep their partition order; the value is the payload or one of the event's attributes
 * (e.g. the S3 object key, as the reference job sends); headers carry the event id, type and the
 * configured source name.
 *
 * <p>{@link #publish} returns once the broker acknowledged the record ({@code Done}). Retriable
 * failures (timeouts, leader changes, a topic not there yet) are tried again in process a few
 * times and then {@code Retry}, so the message goes back to its queue; authorization,
 * serialization, invalid topic and oversize records are {@code Reject}. For fan-out to several
 * clusters or topics, give each its own sink and route to all of them with
 * {@code RoutingHandler.tracked}: the source message is acked when every target confirmed, and a
 * target that already has the event is not written again on the redelivery. Thread-safe.
 */
public final class KafkaSink implements Sink {

    private final String name;
    private final String topic;
    private final String valueAttribute;
    private final String sourceName;
    private final Duration timeout;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Retry retry;

    private KafkaSink(Builder b) {
        this.name = b.name != null ? b.name : "kafka:" + b.topic;
        this.topic = b.topic;
        this.valueAttribute = b.valueAttribute;
        this.sourceName = b.sourceName;
        this.timeout = b.timeout;
        this.producer = new KafkaProducer<>(b.config, new ByteArraySerializer(), new ByteArraySerializer());
        this.retry = Retry.of("ferry-kafka-" + name, RetryConfig.<Outcome>custom()
                .maxAttempts(b.attempts)
                .intervalFunction(IntervalFunction.ofExponentialBackoff(b.firstBackoff.toMillis(), 2.0))
                .retryOnResult(outcome -> outcome instanceof Outcome.Retry)
                .failAfterMaxAttempts(false)
                .build());
    }

    /** A sink writing to {@code topic} on the cluster at {@code bootstrapServers}. */
    public static Builder builder(String bootstrapServers, String topic) {
        return new Builder(bootstrapServers, topic);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome publish(Event event) {
        byte[] value;
        if (valueAttribute == null) {
            value = event.payload();
        } else {
            String v = event.attributes().get(valueAttribute);
            if (v == null) {
                return Outcome.reject("event " + event.key() + " has no attribute '" + valueAttribute
                        + "' to write as the value to Kafka topic '" + topic + "'");
            }
            value = v.getBytes(StandardCharsets.UTF_8);
        }
        var headers = new RecordHeaders();
        headers.add("ferry.event.id", event.key().getBytes(StandardCharsets.UTF_8));
        headers.add("ferry.event.type", event.type().getBytes(StandardCharsets.UTF_8));
        headers.add("ferry.event.source", sourceName.getBytes(StandardCharsets.UTF_8));
        byte[] key = event.groupKey() == null ? null : event.groupKey().getBytes(StandardCharsets.UTF_8);
        var record = new ProducerRecord<>(topic, null, key, value, headers);
        return retry.executeSupplier(() -> send(record));
    }

    private Outcome send(ProducerRecord<byte[], byte[]> record) {
        try {
            producer.send(record).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Outcome.done();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.retry("interrupted while writing to Kafka topic '" + topic + "'");
        } catch (TimeoutException e) {
            return Outcome.retry("Kafka topic '" + topic + "' did not acknowledge within " + timeout);
        } catch (ExecutionException e) {
            return outcome(e.getCause());
        } catch (RuntimeException e) {
            return outcome(e);
        }
    }

    private Outcome outcome(Throwable failure) {
        String reason = "Kafka topic '" + topic + "': " + failure.getClass().getSimpleName() + ": " + failure.getMessage();
        if (failure instanceof AuthorizationException || failure instanceof AuthenticationException
                || failure instanceof SerializationException || failure instanceof RecordTooLargeException
                || failure instanceof InvalidTopicException || failure instanceof UnsupportedVersionException) {
            return Outcome.reject(reason);
        }
        return Outcome.retry(reason);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }

    /** Builds a {@link KafkaSink}. */
    public static final class Builder {
        private final String topic;
        private final Map<String, Object> config = new HashMap<>();
        private String name;
        private String valueAttribute;
        private String sourceName = "ferry";
        private Duration timeout = Duration.ofSeconds(30);
        private int attempts = 3;
        private Duration firstBackoff = Duration.ofMillis(200);

        private Builder(String bootstrapServers, String topic) {
            if (topic == null || topic.isBlank()) {
                throw new IllegalArgumentException("topic must not be blank");
            }
            this.topic = topic;
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
            config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
            config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Write this event attribute as the value (e.g. the S3 object key) instead of the payload. */
        public Builder valueFromAttribute(String attribute) {
            this.valueAttribute = Objects.requireNonNull(attribute, "attribute");
            return this;
        }

        /** The {@code ferry.event.source} header ({@code ferry} by default). */
        public Builder sourceName(String source) {
            this.sourceName = Objects.requireNonNull(source, "source");
            return this;
        }

        /** Any producer setting (security, compression, ...); acks=all and idempotence stay on. */
        public Builder config(String key, Object value) {
            if (key.equals(ProducerConfig.ACKS_CONFIG) || key.equals(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)) {
                throw new IllegalArgumentException(key + " stays as Ferry sets it (acks=all, idempotence on)");
            }
            config.put(key, value);
            return this;
        }

        /** How long one send waits for the broker (30 s by default). */
        public Builder timeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /** Sends per event in process, including the first (3), and the first pause (200 ms, doubling). */
        public Builder retries(int attempts, Duration firstBackoff) {
            if (attempts < 1) {
                throw new IllegalArgumentException("attempts must be >= 1, was " + attempts);
            }
            this.attempts = attempts;
            this.firstBackoff = Objects.requireNonNull(firstBackoff, "firstBackoff");
            return this;
        }

        public KafkaSink build() {
            return new KafkaSink(this);
        }
    }
}
