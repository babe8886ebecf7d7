package dev.ferry.adapters.kafka;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;

/**
 * What a release keeps of a key's parked dead letters while it reads the dead-letter topics: where each is, and
 * what their order, their second copies and the head need — never a record's value or headers. A key with 200,000
 * parked records of 5 KB was held whole, values too, until the last went back, and the heap of {@code ferry run}
 * ran out; each is now read again just before it is produced ({@link DeadLetterReader}).
 */
final class ParkedRecords {

    /**
     * One parked record of the key: its place in the dead-letter topic and its time; where it came from (its source
     * topic and partition, its offset there as written, and as a number: -1 when missing or not one); whether it is
     * the park's head; whether it was parked as a head at all (for its own failure, not behind one: the park's head, or
     * a later one's); the token of the release whose mark it carries (sent back by it, parked again), null when none;
     * whether that is the release under way; and, for the head only, its event ({@link #event}; null for the rest, whose
     * own is read when each goes back: one string per record would be kept for 200,000 of them).
     */
    record Parked(TopicPartition partition, long offset, long timestamp, String from, String sourceOffsetText,
                  long sourceOffset, boolean head, boolean asHead, String mark, boolean sentBackByThis, String headEvent) {
    }

    private final ParkedGroup parked;
    private final String token;
    private final long since;
    private final List<Parked> records = new ArrayList<>();
    /** One instance of each partition and source kept: 200,000 records share a few. */
    private final Map<TopicPartition, TopicPartition> partitions = new HashMap<>();
    private final Map<String, String> sources = new HashMap<>();
    private final Map<String, String> marks = new HashMap<>();

    ParkedRecords(ParkedGroup parked, String token) {
        this.parked = parked;
        this.token = token;
        this.since = parked.since().toEpochMilli() - KafkaParkedGroupMover.CLOCK_SKEW.toMillis();
    }

    /** Keeps where {@code record} is when it is one of the key's, parked with it since the park; else nothing. */
    void offer(ConsumerRecord<byte[], byte[]> record) {
        // keys are compared as the source reads them
        if (record.key() == null || !parked.group().equals(KafkaKeys.text(record.key()))) {
            return;
        }
        var h = record.headers();
        String reason = header(h, DeadLetterAttributes.REASON);
        // of this park: dated since it, or naming its head and dated within an hour before — the park's time is
        // the parking instance's clock, a record's the producer's or the broker's (an earlier park with the
        // same head, its cursor lost, is a week old: Kafka keeps an idle group's offsets that long)
        if (!GroupParker.parkedWith(reason, parked.group()) || (record.timestamp() < since
                && !(ofHead(reason, parked) && record.timestamp() >= since - KafkaParkedGroupMover.HEAD_SKEW.toMillis()))) {
            return;
        }
        var at = new TopicPartition(record.topic(), record.partition());
        String from = header(h, DeadLetterAttributes.SOURCE) + "-" + header(h, KafkaSource.PARTITION);
        String offset = header(h, KafkaSource.OFFSET);
        var pass = GroupParker.pass(header(h, GroupParker.RELEASE_ATTRIBUTE));
        String mark = pass == null ? null : marks.computeIfAbsent(pass.token(), t -> t);
        boolean head = GroupParker.isHead(reason, parked);
        records.add(new Parked(partitions.computeIfAbsent(at, p -> p), record.offset(), record.timestamp(),
                sources.computeIfAbsent(from, s -> s), offset, number(offset), head,
                GroupParker.parkedAsHead(reason, parked.group()), mark, token.equals(mark), head ? event(h) : null));
    }

    /**
     * The event a dead letter is of: the identity its record was dead-lettered under
     * ({@link KafkaSource#DEAD_LETTER_ORIGIN}), which every record a release moved back keeps — a head sent back and
     * failing again has the same as its earlier dead letter. Null when it carries none (written before it was kept).
     */
    static String event(Headers headers) {
        String identity = header(headers, KafkaSource.DEAD_LETTER_ORIGIN);
        return identity == null || identity.isEmpty() ? null : identity;
    }

