package dev.ferry.adapters.kafka;

import static dev.ferry.adapters.kafka.KafkaSource.KEY_OMITTED;
import static dev.ferry.adapters.kafka.KafkaSource.VALUE_OMITTED;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The copy that goes instead of a dead letter its topic refused as too large (a source topic that takes larger records
 * than its dead-letter topic, or the reason pushed it over): offered again it can never fit, and it held its partition
 * for ever. Its key, reason and place go, without its value; and when the key alone does not fit either, without the
 * key, named by its hash. Each copy is a write of its own in its round ({@link KafkaDeadLetters#writeAll}), answered
 * like the others: waited for in place, its answer held back the reports of the round's other writes.
 */
final class TooLargeDeadLetters {

    /** How much of a reason a copy without its value keeps (a reason can be a whole stack trace). */
    private static final int MAX_OMITTED_REASON = 8192;
    /** The longest release mark a copy keeps: a longer one is not one a release wrote. */
    private static final int MAX_MARK = 200;

    private TooLargeDeadLetters() {
    }

    /** The topic's refusal of a write as too large, when that is what {@code answer} came to; else null. */
    static RecordTooLargeException refusedAsTooLarge(Future<RecordMetadata> answer) {
        return answer != null && answer.isDone() && answer.state() == Future.State.FAILED
                && answer.exceptionNow() instanceof RecordTooLargeException tooLarge ? tooLarge : null;
    }

    /**
     * The copy of {@code r}'s record without its value, to {@code topic}: its key, its reason (cut shorter than a whole
     * record's), its place, and why its value is not there ({@code tooLarge}, the topic's refusal) and where it still is.
     */
    static ProducerRecord<byte[], byte[]> copyWithoutValue(String topic, Rec r, String reason, String tooLarge) {
        var record = r.record;
        var omitted = new RecordHeaders();
        KafkaDeadLetters.addHeaders(omitted, r, reason.length() > MAX_OMITTED_REASON
                ? reason.substring(0, MAX_OMITTED_REASON) + "..." : reason);
        omitted.add(VALUE_OMITTED, ("the record (" + KafkaDeadLetters.size(record) + " bytes with its headers) did not "
                + "fit the dead-letter topic: " + tooLarge + "; it is still at " + record.topic() + "-"
                + record.partition() + "@" + record.offset() + " until that topic's retention removes it")
                .getBytes(StandardCharsets.UTF_8));
        keepReleaseMark(record, omitted);
        return new ProducerRecord<>(topic, null, record.key(), null, omitted);
    }

    /**
     * {@code withoutValue} (a {@link #copyWithoutValue} with a key) without its key either, naming it by its hash: the
     * key alone did not fit (a topic that takes keys of megabytes), and refused again and again, it held its partition
     * for ever. Its headers are copied: the producer made those of the copy it sent read-only.
     */
    static ProducerRecord<byte[], byte[]> copyWithoutKey(ProducerRecord<byte[], byte[]> withoutValue)
            throws NoSuchAlgorithmException {
        byte[] key = withoutValue.key();
        var headers = new RecordHeaders(withoutValue.headers().toArray());
        headers.add(KEY_OMITTED, ("sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key))
                + " (" + key.length + " bytes)").getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<byte[], byte[]>(withoutValue.topic(), null, (byte[]) null, (byte[]) null, headers);
    }

    /**
     * The mark of the release that sent the record back, on a copy without its value: the next release of its key
     * knows it by that mark for a head that failed again, to go first (a mark longer than a release writes is not one).
     */
    private static void keepReleaseMark(ConsumerRecord<byte[], byte[]> record, RecordHeaders omitted) {
        var mark = record.headers().lastHeader(dev.ferry.domain.parking.GroupParker.RELEASE_ATTRIBUTE);
        if (mark != null && mark.value() != null && mark.value().length <= MAX_MARK) {
            omitted.add(mark);
        }
    }
}
