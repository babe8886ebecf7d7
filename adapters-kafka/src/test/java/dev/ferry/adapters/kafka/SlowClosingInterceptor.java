package dev.ferry.adapters.kafka;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * An interceptor whose client takes {@link #CLOSE_MILLIS} to close (set by class name in {@code interceptor.classes},
 * which a release gives its consumer and its producer alike): a release's clients slow to stop, as a pass's own costs on
 * a cluster far away, so a move returns well after its last write. Public: the clients instantiate it.
 */
public final class SlowClosingInterceptor implements ConsumerInterceptor<byte[], byte[]>, ProducerInterceptor<byte[], byte[]> {

    static final long CLOSE_MILLIS = 700;

    public SlowClosingInterceptor() {
    }

    @Override
    public void close() {
        try {
            Thread.sleep(CLOSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    }

    @Override
    public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