    /**
     * The records kept, in the order they go back: as dead-lettered, each source partition's in the order it had
     * them, and each record once.
     */
    List<Parked> ordered() {
        dropSecondCopies(records);
        // one partition (one topic: the key's records are in one): its offsets are the dead-letter order, whatever the
        // clocks of the instances that wrote them; several: merged by time, each partition's own order kept
        boolean onePartition = records.stream().map(Parked::partition).distinct().count() <= 1;
        if (onePartition) {
            records.sort(Comparator.comparingLong(Parked::offset));
        } else {
            records.sort(Comparator.comparingLong(Parked::timestamp).thenComparing(p -> p.partition().topic())
                    .thenComparingInt(p -> p.partition().partition()).thenComparingLong(Parked::offset));
        }
        inSourceOrder(records);
        return headFirst(records);
    }

    /**
     * When the head is a record an earlier release sent back that failed again (its dead letter carries that release's
     * mark): the head first, then what that release sent back after it (parked behind it, with its mark), then the rest
     * in their order. The key's records parked while that release ran — between its last read and the head's failure —
     * lie in the topic ahead of the head's new dead letter, but came after it; so do those it had not reached. Sent in
     * the topic's order, they were handled before the head.
     */
    private static List<Parked> headFirst(List<Parked> ordered) {
        Parked head = null; // the newest such copy: a head sent back again by a release stopped since, and failing again
        for (var p : ordered) {
            if (p.sentBackByThis()) {
                return ordered; // parked again by this release: it stops there, in the topic's order; the next one orders
            }
            if (p.head() && p.mark() != null) {
                head = p;
            }
        }
        if (head == null) {
            return ordered;
        }
        var first = new ArrayList<Parked>(ordered.size());
        var rest = new ArrayList<Parked>();
        first.add(head);
        for (var p : ordered) {
            if (p != head) {
                (head.mark().equals(p.mark()) ? first : rest).add(p);
            }
        }
        first.addAll(rest);
        return first;
    }

    /** Whether {@code headers} carry the mark of the release of {@code token}: the record was sent back by it. */
    static boolean sentBackBy(Headers headers, String token) {
        var pass = GroupParker.pass(header(headers, GroupParker.RELEASE_ATTRIBUTE));
        return pass != null && pass.token().equals(token);
    }

    /** Whether a dead letter's reason says it was parked with {@code parked}'s head: the head itself, or behind it. */
    private static boolean ofHead(String reason, ParkedGroup parked) {
        var behind = GroupParker.behind(parked); // its reason's start, then the head's reason
        return GroupParker.isHead(reason, parked) || reason != null
                && reason.startsWith(behind.substring(0, behind.length() - parked.reason().length()));
    }

    /**
     * Within each source partition, the records go back in the order they were read there — not the
     * order their dead letters were written: the head's write that failed once was made again a second
     * later, behind the copies of the key's later records, and the release sent those first. The
     * places each source partition's records hold in the list are kept, refilled by source offset.
     */
    private static void inSourceOrder(List<Parked> records) {
        var places = new LinkedHashMap<String, List<Integer>>();
        for (int i = 0; i < records.size(); i++) {
            if (records.get(i).sourceOffset() >= 0) {
                places.computeIfAbsent(records.get(i).from(), k -> new ArrayList<>()).add(i);
            }
        }
        for (var at : places.values()) {
            var inOrder = at.stream().map(records::get).sorted(Comparator.comparingLong(Parked::sourceOffset)).toList();
            for (int j = 0; j < at.size(); j++) {
                records.set(at.get(j), inOrder.get(j));
            }
        }
    }

    /**
     * A record dead-lettered twice (the write that timed out and landed after all, a revoke racing the
     * write) has two copies in the topic: only the first is moved back, or it would run twice. Copies
     * are the same record when they name the same place in the same source topic.
     */
    private static void dropSecondCopies(List<Parked> records) {
        var seen = new HashSet<String>();
        records.sort(Comparator.comparingLong(Parked::offset));
        records.removeIf(p -> p.sourceOffsetText() != null
                && !seen.add(p.partition() + ":" + p.from() + "@" + p.sourceOffsetText()));
    }

    /** The offset a dead letter's record had in its source partition; -1 when its header is missing or not a number. */
    private static long number(String offset) {
        try {
            return offset == null ? -1 : Long.parseLong(offset);
        } catch (NumberFormatException foreign) {
            return -1;
        }
    }

    static String header(Headers headers, String name) {
        var h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
