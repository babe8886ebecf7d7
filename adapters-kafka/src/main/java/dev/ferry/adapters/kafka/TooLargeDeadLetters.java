package dev.ferry.adapters.kafka;

import static dev.ferry.adapters.kafka.KafkaSource.KEY_OMITTED;
import static dev.ferry.adapters.kafka.KafkaSource.VALUE_OMITTED;

import dev.ferry.adapters.kafka.KafkaDeadLetters.Sent;
import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Future;
import java.util.function.Predicate;
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
 * like the others: waited for in place, its answer held back the reports of the round's other writes. None goes once
 * the record's partition went, and what making one throws is told for that record alone.
 */
final class TooLargeDeadLetters {

    /** How much of a reason a copy without its value keeps (a reason can be a whole stack trace). */
    private static final int MAX_OMITTED_REASON = 8192;
    /** The longest release mark a copy keeps: a longer one is not one a release wrote. */
    private static final int MAX_MARK = 200;

    /** A test's stand-in for an Error where a copy's write is made (no memory); null outside tests. */
    static volatile Runnable copyFault;

    private TooLargeDeadLetters() {
    }

    /**
     * The copy that goes instead of {@code sent}, sent, when its topic refused it as too large: without its value, or,
     * refused again, without its key too; answered within {@code wait}. Null when {@code sent} was not refused so, when
     * a copy without its key was, or when stopping: its answer is then told as it is. Null too, nothing sent, when its
     * partition is {@code gone} ({@link Sent#gone}), or when the copy could not be made or sent ({@link Sent#thrown}).
     */
    static Sent copyInstead(Sent sent, Predicate<Rec> gone, Duration wait) {
        var tooLarge = Thread.currentThread().isInterrupted() ? null : refusedAsTooLarge(sent.answer);
        if (tooLarge == null || sent.copy != null && sent.copy.key() == null) {
            return null;
        }
        try {
            // its revocation stopped waiting while the refusal was on its way (its leader moving) and committed below it:
            // sent, the copy landed for a partition no longer ours, and its next owner dead-lettered the record again
            if (gone.test(sent.r)) {
                sent.gone = true;
                return null;
            }
            var fault = copyFault; // read once: a test clears it between a look and a run
            if (fault != null) {
                fault.run();
            }
            var copy = new Sent(sent.index, sent.r, sent.reason);
            copy.producer = sent.producer;
            copy.topic = sent.topic;
            copy.tooLarge = sent.copy == null ? tooLarge.getMessage() : sent.tooLarge;
            // as long as a record's own write: past the producer's delivery timeout, so one not answered has surely failed
            copy.deadline = System.nanoTime() + wait.toNanos();
            copy.copy = sent.copy == null ? copyWithoutValue(sent.topic, sent.r, sent.reason, copy.tooLarge)
                    : copyWithoutKey(sent.copy);
            copy.answer = copy.producer.send(copy.copy);
            return copy;
        } catch (Throwable e) {
            // an Error making the copy (no memory), or what its send threw: told for this record, as the answer's own
            // failure would be. Out of writeAll, the settle offered again each record of the round not told yet, and
            // one of them already written went to its dead-letter topic twice
            sent.thrown = e;
            return null;
        }
    }

    /**
     * The topic's refusal of a write as too large, when that is what {@code answer} came to; else null, and null when
     * reading it threw (an Error, no memory): its answer is then told as it is, asked again. Taken for a refusal, a
     * write that had landed was told failed, offered again and dead-lettered twice; out of writeAll, the round's were.
     */
    private static RecordTooLargeException refusedAsTooLarge(Future<RecordMetadata> answer) {
        try {
            return answer != null && answer.isDone() && answer.state() == Future.State.FAILED
                    && answer.exceptionNow() instanceof RecordTooLargeException tooLarge ? tooLarge : null;
        } catch (Throwable e) { // state() and exceptionNow() make an ExecutionException to read the answer
            return null;
        }
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
