package dev.ferry.adapters.kafka;

import static dev.ferry.adapters.kafka.KafkaSource.OFFSET;
import static dev.ferry.adapters.kafka.KafkaSource.PARTITION;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka source's dead-letter writes: each record with its reason and place in headers, to the topic
 * its naming function gives, waited for until the broker confirmed it. Never throws: a write that did
 * not happen (whatever was thrown, an {@code Error} too) is a problem returned, and the record is
 * offered again.
 */
final class KafkaDeadLetters implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class); // its warnings where they were
    /** How much of a reason any copy keeps: the start, where a parked group's reason names the group and its head. */
    static final int MAX_REASON = 65_536;

    private final String name;
    private final Map<String, Object> producerConfig;
    private final UnaryOperator<String> topicOf;
    /** How long a write is waited for: past the producer's own delivery timeout ({@link #waitedPastDelivery}). */
    private final Duration wait;
    private volatile RenewableProducer producer;
    /** The second producer, zstd, for a record refused as too large as this one compresses it (lz4 unless set). */
    private final TooLargeDeadLetters.Denser denser;

    KafkaDeadLetters(String name, Map<String, Object> producerConfig, UnaryOperator<String> topicOf) {
        this.name = name;
        this.topicOf = topicOf;
        this.producerConfig = new HashMap<>(producerConfig);
        KafkaSourceConfig.refuseKeySpreading(this.producerConfig);
        this.wait = waitedPastDelivery(this.producerConfig);
        // send() waits for the topic's metadata before the write is even queued: 60 s by default, for each dead letter
        // of a settle in turn, while every ack of the source waits behind them (a dead-letter topic that does not exist)
        this.producerConfig.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS);
        // a dead letter as its topic took it: with the producer's 1 MiB default, uncompressed, a 2 MB record (both topics
        // allowing 10 MB) went without its value — its header blaming the dead-letter topic — and once the source topic
        // aged it out, nothing held it, and its parked key's release stopped there for good
        KafkaParkedGroupMover.wholeRecords(this.producerConfig);
        this.denser = new TooLargeDeadLetters.Denser(name, this.producerConfig);
    }

    /**
     * Bounds a producer's own delivery timeout (where not set) and says how long to wait for a write of
     * its: past that timeout, so a write that timed out has surely failed — not still queued in the
     * producer, to land later beside the copy sent again (or a record reported as not moved).
     */
    static Duration waitedPastDelivery(Map<String, Object> producerConfig) {
        long linger = KafkaSink.millis(producerConfig.get(ProducerConfig.LINGER_MS_CONFIG), 5);
        if (!producerConfig.containsKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)) {
            // the producer's 120 s would outlast the wait: 25 s, so the settler is held as before — or longer, when a
            // configured request timeout needs it (the producer refuses delivery.timeout.ms < linger.ms + request.timeout.ms)
            long request = KafkaSink.millis(producerConfig.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG), 0);
            producerConfig.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                    (int) Math.min(Integer.MAX_VALUE, Math.max(KafkaSource.DEAD_LETTER_DELIVERY_MS, linger + request + 1)));
        }
        long delivery = KafkaSink.millis(producerConfig.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG), 120_000);
        producerConfig.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1, Math.min(30_000, delivery - linger)));
        return Duration.ofMillis(delivery).plus(KafkaSink.UNKNOWN_OUTCOME_MARGIN);
    }

    /** How long a dead-letter write waits for its topic's metadata (or room in the producer) before it fails. */
    static final int MAX_BLOCK_MS = 5_000;

    Duration waitFor() { return wait; }

    void open() {
        producer = new RenewableProducer("Kafka source '" + name + "' (dead letters)", producerConfig);
    }

    /** Refuses a topic of {@code topics} that does not exist, and a dead-letter topic of theirs that compacts. */
    void refuseCompacted(java.util.Collection<String> topics) {
        KafkaStartChecks.refuse(name, producerConfig, topics, topicOf);
    }

    /**
     * What came of one of a settle's dead-letter writes: null once the broker confirmed it, or when it was not sent
     * because its partition went (the caller finds it gone, as for one written after it went); else what went wrong.
     */
    interface Written {
        void written(int index, String problem);
    }

    /**
     * Writes each dead letter's record to its dead-letter topic and says, as it learns it, what came of
     * each: records of different keys at once, each waited for together (one after another, a settle of
     * a hundred dead letters held every ack of the source for a hundred round trips); records of one key
     * one after another, in their order, as a release reads them back; once one of a key fails, not the key's later
     * ones (each waited out the delivery timeout in turn: twenty held every ack ten minutes, then landed ahead of the
     * one that failed). A record whose partition is {@code gone} (asked as its write, or its copy's, would start) is not
     * sent. One its topic refuses as too large goes again zstd-compressed, then, refused again, as a copy
     * ({@link TooLargeDeadLetters}): each one more write of the round. Never throws for a write; throws only what
     * {@code gone} or {@code written} throws.
     */
    void writeAll(List<Settlement> deadLetters, Predicate<Rec> gone, Written written) {
        var left = new ArrayList<Integer>(deadLetters.size());
        var keyOf = new ArrayList<List<Object>>(deadLetters.size());
        for (int i = 0; i < deadLetters.size(); i++) {
            left.add(i);
            var record = rec(deadLetters.get(i)).record;
            keyOf.add(record.key() == null ? null : List.of(record.topic(), ByteBuffer.wrap(record.key())));
        }
        var failedKeys = new HashMap<List<Object>, String>();
        while (!left.isEmpty()) {
            var keys = new java.util.HashSet<List<Object>>();
            var round = new ArrayList<Integer>();
            var later = new ArrayList<Integer>();
            long bytes = 0;
            for (int i : left) {
                var key = keyOf.get(i);
                String before = key == null ? null : failedKeys.get(key);
                if (before != null) {
                    written.written(i, "not sent: an earlier dead letter of its key was not written (" + before
                            + "); offered again behind it");
                    continue;
                }
                long size = size(rec(deadLetters.get(i)).record);
                // a round in flight at once holds its records in the producer's buffer too: kept to a share of it
                boolean fits = round.isEmpty() || bytes + size <= ROUND_BYTES;
                // a key's place is taken by its first record left, whether it goes now or not: the next waits behind it
                boolean keyFree = key == null || keys.add(key);
                boolean now = keyFree && fits;
                if (now) {
                    bytes += size;
                }
                (now ? round : later).add(i);
            }
            var unreported = new ArrayList<Sent>(round.size());
            for (int i : round) {
                var s = deadLetters.get(i);
                // its revocation stopped waiting while an earlier round was written: sent, it landed for a partition not
                // ours, and its next owner ran it again. Not sent, it is told as one written after its partition went
                if (gone.test(rec(s))) {
                    written.written(i, null);
                } else {
                    unreported.add(start(i, rec(s), ((Disposition.DeadLetter) s.disposition()).reason()));
                }
            }
            long deadline = System.nanoTime() + wait.toNanos(); // all sent by now: waited for as one
            unreported.forEach(sent -> sent.deadline = deadline);
            while (!unreported.isEmpty()) {
                boolean copied = false;
                for (var it = unreported.listIterator(); it.hasNext(); ) {
                    var sent = it.next();
                    // told as answered, not in list order (a round has one record of a key: no order to keep): one written in
                    // ms waited behind a slow write (a leader restarting), its revocation gave up, and the next owner ran it again
                    if (sent.deadline - System.nanoTime() <= 0 || Thread.currentThread().isInterrupted()
                            || sent.thrown != null || sent.answer.isDone()) {
                        // refused as too large, its second try (zstd) or copy is one more write of the round: waited
                        // for here, the copy's answer (25 s, its broker slow) held back the others' reports as that
                        // slow write did
                        var copy = TooLargeDeadLetters.copyInstead(sent, gone, wait, denser);
                        if (copy != null) {
                            it.set(copy); // in its place: a list grown for copies threw (no memory) out of writeAll
                            copied = true; // and no slice waited this pass: a copy answered at once is told at once
                            continue;
                        }
                        it.remove();
                        // its partition gone, no copy sent: told as a record not sent is, above
                        String problem = sent.gone ? null : finish(sent);
                        if (problem != null && keyOf.get(sent.index) != null) {
                            failedKeys.put(keyOf.get(sent.index), problem);
                        }
                        written.written(sent.index, problem);
                    }
                }
                if (!copied && !unreported.isEmpty()) {
                    try { // a slice (10 ms), not the rest of the wait: another of the round may be answered first
                        var first = unreported.get(0);
                        first.answer.get(Math.min(TimeUnit.MILLISECONDS.toNanos(10), first.deadline - System.nanoTime()),
                                TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt(); // stopping: the rest told at once, as interrupted
                    } catch (Throwable answeredOrNot) { // its answer, or none yet: told when finished
                    }
                }
            }
            left = later;
        }
    }

    /** The most bytes of records one round sends at once (one larger record goes alone). */
    static final long ROUND_BYTES = 16L << 20;

    private static Rec rec(Settlement s) {
        return (Rec) s.delivery().receipt();
    }

    /**
     * A dead-letter write sent: its record, reason, topic and producer, and the broker's answer to come (or what was
     * thrown). Not private: a copy's, for a record refused as too large, is made by {@link TooLargeDeadLetters}.
     */
    static final class Sent {
        final int index; // in the settle's dead letters
        final Rec r;
        final String reason;
        KafkaProducer<byte[], byte[]> producer;
        String topic = "(none yet)";
        Future<RecordMetadata> answer;
        Throwable thrown;
        long deadline; // nanoTime the answer is waited for until
        ProducerRecord<byte[], byte[]> copy; // what went instead of the record, refused as too large; null: the record
        String tooLarge; // that refusal, for a copy
        boolean gone; // refused as too large, and no copy sent: its partition went meanwhile
        boolean denser; // sent by the second producer (zstd): refused as too large as the first compressed it

        Sent(int index, Rec r, String reason) {
            this.index = index;
            this.r = r;
            this.reason = reason;
        }
    }

    /**
     * Sends one dead letter. A topic without metadata (not made, on a cluster that does not create topics; deleted)
     * holds each send {@code max.block.ms} (5 s), one after another: a settle of 100 dead letters held every ack of the
     * source for eight minutes. Once one send to a topic waited that out, later ones to it fail at once for
     * {@link #BLOCKED_FOR}: remembered by one call only, each owed dead letter offered again a second later waited it out
     * anew, and the source's every ack waited 5 s in each 6.
     */
    private Sent start(int index, Rec r, String reason) {
        var sent = new Sent(index, r, reason);
        if (Thread.currentThread().isInterrupted()) { // stopping: sent now, it would be reported unwritten and sent again
            sent.thrown = new InterruptedException("interrupted before the write was sent");
            return sent;
        }
        try {
            var record = r.record;
            sent.producer = this.producer.current();
            sent.topic = topicOf.apply(record.topic());
            if (blocked(sent.topic)) {
                sent.thrown = new org.apache.kafka.common.errors.TimeoutException("dead-letter topic '" + sent.topic
                        + "' gave no metadata within max.block.ms for an earlier record, less than "
                        + BLOCKED_FOR.toSeconds() + " s ago (is it there?); not sent");
                return sent;
            }
            sent.answer = sent.producer.send(whole(sent.topic, r, reason));
            if (failedAtOnce(sent.answer)) {
                blocked.put(sent.topic, System.nanoTime());
            }
        } catch (Throwable e) { // told when its answer is asked for, as the answer's own failure would be
            sent.thrown = e;
            if (sent.topic != null && noMetadata(e)) {
                blocked.put(sent.topic, System.nanoTime());
            }
        }
        return sent;
    }

    /** The dead letter of {@code r} to {@code topic}: the record whole, with its reason and place in headers. */
    static ProducerRecord<byte[], byte[]> whole(String topic, Rec r, String reason) {
        var record = r.record;
        var headers = new RecordHeaders(record.headers().toArray());
        // a reason can be as long as what a handler put in it (the whole body, say): cut, it leaves room for the value,
        // which is kept whole while it fits (without it, the record lives only in its topic, until its retention)
        addHeaders(headers, r, reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "..." : reason);
        return new ProducerRecord<>(topic, null, record.key(), record.value(), headers);
    }

    /** How long a topic whose send waited out max.block.ms for its metadata is not sent to again. */
    static final Duration BLOCKED_FOR = Duration.ofSeconds(30);

    /** Topics whose send waited out max.block.ms for their metadata, and when (nanoTime). */
    private final Map<String, Long> blocked = new java.util.concurrent.ConcurrentHashMap<>();

    private boolean blocked(String topic) {
        Long since = blocked.get(topic);
        if (since != null && System.nanoTime() - since >= BLOCKED_FOR.toNanos()) {
            blocked.remove(topic, since); // tried again: made since, or its metadata back
            since = null;
        }
        return since != null;
    }

    /** A send answered before it returned, with a timeout: it waited max.block.ms for metadata (or buffer room). */
    private static boolean failedAtOnce(Future<RecordMetadata> answer) {
        // a full buffer drains: only a topic's metadata not coming is remembered
        return answer.isDone() && answer.state() == Future.State.FAILED && noMetadata(answer.exceptionNow());
    }

    /** A send's timeout that is its topic's metadata not coming, not a full buffer (which drains). */
    private static boolean noMetadata(Throwable e) {
        return e instanceof org.apache.kafka.common.errors.TimeoutException
                && !(e instanceof org.apache.kafka.clients.producer.BufferExhaustedException);
    }

    private String finish(Sent sent) {
        try {
            return outcome(sent);
        } catch (Throwable e) { // an Error from the producer or a plugin: the record must not stay marked for ever
            return "dead-letter write failed: " + dev.ferry.domain.model.Thrown.describe(e);
        }
    }

    private String outcome(Sent sent) throws Throwable {
        var producer = sent.producer;
        var renewable = sent.denser ? denser.renewable() : this.producer; // what sent it is what proved broken
        String topic = sent.topic;
        try {
            if (sent.thrown != null) {
                throw sent.thrown;
            }
            var answer = sent.answer;
            // answered, it is read as it is, not waited for: get() threw on an interrupted thread, answered or not (the
            // client's answer is a latch, whose wait looks at the interrupt first), and a write the broker confirmed
            // was told "interrupted", offered again, and dead-lettered a second time
            if (answer.isDone()) {
                if (answer.state() != Future.State.SUCCESS) {
                    throw new ExecutionException(answer.exceptionNow());
                }
            } else {
                answer.get(Math.max(0, sent.deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            if (sent.copy != null) {
                var record = sent.r.record;
                LOG.warn("dead-lettered {}-{}@{} of '{}' to '{}' without its value and headers: {}", record.topic(),
                        record.partition(), record.offset(), name, topic, sent.tooLarge);
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while writing to dead-letter topic '" + topic + "'";
        } catch (java.util.concurrent.TimeoutException e) {
            // past the producer's own delivery timeout: it is broken (an Error ended its I/O thread), and would fail
            // every later write the same way
            renewable.renew(producer, "a dead-letter write was neither acknowledged nor refused within " + wait);
            return "dead-letter write to '" + topic + "' not confirmed within " + wait;
        } catch (Exception e) {
            // thrown by send() itself too: a producer in the client's fatal state fails every send so, wrapped
            if (RenewableProducer.fatalToProducer(e instanceof ExecutionException ? e.getCause() : e)) {
                renewable.renew(producer, dev.ferry.domain.model.Thrown.describe(e.getCause() != null ? e.getCause() : e));
            }
            return "dead-letter write to '" + topic + "' failed: " + dev.ferry.domain.model.Thrown.describe(e.getCause() != null ? e.getCause() : e);
        }
    }

    static void addHeaders(RecordHeaders headers, Rec r, String reason) {
        var record = r.record;
        headers.add(DeadLetterAttributes.REASON, reason.getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterAttributes.SOURCE, record.topic().getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterAttributes.RECEIVE_COUNT, Integer.toString(r.receives).getBytes(StandardCharsets.UTF_8));
        headers.add(PARTITION, Integer.toString(record.partition()).getBytes(StandardCharsets.UTF_8));
        headers.add(OFFSET, Long.toString(record.offset()).getBytes(StandardCharsets.UTF_8));
        // what the record is recorded under (its place, epoch and time, none of which its copy in the dead-letter topic
        // has): released, it is the same event again — the sinks a fan-out wrote for it are not written twice
        headers.remove(KafkaSource.DEAD_LETTER_ORIGIN);
        headers.add(KafkaSource.DEAD_LETTER_ORIGIN, KafkaDeliveries.identity(record).getBytes(StandardCharsets.UTF_8));
    }

    static long size(ConsumerRecord<byte[], byte[]> record) {
        long size = (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
        for (var h : record.headers()) {
            size += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }

    /** Closes the producers, waiting up to {@code timeout} in all for what they still hold. */
    void close(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        var p = producer;
        try { // the zstd producer closed too when the first's close throws (an interrupt kept for after the stop's wait)
            if (p != null) {
                p.close(timeout);
            }
        } finally {
            denser.close(Duration.ofNanos(Math.max(0, end - System.nanoTime())));
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
