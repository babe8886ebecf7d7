package dev.ferry.adapters.kafka;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A producer interceptor (set by class name in {@code interceptor.classes}) for a dead letter too large for its topic:
 * the copy that goes instead, without its value (marked {@link KafkaSource#VALUE_OMITTED}), is written by the broker
 * but its answer is held back ({@link #hold}), as a slow broker's would be. The acknowledgement waits on the producer's
 * I/O thread, so the copy is sent only once another topic's write was acknowledged: that one's answer is not queued
 * behind it. Public: the producer instantiates it.
 */
public final class OmittedCopyInterceptor implements ProducerInterceptor<byte[], byte[]> {

    private static final Map<String, Hold> HOLDS = new ConcurrentHashMap<>();

    /** A topic's copy held: the other topic's write it waits for, and the copy's answer, waiting and let through. */
    private record Hold(String after, CountDownLatch afterWritten, CountDownLatch copySent, CountDownLatch waiting,
                        CountDownLatch opened) {
    }

    public OmittedCopyInterceptor() {
    }

    /**
     * A copy without its value to {@code topic} is sent once a write to {@code after} was acknowledged (30 s at most);
     * its own acknowledgement then waits (60 s at most) for {@link #open}.
     */
    static void hold(String topic, String after) {
        HOLDS.put(topic, new Hold(after, new CountDownLatch(1), new CountDownLatch(1), new CountDownLatch(1),
                new CountDownLatch(1)));
    }

    /** Whether the copy to {@code topic} is on the broker, its answer held back. */
    static boolean holding(String topic) {
        var hold = HOLDS.get(topic);
        return hold != null && hold.waiting().getCount() == 0;
    }

    static void open(String topic) {
        var hold = HOLDS.remove(topic);
        if (hold != null) {
            hold.opened().countDown();
        }
    }

    @Override
    public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
        var hold = HOLDS.get(record.topic());
        if (hold != null && record.headers().lastHeader(KafkaSource.VALUE_OMITTED) != null) {
            try {
                hold.afterWritten().await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            hold.copySent().countDown();
        }
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        if (metadata == null || exception != null) { // the record itself refused as too large: answered at once
            return;
        }
        for (var hold : HOLDS.values()) {
            if (hold.after().equals(metadata.topic())) {
                hold.afterWritten().countDown();
            }
        }
        var hold = HOLDS.get(metadata.topic());
        if (hold != null && hold.copySent().getCount() == 0) { // the only write to that topic that succeeds: the copy
            ReleaseInterceptor.holdUntilOpened(hold.waiting(), hold.opened());
        }
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
