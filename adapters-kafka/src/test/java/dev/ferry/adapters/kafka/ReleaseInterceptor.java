package dev.ferry.adapters.kafka;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;

/**
 * An interceptor for a release's clients (set by class name in {@code interceptor.classes}, which a release gives its
 * consumer and its producer alike, so it is both): a dead letter that lands while a release reads, fetched with the
 * records that were there when the read began ({@link #landDuringRead}); and writes whose acknowledgement waits, so
 * the release waits on its send ({@link #holdAcknowledgements}). Public: the clients instantiate it.
 */
public final class ReleaseInterceptor implements ConsumerInterceptor<byte[], byte[]>, ProducerInterceptor<byte[], byte[]> {

    private static final Map<String, ProducerRecord<byte[], byte[]>> LANDING = new ConcurrentHashMap<>();
    private static final Map<String, Long> LANDED = new ConcurrentHashMap<>();
    private static final Map<String, Hold> HOLDS = new ConcurrentHashMap<>();

    /** Acknowledgements of a topic let through before the rest wait, until the hold is opened. */
    private record Hold(AtomicInteger through, CountDownLatch opened, CountDownLatch waiting) {
    }

    public ReleaseInterceptor() {
    }

    /**
     * The next poll that returns records of {@code record}'s topic writes {@code record} first (to its partition) and
     * returns it with them: a fetch that read on past the end its read began with.
     */
    static void landDuringRead(ProducerRecord<byte[], byte[]> record) {
        LANDING.put(record.topic(), record);
    }

    /** Where the record of {@link #landDuringRead} was written in {@code topic}; null before it was. */
    static Long landedAt(String topic) {
        return LANDED.get(topic);
    }

    /** From now on, past the first {@code through}, acknowledgements of records to {@code topic} wait (up to 60 s) for {@link #open}. */
    static void holdAcknowledgements(String topic, int through) {
        HOLDS.put(topic, new Hold(new AtomicInteger(through), new CountDownLatch(1), new CountDownLatch(1)));
    }

    /** Whether an acknowledgement of {@code topic} waits now: its write is on the broker, its sender still waiting. */
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
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
        for (var partition : records.partitions()) {
            var landing = LANDING.remove(partition.topic());
            if (landing != null) {
                return withLanded(records, landing);
            }
        }
        return records;
    }

    private static ConsumerRecords<byte[], byte[]> withLanded(ConsumerRecords<byte[], byte[]> records,
                                                             ProducerRecord<byte[], byte[]> landing) {
        RecordMetadata written;
        try (var producer = KafkaBroker.producer()) {
            written = producer.send(landing).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the record to land during the read was not written", e); // an Error: out of poll
        }
        var all = new HashMap<TopicPartition, List<ConsumerRecord<byte[], byte[]>>>();
        for (var partition : records.partitions()) {
            all.put(partition, new ArrayList<>(records.records(partition)));
        }
        var at = new TopicPartition(written.topic(), written.partition());
        all.computeIfAbsent(at, p -> new ArrayList<>()).add(new ConsumerRecord<>(written.topic(), written.partition(),
                written.offset(), written.timestamp(), TimestampType.CREATE_TIME, landing.key().length, landing.value().length,
                landing.key(), landing.value(), landing.headers(), Optional.empty()));
        LANDED.put(written.topic(), written.offset());
        return new ConsumerRecords<>(all, records.nextOffsets());
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
        var hold = metadata == null ? null : HOLDS.get(metadata.topic());
        if (hold != null && hold.through().getAndDecrement() <= 0) {
            holdUntilOpened(hold.waiting(), hold.opened());
        }
    }

    /**
     * Holds the producer's I/O thread here — says so on {@code waiting} — until {@code opened}, a minute at most: every
     * answer behind this one waits with it.
     */
    static void holdUntilOpened(CountDownLatch waiting, CountDownLatch opened) {
        waiting.countDown();
        try {
            opened.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
