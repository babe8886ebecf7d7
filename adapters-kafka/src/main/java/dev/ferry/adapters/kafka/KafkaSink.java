package dev.ferry.adapters.kafka;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Propagation;
import dev.ferry.domain.transport.Sink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A Kafka topic as a {@link Sink} (the S3 → Kafka job), on an idempotent producer
 * ({@code acks=all}, idempotence on). The record key is the event's group key, so one object's
 * events keep their partition order; the value is the payload or one of the event's attributes
 * (e.g. the S3 object key, as the reference job sends); headers carry the event id, type and the
 * configured source name.
 *
 * <p>{@link #publish} sends the record <em>once</em> and returns once the broker acknowledged it
 * ({@code Done}). Retrying is the producer's: it tries again within {@code delivery.timeout.ms}
 * (the builder's {@code timeout}), deduplicated by idempotence. A failure it gives up on (timeouts,
 * leader changes, a topic not there yet) is {@code Retry}, so the message goes back to its queue;
 * so are authentication, authorization, an invalid topic and an unsupported version — the
 * cluster's or the configuration's, not the event's, and often passing (credentials rotated, an ACL
 * put back): the receive limit still dead-letters a message they keep refusing. Only what is the
 * record's own fault, serialization and size, is {@code Reject}. When the producer has said nothing
 * by {@code delivery.timeout.ms} plus a margin, the outcome is unknown: {@code Retry} with a reason
 * saying so, and no second send, since a second send could write the record twice (idempotence
 * deduplicates only the producer's own retries). A producer that broke that promise (its I/O thread
 * ended by an {@code Error}) or failed in a way it does not recover from (fenced, a fatal
 * authorization or sequence error) is replaced by a new one, at most once every
 * {@link RenewableProducer#RENEW_AT_MOST_EVERY}. For fan-out to several
 * clusters or topics, give each its own sink and route to all of them with
 * {@code RoutingHandler.tracked}: the source message is acked when every target confirmed, and a
 * target that already has the event is not written again on the redelivery. Thread-safe.
 */
public final class KafkaSink implements Sink {

    private final String name;
    private final String topic;
    private final String valueAttribute;
    /** Beyond {@code delivery.timeout.ms}, how long a send's future may take to complete before its outcome counts as unknown. */
    static final Duration UNKNOWN_OUTCOME_MARGIN = Duration.ofSeconds(5);

    private final String sourceName;
    /** How long publish waits for the send's future: {@code delivery.timeout.ms} + the margin. */
    private final Duration wait;
    private final RenewableProducer producer;
    /** The cluster unreachable or failing: waited out for a while, then attempts are spent (see {@link dev.ferry.domain.transport.Outage}). */
    private final dev.ferry.domain.transport.Outage outage;

    private KafkaSink(Builder b) {
        this.outage = new dev.ferry.domain.transport.Outage(b.outagePatience);
        this.name = b.name != null ? b.name : "kafka:" + b.topic;
        this.topic = b.topic;
        this.valueAttribute = b.valueAttribute;
        this.sourceName = b.sourceName;
        var config = new HashMap<>(b.config);
        if (!config.containsKey(ProducerConfig.MAX_REQUEST_SIZE_CONFIG)) {
            // a record as large as its topic takes: the client's own 1 MiB refused larger ones, each dead-lettered as its
            // own fault. As large as the buffer holds (a buffer.memory of the user's kept), compression left as it is
            long buffer = millis(config.get(ProducerConfig.BUFFER_MEMORY_CONFIG), KafkaParkedGroupMover.MAX_RECORD);
            config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, (int) Math.min(KafkaParkedGroupMover.MAX_RECORD, buffer));
            config.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, (long) KafkaParkedGroupMover.MAX_RECORD);
        }
        long delivery = millis(config.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG), 120_000);
        long linger = millis(config.get(ProducerConfig.LINGER_MS_CONFIG), 5);
        long request = millis(config.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG), 30_000);
        if (!b.requestTimeoutSet && request + linger > delivery) {
            // the producer refuses delivery.timeout.ms < linger.ms + request.timeout.ms: a short timeout shortens requests
            config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1, delivery - linger));
        }
        this.wait = Duration.ofMillis(delivery).plus(UNKNOWN_OUTCOME_MARGIN);
        this.producer = new RenewableProducer("Kafka sink '" + name + "'", config);
    }

    static long millis(Object value, long fallback) {
        if (value instanceof Number n) {
            return n.longValue();
        }
        if (value != null) {
            try {
                return Long.parseLong(value.toString().trim());
            } catch (NumberFormatException e) {
                return fallback;      // the producer reports the bad setting
            }
        }
        return fallback;
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
            // a tombstone read by a Kafka source goes out as one: written as an empty value, compaction keeps the key;
            // an attribute of that name from anywhere else (a forged SNS attribute, an HTTP header) is not one
            value = event.payload().length == 0 && KafkaDeliveries.readAsTombstone(event.attributes())
                    ? null : event.payload();
        } else {
            String v = event.attributes().get(valueAttribute);
            if (v == null) {
                return Outcome.reject("event " + event.key() + " has no attribute '" + valueAttribute
                        + "' to write as the value to Kafka topic '" + topic + "'");
            }
            value = v.getBytes(StandardCharsets.UTF_8);
        }
        var headers = new RecordHeaders();
        headers.add("ferry.event.id", KafkaKeys.textBytes(event.key())); // half a surrogate pair kept apart, not '?'
        headers.add("ferry.event.type", KafkaKeys.textBytes(event.type()));
        headers.add("ferry.event.source", sourceName.getBytes(StandardCharsets.UTF_8));
        Propagation.current().forEach((name, carried) -> {
            headers.remove(name);
            headers.add(name, carried.getBytes(StandardCharsets.UTF_8));
        });
        byte[] key = KafkaKeys.bytes(event.groupKey()); // a binary key read by a Kafka source goes out as its bytes
        var record = new ProducerRecord<>(topic, null, key, value, headers);
        return send(event.key(), record);
    }

    /** Nothing was handed to the producer: the message comes back and is sent then. */
    private Outcome interruptedBeforeSending() {
        return Outcome.retry("interrupted before sending to Kafka topic '" + topic + "'");
    }

    /** One send, never two: the producer retries within delivery.timeout.ms, deduplicated by idempotence. */
    private Outcome send(String eventKey, ProducerRecord<byte[], byte[]> record) {
        if (Thread.currentThread().isInterrupted()) {
            // stopping: handed to the producer, the record would be written while this answered "interrupted", and written
            // again when the message comes back
            return interruptedBeforeSending();
        }
        var producer = this.producer.current();
        Future<RecordMetadata> future;
        try {
            future = producer.send(record);
        } catch (org.apache.kafka.common.errors.InterruptException e) {
            // interrupted while it waited for the topic's metadata: the cluster said nothing (taken for its answer, it ended
            // an outage under way and restarted the event's wait)
            return interruptedBeforeSending();
        } catch (RuntimeException e) {
            var renewed = this.producer.current();
            if (renewed == producer) {
                return outcome(eventKey, record, producer, e); // not handed to the producer
            }
            try { // closed under it by a renewal (another send found it broken): the new one takes the record
                producer = renewed;
                future = renewed.send(record);
            } catch (org.apache.kafka.common.errors.InterruptException again) {
                return interruptedBeforeSending();
            } catch (RuntimeException again) {
                return outcome(eventKey, record, renewed, again);
            }
        }
        try {
            future.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            outage.worked(eventKey);
            return Outcome.done();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.retry("outcome unknown: interrupted while waiting for Kafka topic '" + topic
                    + "'; the producer may still write the record, so it may be there when the message comes back");
        } catch (TimeoutException e) {
            // the producer completes every send within delivery.timeout.ms: one that did not is broken (an Error ended
            // its I/O thread, say), and every later send would wait here as long
            this.producer.renew(producer, "a send was neither acknowledged nor refused within " + wait);
            return Outcome.retry("outcome unknown: Kafka topic '" + topic + "' neither acknowledged nor refused the record within "
                    + wait + "; the producer may still write it, so it may be there when the message comes back");
        } catch (ExecutionException e) {
            return outcome(eventKey, record, producer, e.getCause());
        }
    }

    private Outcome outcome(String eventKey, ProducerRecord<byte[], byte[]> record, KafkaProducer<byte[], byte[]> producer,
                            Throwable failure) {
        String reason = "Kafka topic '" + topic + "': " + dev.ferry.domain.model.Thrown.describe(failure);
        var fatal = RenewableProducer.fatalCause(failure);
        // a producer in the client's fatal state fails each send from send() itself ("in an error state"), whatever the
        // record: the producer's fault, not the event's — waited out until it is replaced, as an outage
        boolean brokenProducer = fatal != null || this.producer.awaitsRenewal(producer)
                // a failure that names no class is the producer's, not the record's (each of those has its own): the
                // batches a producer in the client's fatal state held (an InitProducerId answered UNKNOWN_SERVER_ERROR),
                // or those a replaced producer's close aborted — each spent an attempt, as the event's own fault
                || failure.getClass() == org.apache.kafka.common.KafkaException.class && !partOfABadBatch(failure);
        if (fatal != null) {
            this.producer.renew(producer, reason);
        }
        if (brokenProducer || failure instanceof org.apache.kafka.common.errors.RetriableException
                || failure instanceof org.apache.kafka.common.errors.AuthorizationException
                || failure instanceof org.apache.kafka.common.errors.AuthenticationException) {
            // the cluster unreachable or failing (no metadata, a full buffer, too few replicas), or refusing this
            // client (credentials rotated, an ACL being put back): waited out for a while (answered Retry, a broker
            // restart or a rotation of 15 s spent every event's attempts), then taken for what waiting does not cure
            // (a topic that does not exist looks the same: no metadata)
            return outage.failed(eventKey, reason, "Kafka topic '" + topic + "': " + failure.getClass().getSimpleName(),
                    OUTAGE_WAIT);
        }
        outage.worked(eventKey); // the cluster answered for it, whatever it said
        if (failure instanceof SerializationException || failure instanceof RecordTooLargeException || keylessOnCompacted(
                record, failure)) {
            return Outcome.reject(reason); // the record's own: it would fail the same again
        }
        if (failure.getClass() == org.apache.kafka.common.KafkaException.class && partOfABadBatch(failure)) {
            // another record of its batch was invalid: this one is not, and a Retry
            return Outcome.throttled(OUTAGE_WAIT); // spent its attempts each time it shared a batch with such a record
        }
        return Outcome.retry(reason);
    }

    /**
     * A record without a key that a compacted topic refused. Only that: the client calls a batch with several refused
     * records {@code InvalidRecordException} whatever the broker said of each (timestamps out of range, a clock skewed:
     * the cluster's or the host's, not the record's — those stay Retry).
     */
    /** The client's word for a record refused only because another record of its batch was invalid. */
    private static boolean partOfABadBatch(Throwable failure) {
        return String.valueOf(failure.getMessage()).contains("part of a batch which had");
    }

    private static boolean keylessOnCompacted(ProducerRecord<byte[], byte[]> record, Throwable failure) {
        return record.key() == null && failure instanceof org.apache.kafka.common.InvalidRecordException
                && dev.ferry.domain.model.Thrown.message(failure).toLowerCase(java.util.Locale.ROOT).contains("without key");
    }

    /** How long an event waits before it is sent again while the cluster cannot be reached. */
    static final Duration OUTAGE_WAIT = Duration.ofSeconds(1);

    @Override
    public java.util.Optional<String> holdingBack() {
        return outage.holdingBack();
    }

    @Override // the class of the failure, not the broker's words
    public java.util.Optional<String> holdingBackInBrief() {
        return outage.holdingBackInBrief();
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
        private boolean requestTimeoutSet;
        private Duration outagePatience = dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE;

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
            if (key.equals(ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
                // a transactional producer refuses every send outside a transaction, which this sink never begins
                throw new IllegalArgumentException(key + " is not supported: the sink sends each record on its own, "
                        + "idempotently, outside any transaction");
            }
            var undone = KafkaSourceConfig.keyOrderUndone(key, value);
            if (!undone.isEmpty()) {
                throw new IllegalArgumentException(undone.getFirst());
            }
            if (key.equals(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)) {
                requestTimeoutSet = true;
            }
            config.put(key, value);
            return this;
        }

        /**
         * How long the cluster unreachable or failing (a retriable error) is waited out — events answered
         * {@code Throttled}, no attempt spent — before attempts are spent (15 min by default): a topic
         * that does not exist looks the same from here, and must reach the dead-letter queue in the end.
         */
        public Builder outagePatience(Duration patience) {
            this.outagePatience = Objects.requireNonNull(patience, "outagePatience");
            return this;
        }

        /**
         * How long the producer may take to deliver one record, its own retries included (30 s by
         * default): {@code delivery.timeout.ms}. {@code request.timeout.ms} (10 s) is shortened to fit
         * unless set. Publish waits this plus a margin; after that the outcome is unknown.
         */
        public Builder timeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
            }
            config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            return this;
        }

        /**
         * No longer used: a record is sent once per publish, and the producer retries within
         * {@link #timeout} (a second send could write it twice). Kept so existing callers compile.
         *
         * @deprecated the producer retries; tune {@link #timeout} instead
         */
        @Deprecated
        public Builder retries(int attempts, Duration firstBackoff) {
            if (attempts < 1) {
                throw new IllegalArgumentException("attempts must be >= 1, was " + attempts);
            }
            Objects.requireNonNull(firstBackoff, "firstBackoff");
            return this;
        }

        public KafkaSink build() {
            return new KafkaSink(this);
        }
    }
}
