package dev.ferry.domain.memory;

import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.transport.Propagation;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A keyed {@link InMemoryQueue} as the Kafka topic it stands for: the record Ferry's Kafka sink writes for an event, what
 * a broker with its defaults refuses of it, and what a Kafka source adds on reading it. Without it a route tested against
 * the keyed queue met what it never meets behind Kafka: the event's own attributes downstream (the sink writes none of
 * them), and a 5 MiB event done (a broker refuses it, the sink rejects it and it is dead-lettered).
 */
final class KafkaRecords {

    /** A broker's default {@code message.max.bytes}: a record batch of 1 MiB and the 12 bytes of its offset and length. */
    static final int MESSAGE_MAX_BYTES = 1_048_588;
    /** The {@code ferry.event.source} the Kafka sink writes unless built with another. */
    static final String SOURCE_NAME = "ferry";
    /** A v2 record batch's bytes before its first record (its offset and length among them). */
    private static final int BATCH_OVERHEAD = 61;
    /** The header a release marks a record it moved back with, naming its topic and identity ({@code KafkaSource.ORIGIN}). */
    private static final String MOVED_BACK_ORIGIN = "ferry.origin";

    private KafkaRecords() {
    }

    /**
     * The headers the Kafka sink writes for {@code event}, as a Kafka source reads them back (each value its bytes as
     * UTF-8): the event's id, its type and the sink's source name, each replaced by a propagated header (a trace context)
     * of its name. The event's attributes are not among them: the sink sends none on.
     */
    static Map<String, String> headers(Event event) {
        var read = new HashMap<String, String>();
        written(event).forEach((name, value) -> read.put(name, new String(value, StandardCharsets.UTF_8)));
        return Map.copyOf(read);
    }

    /**
     * Why a broker with its default {@code message.max.bytes} refuses {@code event}'s record, in the words the Kafka sink
     * rejects it with; null when it takes it. Weighed as the broker weighs it: the one-record batch the sink's producer
     * sends, its key, value and headers among its bytes. A {@code b64:} key a Kafka source made of bytes is weighed as its
     * text, a few bytes more than the bytes the sink writes for it.
     */
    static String refusal(Event event, String topic) {
        byte[] key = event.groupKey() == null ? null : textBytes(event.groupKey());
        long bytes = batchBytes(key, event.payload(), written(event));
        if (bytes <= MESSAGE_MAX_BYTES) {
            return null;
        }
        return "Kafka topic '" + topic + "': org.apache.kafka.common.errors.RecordTooLargeException: The request included a "
                + "message larger than the max message size the server will accept. (event " + event.key() + " is a batch "
                + "of " + bytes + " bytes with its key and headers; a broker's default message.max.bytes takes "
                + MESSAGE_MAX_BYTES + ")";
    }

    /**
     * {@code m}'s attributes as a Kafka source hands a record's headers out: with the record's topic (the queue's name),
     * partition (a keyed queue is one: 0) and offset (its place in send order from 0: the number its id ends in, less
     * one), which a route or a handler may read there.
     */
    static Map<String, String> asRead(StoredMessage m, String topic) {
        var read = new HashMap<>(m.attributes);
        // a sender's marks the Kafka source never hands on (KafkaDeliveries): kept, a test's empty body marked a
        // tombstone was a delete here, and malformed, dead-lettered, in production
        read.remove("kafka.tombstone");
        read.remove("kafka.headersOmitted");
        read.put("kafka.topic", topic);
        read.put("kafka.partition", "0");
        read.put("kafka.offset", Long.toString(offset(m)));
        return Map.copyOf(read);
    }

    /**
     * The id a Kafka source gives {@code m}'s delivery ({@code KafkaDeliveries.delivery}): its place, {@code
     * topic-partition@offset}, the partition and offset {@link #asRead} hands out. It was the queue's own message id
     * ({@code orders-2}), which no Kafka delivery has.
     */
    static String id(StoredMessage m, String topic) {
        return topic + "-0@" + offset(m);
    }

