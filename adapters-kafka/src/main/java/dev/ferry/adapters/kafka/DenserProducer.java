package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A release's second producer, for a record its topic refuses as too large as the first compresses it (lz4, unless set
 * otherwise): zstd, which finds repeats lz4's 64 KiB window does not. A record its producer wrote zstd- or
 * gzip-compressed fits its topic so, and sent back lz4 it did not: every release stopped at it, "release it again", and a
 * record behind the head cannot be skipped — its key parked for good. Made on first need, by the release's one thread;
 * closed with the release.
 */
final class DenserProducer implements AutoCloseable {

    private final Map<String, Object> config;
    private KafkaProducer<byte[], byte[]> producer;

    DenserProducer(Map<String, Object> producerConfig) {
        this.config = new HashMap<>(producerConfig);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
    }

    /** Whether it compresses otherwise than {@code producerConfig}'s producer: worth a second try. */
    static boolean differs(Map<String, Object> producerConfig) {
        return !"zstd".equals(String.valueOf(producerConfig.get(ProducerConfig.COMPRESSION_TYPE_CONFIG)));
    }

    KafkaProducer<byte[], byte[]> get() {
        if (producer == null) {
            producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }
}
