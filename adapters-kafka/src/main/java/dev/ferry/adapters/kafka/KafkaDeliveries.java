package dev.ferry.adapters.kafka;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A Kafka record as the engine sees it: its delivery, its ids, its group key. */
final class KafkaDeliveries {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class); // its warnings where the source's are

    private KafkaDeliveries() {
    }

    /** The attribute of a record without a value (a tombstone: a delete in a compacted topic). */
    static final String TOMBSTONE = "kafka.tombstone";

    /**
     * The value of {@link #TOMBSTONE} on a record this source read without a value: "true", and this very
     * instance. A Kafka sink writes a tombstone only for this instance, which no other source can make: an
     * SNS or SQS message attribute, an HTTP header, a JSON field of the same name and value parsed from
     * input is another string, so a sender on another transport cannot delete a key downstream.
     */
    @SuppressWarnings("StringOperationCanBeSimplified") // a new instance on purpose: its identity is the mark
    static final String TOMBSTONE_MARK = new String("true");

    /** Whether {@code attributes} mark a tombstone read by a Kafka source in this process (see {@link #TOMBSTONE_MARK}). */
    @SuppressWarnings("StringEquality")
    static boolean readAsTombstone(Map<String, String> attributes) {
        return attributes.get(TOMBSTONE) == TOMBSTONE_MARK;
    }

    /**
     * The most headers of a record that become attributes. Kafka bounds only a record's bytes: a 1 MB record holds
     * 500,000 empty headers, each an attribute of ~80 bytes more in the heap, for every sink and matcher to walk.
     */
    static final int MAX_HEADERS = 1_000;

    /**
     * The attribute saying how many headers came past the first {@link #MAX_HEADERS} (only {@link #READ_BY_FERRY} of
     * them made attributes): the record is not changed without a trace (its dead-letter copy still has them all).
     */
    static final String HEADERS_OMITTED = "kafka.headersOmitted";

    /**
     * The headers Ferry itself reads from a delivery's attributes, kept past {@link #MAX_HEADERS} too: a release
     * appends its mark after every header of the record it moves back, and a record of a thousand headers came back
     * without it — parked behind again while the key's next record passed, and so on at every release.
     */
    static final List<String> READ_BY_FERRY = List.of(GroupParker.RELEASE_ATTRIBUTE, DeadLetterAttributes.REDRIVE,
            "traceparent", "tracestate");

    /**
     * A record as a delivery. Its id names its place ({@code topic-partition@offset}); its deduplication
     * id (what a raw event is recorded under in the ledger) adds the record's leader epoch and timestamp,
     * so a record written at an offset a topic used before — the topic deleted and made again, a log cut
     * back by an unclean leader election — is not taken for the one handled there before. The same record
     * read again keeps all three.
     */
    static Delivery delivery(Rec r, String name) {
        var record = r.record;
        var attributes = new HashMap<String, String>();
        int headers = 0;
        for (var h : record.headers()) {
            if (headers++ < MAX_HEADERS) {
                attributes.put(h.key(), h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
            }
        }
        if (headers > MAX_HEADERS) {
            for (var own : READ_BY_FERRY) { // the last of its name, as a header within the cap would be
                var h = record.headers().lastHeader(own);
                if (h != null) {
                    attributes.put(own, h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
                }
            }
            attributes.put(HEADERS_OMITTED, Integer.toString(headers - MAX_HEADERS));
            if (r.receives == 1) {
                LOG.warn("{}-{}@{} of '{}' has {} headers: only the first {} (and Ferry's own) are attributes ({})",
                        record.topic(), record.partition(), record.offset(), name, headers, MAX_HEADERS, HEADERS_OMITTED);
            }
        } else {
            attributes.remove(HEADERS_OMITTED); // a header of that name says nothing
        }
        attributes.put("kafka.topic", record.topic());
        attributes.put("kafka.partition", Integer.toString(record.partition()));
        attributes.put("kafka.offset", Long.toString(record.offset()));
        if (record.value() == null) {
            attributes.put(TOMBSTONE, TOMBSTONE_MARK); // a delete, not an empty value: a Kafka sink writes it as a tombstone again
        } else {
            attributes.remove(TOMBSTONE); // a header of that name says nothing: forged, it would delete the key downstream
        }
        var id = record.topic() + "-" + record.partition() + "@" + record.offset();
        return new Delivery(id, record.value() == null ? new byte[0] : record.value(), attributes, r.receives,
                record.timestamp() >= 0 ? Instant.ofEpochMilli(record.timestamp()) : Instant.now(), // -1: none (v0 data),
                // not 1969 — the event-age metric took 56 years for its sum, max and top bucket
                KafkaKeys.text(record.key()), identity(record), name, r);
    }

    /** What a record is recorded under: the identity a release moved it back with, else its own incarnation. */
    static String identity(ConsumerRecord<byte[], byte[]> record) {
        var movedBack = movedBackAs(record);
        return movedBack != null ? movedBack : incarnation(record);
    }

    /**
     * The {@link KafkaSource#ORIGIN} a release gives a dead letter it moves back to {@code topic}: the identity its
     * record had ({@link KafkaSource#DEAD_LETTER_ORIGIN}), else — a dead letter written before that was kept — its own
     * place in the dead-letter topic (the same each time it is moved back).
     */
    static String origin(String topic, ConsumerRecord<byte[], byte[]> deadLetter) {
        var kept = deadLetter.headers().lastHeader(KafkaSource.DEAD_LETTER_ORIGIN);
        String identity = kept != null && kept.value() != null && kept.value().length > 0
                ? new String(kept.value(), StandardCharsets.UTF_8) : incarnation(deadLetter);
        return topic + "|" + identity;
    }

    /**
     * What a record a release moved back is recorded under; null for any other. Trusted only with the
     * release's own header and naming this very topic: a stream job that copies headers along, or a
     * producer writing one, must not make its records duplicates of each other.
     */
    private static String movedBackAs(ConsumerRecord<byte[], byte[]> record) {
        var origin = record.headers().lastHeader(KafkaSource.ORIGIN);
        if (origin == null || origin.value() == null
                || record.headers().lastHeader(GroupParker.RELEASE_ATTRIBUTE) == null) {
            return null;
        }
        var value = new String(origin.value(), StandardCharsets.UTF_8);
        var prefix = record.topic() + "|";
        return value.startsWith(prefix) && value.length() > prefix.length() ? value.substring(prefix.length()) : null;
    }

    /** A record's place and the leader epoch and time it was written with: itself, wherever it is read again. */
    static String incarnation(ConsumerRecord<byte[], byte[]> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset() + "/"
                + record.leaderEpoch().map(String::valueOf).orElse("-") + "/" + record.timestamp();
    }
}
