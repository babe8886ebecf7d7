package dev.ferry.adapters.kafka;

import static dev.ferry.adapters.kafka.KafkaSource.KEY_OMITTED;
import static dev.ferry.adapters.kafka.KafkaSource.VALUE_OMITTED;

import dev.ferry.adapters.kafka.KafkaDeadLetters.Sent;
import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * What goes instead of a dead letter its topic refused as too large. First the record again, whole, compressed zstd
 * ({@link Denser}), where its producer compresses otherwise; refused again (a source topic that takes larger records
 * than its dead-letter topic, or the reason pushed it over), a copy: offered again it can never fit, and it held its
 * partition for ever. Its key, reason and place go, without its value; and when the key alone does not fit either,
 * without the key, named by its hash. Each is a write of its own in its round ({@link KafkaDeadLetters#writeAll}),
 * answered like the others: waited for in place, its answer held back the reports of the round's other writes. None
 * goes once the record's partition went, and what making one throws is told for that record alone.
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
     * What goes instead of {@code sent}, sent, when its topic refused it as too large: the record whole by the
     * {@code denser} producer, where {@code sent} was neither that nor a copy and there is one ({@link #wholeAgain});
     * else a copy without its value, or, refused again, without its key too; answered within {@code wait}. Null when
     * {@code sent} was not refused so, when a copy without its key was, or when stopping: its answer is then told as it
     * is. Null too, nothing sent, when its partition is {@code gone} ({@link Sent#gone}), or when the copy could not be
     * made or sent ({@link Sent#thrown}).
     */
    static Sent copyInstead(Sent sent, Predicate<Rec> gone, Duration wait, Denser denser) {
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
            var again = sent.copy == null && !sent.denser ? wholeAgain(sent, wait, denser) : null;
            if (again != null) {
                return again;
            }
            var copy = new Sent(sent.index, sent.r, sent.reason);
            copy.producer = sent.producer;
            copy.denser = sent.denser; // renewed, when its write proves it broken, as the producer that sends it
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
     * {@code sent}'s record sent once more, whole, by the {@code denser} producer: only that write refused too leads to
     * a copy without its value. Null where there is no such producer (the first compresses zstd already; closed), or
     * where zstd is not to be had here (its native library not loaded): the first refusal stands, as at a release. What
     * else sending it throws is told for the record ({@link Sent#thrown}), offered again: taken for a refusal, a
     * producer renewed between its look and its send made a copy without the value of a record that fits.
     */
    private static Sent wholeAgain(Sent sent, Duration wait, Denser denser) {
        var again = new Sent(sent.index, sent.r, sent.reason);
        again.topic = sent.topic;
        again.deadline = System.nanoTime() + wait.toNanos(); // past the delivery timeout, as the record's own write
        try {
            again.producer = denser.current();
            if (again.producer == null) {
                return null;
            }
            again.denser = true;
            again.answer = again.producer.send(KafkaDeadLetters.whole(sent.topic, sent.r, sent.reason));
        } catch (Throwable e) {
            if (noZstd(e)) {
                return null;
            }
            again.thrown = e;
        }
        return again;
    }

    /** Whether {@code e} is zstd not to be had here: its native library or classes not loaded (the client wraps it). */
    private static boolean noZstd(Throwable e) {
        for (int depth = 0; e != null && depth < 8; e = e.getCause(), depth++) {
            if (e instanceof LinkageError) {
                return true;
            }
        }
        return false;
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

    /**
     * The dead letters' second producer, zstd (as a release's {@link DenserProducer}, a class for one release thread):
     * a record its producer wrote zstd, 1.2 MB with a repeat lz4's 64 KiB window misses, fits a topic's 1 MiB so, and
     * refused as lz4 made it, it went without its value: once its topic aged it out, nothing held it, and its parked
     * key's release stopped there for good. Made on first need (settles of several threads ask), renewed as the first
     * producer is when it proves broken, closed with it; never made where the first compresses zstd already.
     */
    static final class Denser {
        private final String owner;
        private final Map<String, Object> config; // null: the first producer compresses zstd already
        private volatile RenewableProducer producer;
        private boolean closed; // guarded by this: one made after the close stayed open, its I/O thread and buffer too

        Denser(String source, Map<String, Object> producerConfig) {
            this.owner = "Kafka source '" + source + "' (dead letters, zstd)";
            this.config = DenserProducer.differs(producerConfig) ? new HashMap<>(producerConfig) : null;
            if (config != null) {
                config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
            }
        }

        /** The producer to send with now, made if not yet; null where there is none (zstd already, or closed). */
        KafkaProducer<byte[], byte[]> current() {
            var made = producer;
            if (made == null && config != null) {
                synchronized (this) {
                    if (producer == null && !closed) {
                        producer = new RenewableProducer(owner, config);
                    }
                    made = producer;
                }
            }
            return made == null ? null : made.current();
        }

        /** What made the producer of a write {@link Sent#denser}: renewed when that write proves it broken. */
        RenewableProducer renewable() {
            return producer;
        }

        /** Closes the producer, if made, waiting up to {@code timeout} for what it still holds; none is made after. */
        void close(Duration timeout) {
            RenewableProducer made;
            synchronized (this) {
                closed = true;
                made = producer;
            }
            if (made != null) {
                made.close(timeout);
            }
        }
    }
}