    /**
     * What a Kafka source records {@code m} under ({@code KafkaDeliveries.identity}), one value for its delivery's
     * deduplication id (so a raw event's key and its ledger key) and its dead letter's {@code ferry.deadLetter.origin}:
     * the identity a release moved it back under ({@code ferry.origin}, {@code topic|identity}), else its own
     * incarnation, {@code topic-partition@offset/epoch/timestamp} — the leader epoch that of a partition whose leader
     * never changed (0), the timestamp its send's in ms. The delivery carried the sender's dedup id or none, so a dead
     * letter a release sent back was a new event here where Kafka takes it for the one dead-lettered, and a raw event's
     * key was not the origin its dead letter named.
     */
    static String identity(StoredMessage m, String topic) {
        // as KafkaDeliveries.movedBackAs: trusted only beside a release's mark and naming this very queue, so a sender's
        // header of that name does not make its message another's duplicate
        String movedBack = m.attributes.get(MOVED_BACK_ORIGIN);
        boolean released = movedBack != null && m.attributes.containsKey(GroupParker.RELEASE_ATTRIBUTE)
                && movedBack.startsWith(topic + "|") && movedBack.length() > topic.length() + 1;
        return released ? movedBack.substring(topic.length() + 1) : id(m, topic) + "/0/" + m.sentAt.toEpochMilli();
    }

    /** {@code m}'s offset: its place in send order from 0, the number its id ({@code orders-2}) ends in, less one. */
    private static long offset(StoredMessage m) {
        return Long.parseLong(m.id.substring(m.id.lastIndexOf('-') + 1)) - 1;
    }

    /** The headers as the Kafka sink writes them, in bytes. */
    private static Map<String, byte[]> written(Event event) {
        var headers = new LinkedHashMap<String, byte[]>();
        headers.put("ferry.event.id", textBytes(event.key()));
        headers.put("ferry.event.type", textBytes(event.type()));
        headers.put("ferry.event.source", SOURCE_NAME.getBytes(StandardCharsets.UTF_8));
        Propagation.current().forEach((name, carried) -> {
            headers.remove(name); // as the sink: the propagated one in place of its own, not beside it
            headers.put(name, carried.getBytes(StandardCharsets.UTF_8));
        });
        return headers;
    }

    /**
     * The bytes of a v2 record batch holding only this record, as a broker weighs it against {@code message.max.bytes}:
     * the batch's own, the record's length, its attributes and its offset and time deltas (a byte each: the batch's first
     * record), its key (a byte when it has none) and value each after its length, its header count, each header's name and
     * value after their lengths. Lengths are Kafka's zigzag varints.
     */
    private static long batchBytes(byte[] key, byte[] value, Map<String, byte[]> headers) {
        long body = 3 + (key == null ? 1 : field(key.length)) + field(value.length) + varint(headers.size());
        for (var h : headers.entrySet()) {
            body += field(h.getKey().getBytes(StandardCharsets.UTF_8).length) + field(h.getValue().length);
        }
        return BATCH_OVERHEAD + varint(body) + body;
    }

    private static long field(long length) {
        return varint(length) + length;
    }

    /** The bytes of {@code value} (not negative) as Kafka's zigzag varint: twice it, seven bits a byte. */
    private static int varint(long value) {
        long zigzag = value << 1;
        int bytes = 1;
        while ((zigzag >>>= 7) != 0) {
            bytes++;
        }
        return bytes;
    }

    /**
     * {@code text} as the Kafka sink writes a key, an id or a type: UTF-8, half a surrogate pair in the three bytes it
     * would have were it a character — UTF-8 proper makes it '?', and a header read back here would differ from Kafka's.
     */
    private static byte[] textBytes(String text) {
        if (LedgerKeys.wellFormed(text)) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        var out = new ByteArrayOutputStream(text.length() * 3);
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (c <= Character.MAX_VALUE && Character.isSurrogate((char) c)) {
                out.write(0xE0 | (c >> 12));
                out.write(0x80 | ((c >> 6) & 0x3F));
                out.write(0x80 | (c & 0x3F));
            } else {
                out.writeBytes(Character.toString(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
