package dev.ferry.adapters.kafka;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A producer interceptor (the Kafka client's own plug-in point, set by class name in
 * {@code interceptor.classes}) that counts {@code send()} calls per topic, and can hold back a
 * topic's acknowledgements: while a topic's gate is shut, the producer's I/O thread waits in
 * {@link #onAcknowledgement} (up to 60 s), so the send's future does not complete even though the
 * broker wrote the record; or throw an {@code Error} from it once. Public with a public constructor because the producer instantiates it.
 */
public final class CountingInterceptor implements ProducerInterceptor<byte[], byte[]> {

    private static final Map<String, AtomicInteger> SENDS = new ConcurrentHashMap<>();
    private static final Map<String, CountDownLatch> GATES = new ConcurrentHashMap<>();
    private static final Set<String> ERROR_ONCE = ConcurrentHashMap.newKeySet();

    public CountingInterceptor() {
    }

    /** How many times send() was called for {@code topic}, by any producer with this interceptor. */
    static int sends(String topic) {
        var n = SENDS.get(topic);
        return n == null ? 0 : n.get();
    }

    /** From now on acknowledgements of records to {@code topic} wait until {@link #open}. */
    static void shut(String topic) {
        GATES.put(topic, new CountDownLatch(1));
    }

    /**
     * The next acknowledgement of a record to {@code topic} throws an {@link AssertionError}: an
     * {@code Error} from a plugin, which the producer's I/O thread does not catch (it ends there).
     */
    static void errorOnce(String topic) {
        ERROR_ONCE.add(topic);
    }

    static void open(String topic) {
        var gate = GATES.remove(topic);
        if (gate != null) {
            gate.countDown();
        }
    }

    @Override
    public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
        SENDS.computeIfAbsent(record.topic(), t -> new AtomicInteger()).incrementAndGet();
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        if (metadata != null && ERROR_ONCE.remove(metadata.topic())) {
            throw new AssertionError("a plugin's Error on the producer's I/O thread (injected)");
        }
        var gate = metadata == null ? null : GATES.get(metadata.topic());
        if (gate != null) {
            try {
                gate.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
