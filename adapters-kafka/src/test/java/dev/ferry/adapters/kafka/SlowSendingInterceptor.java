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
 * An interceptor whose producer takes {@link #SEND_MILLIS} more per record (set by class name in
 * {@code interceptor.classes}, which a release gives its consumer and its producer alike): a release that sends back
 * slowly, as to a cluster far away, so what its records do meanwhile (one failing again) happens within its first batch.
 * Public: the clients instantiate it.
 */
public final class SlowSendingInterceptor implements ConsumerInterceptor<byte[], byte[]>, ProducerInterceptor<byte[], byte[]> {

    static final long SEND_MILLIS = 5;

    public SlowSendingInterceptor() {
    }

    @Override
    public void close() {
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
        try {
            Thread.sleep(SEND_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
