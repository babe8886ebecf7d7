package dev.ferry.adapters.kafka;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One assigned partition's records in hand, and which of them may go out next.
 *
 * <p>A record is {@link State#QUEUED} (waiting to go out), {@link State#OUT} (handed to the
 * engine), {@link State#RETURNING} or {@link State#DEAD_LETTERING} (settled, on its way back or to
 * the dead-letter topic: a second settlement of it is refused) or {@link State#DONE} (its
 * disposition carried out). Only the settled states move on, each once. Records of one key go out in offset
 * order and never while another record of that key is out — like an SQS FIFO group, so two pollers
 * never hand the engine one key's records out of order. A key waiting out a Redeliver's delay is
 * held; a record without a key holds the whole partition.
 *
 * <p>The waiting records are kept per key, with the keys that may go out now in a queue of their
 * own, so handing out a batch costs what it hands out, not what the buffer holds (a busy key's
 * thousand waiting records are not looked at until it is free). Not thread-safe: the source's lock
 * guards every buffer.
 */
final class PartitionBuffer {

    enum State { QUEUED, OUT, RETURNING, DEAD_LETTERING, DONE }

    /** A record in hand; the receipt of its delivery. */
    static final class Rec {
        /** The record; null once done (kept behind an earlier record still in hand only for its place). */
        ConsumerRecord<byte[], byte[]> record;
        private final long offset;
        final PartitionBuffer part;
        /** Its key's lane; null when the record has no key, and once it is done (see {@link #done}). */
        Lane lane;
        final long size;
        State state = State.QUEUED;
        int receives;
        /** Whether it is counted in the caps ({@code live}, {@code bytes}): until it is done, or forgotten as committed. */
        boolean counted = true;

        private Rec(ConsumerRecord<byte[], byte[]> record, PartitionBuffer part, Lane lane) {
            this.record = record;
            this.offset = record.offset();
            this.part = part;
            this.lane = lane;
            this.size = sizeOf(record);
        }

        long offset() {
            return offset;
        }
    }

    /** One key's records waiting to go out, in offset order, and how many of the key's are out. */
    static final class Lane {
        final KeyBytes key;
        final ArrayDeque<Rec> queued = new ArrayDeque<>(4);
        int out;
        /** A nanoTime; meaningful while {@link #held}. */
        long heldUntil;
        boolean held;
        boolean inReady;

        private Lane(KeyBytes key) {
            this.key = key;
        }
    }

    /** A record's own objects beside its bytes (the record, its Rec, its place in the buffer, its delivery while out). */
    static final long RECORD_OVERHEAD = 200;
    /**
     * A header's objects beside its bytes: the header, its key's String, its value's array. An empty header is 2 bytes
     * on the wire and ~60 here: counted as nothing, a 1 MB record of 500,000 of them passed the byte cap as 1 byte.
     */
    static final long HEADER_OVERHEAD = 64;
    /** A header made an attribute while its record is out: a map entry and its value again, as a String. */
    static final long ATTRIBUTE_OVERHEAD = 80;

    /** What a record holds in memory, roughly: key + value + headers, their objects, and its attributes while out. */
    static long sizeOf(ConsumerRecord<byte[], byte[]> record) {
        long size = RECORD_OVERHEAD + (record.key() == null ? 0 : record.key().length)
                + (record.value() == null ? 0 : record.value().length);
        int headers = 0;
        for (var h : record.headers()) {
            long value = h.value() == null ? 0 : h.value().length;
            size += HEADER_OVERHEAD + h.key().length() + value;
            if (headers++ < KafkaDeliveries.MAX_HEADERS) { // only these become attributes
                size += ATTRIBUTE_OVERHEAD + value;
            }
        }
        return size;
    }

    private static final Comparator<Rec> BY_OFFSET = Comparator.comparingLong(Rec::offset);

    final TopicPartition tp;
    /** Every record in hand, by offset: what the commit and the caps look at. */
    private final TreeMap<Long, Rec> records = new TreeMap<>();
    private final Map<KeyBytes, Lane> lanes = new HashMap<>();
    /** Lanes that may go out now (checked again when taken: a lane's state may have changed since). */
    private final ArrayDeque<Lane> ready = new ArrayDeque<>();
    private final List<Lane> heldLanes = new ArrayList<>();
    /** Waiting records without a key, in offset order. */
    private final ArrayDeque<Rec> unkeyed = new ArrayDeque<>();
    /** The whole partition's hold: a Redeliver of a record without a key. A nanoTime: starts at "now", not 0. */
    private long heldUntilNanos = System.nanoTime();
    long nextOffset = -1;
    /** The leader epoch of the record before {@link #nextOffset}: what a commit there carries. */
    Optional<Integer> nextEpoch = Optional.empty();
    long committed = -1;
    /** The highest offset sent in a commit not yet answered (or answered); -1 before any. */
    long requested = -1;
    /** The records in hand not yet done, and their bytes: what the caps count. */
    int live;
    long bytes, peakBytes;
    int peakRecords;
    volatile boolean revoked; // read without the lock before each attempt of a record out (KafkaSource#holds)
    volatile boolean revoking; // its last commit under way (Revocations): no dead letter taken, no attempt started; as above
    /** Test hook: runs as a record is put in its place among the waiting ones; a test's throws, as no memory would. */
    Runnable queueing = () -> { };

    PartitionBuffer(TopicPartition tp) {
        this.tp = tp;
    }

    int size() {
        return records.size();
    }

    /**
     * Its partition went (revoked, lost, assigned again): nothing here goes out again, and the records waiting are let
     * go of. The records out keep this buffer (and their key's lane) until the engine is done with them — minutes, while
     * a sink is down — and each held every waiting record's value: a rebalance a minute pinned a whole buffer each.
     */
    void revoke() {
        revoked = true;
        for (var lane : lanes.values()) {
            lane.queued.clear();
        }
        records.clear();
        lanes.clear();
        ready.clear();
        heldLanes.clear();
        unkeyed.clear();
        live = 0;
        bytes = 0;
    }

    boolean contains(long offset) {
        return records.containsKey(offset);
    }

    /** Takes a fetched record in hand, waiting to go out. */
    void add(ConsumerRecord<byte[], byte[]> record) {
        Lane lane = null;
        if (record.key() != null) {
            lane = lanes.computeIfAbsent(new KeyBytes(record.key()), Lane::new);
        }
        var r = new Rec(record, this, lane);
        records.put(record.offset(), r);
        live++;
        bytes += r.size;
        peakRecords = Math.max(peakRecords, records.size());
        peakBytes = Math.max(peakBytes, bytes);
        if (record.offset() + 1 > nextOffset) {
            nextOffset = record.offset() + 1;
            nextEpoch = record.leaderEpoch();
        }
        queue(r);
        if (lane != null) {
            offerReady(lane);
        }
    }

    /**
     * Marks up to {@code max - out.size()} records out into {@code out}: keys in the order they became free, a key's
     * waiting records together in offset order, records without a key by offset before the next key whose first record
     * comes later. Returns the nanoseconds until the first hold keeping a waiting record back ends (MAX_VALUE: none).
     */
    long takeInto(List<Rec> out, int max, long now) {
        if (revoking || heldUntilNanos - now > 0) { // revoking: a record given back during its last commit went out
            return revoking ? Long.MAX_VALUE : heldUntilNanos - now; // again and again, dropped each time as not ours
        }
        long nextHoldEnds = Long.MAX_VALUE;
        for (Iterator<Lane> it = heldLanes.iterator(); it.hasNext(); ) {
            var lane = it.next();
            if (lane.heldUntil - now <= 0) {
                lane.held = false;
                offerReady(lane); // before it leaves the held ones: an Error here leaves it listed, to end again next time
                it.remove();
                forgetIfIdle(lane);
            } else if (!lane.queued.isEmpty()) {
                nextHoldEnds = Math.min(nextHoldEnds, lane.heldUntil - now);
            }
        }
        // each record is added to out before anything of it moves: an Error adding (no memory) leaves it, and its
        // lane, waiting as they were; marked out first, it was never handed out nor back, its key stopped for good
        while (out.size() < max) {
            var lane = firstReady();
            var loose = unkeyed.peekFirst();
            if (loose != null && (lane == null || loose.offset() < lane.queued.peekFirst().offset())) {
                out.add(loose);
                unkeyed.pollFirst();
                wentOut(loose);
                continue;
            }
            if (lane == null) {
                break;
            }
            do {
                var r = lane.queued.peekFirst();
                out.add(r);
                if (lane.out++ == 0) { // its first out: the lane leaves the ready ones (firstReady left it at their head)
                    ready.pollFirst();
                    lane.inReady = false;
                }
                lane.queued.pollFirst();
                wentOut(r);
            } while (out.size() < max && !lane.queued.isEmpty());
        }
        return nextHoldEnds;
    }

    private static void wentOut(Rec r) {
        r.state = State.OUT;
        r.receives++;
    }

    /** Whether a record's dead letter is being written. */
    boolean deadLettering() {
        return records.values().stream().anyMatch(r -> r.state == State.DEAD_LETTERING);
    }

    /** Whether {@code r} is out, or settled and on its way: the states a disposition is carried out from. */
    private static boolean settling(Rec r) {
        return r.state == State.OUT || r.state == State.RETURNING || r.state == State.DEAD_LETTERING;
    }

    /** An out record's disposition was carried out; false (nothing changes) when it was not out. */
    boolean done(Rec r) {
        if (!settling(r) || r.state == State.RETURNING) {
            return false;
        }
        r.state = State.DONE;
        uncount(r);
        cameBack(r);
        trimDonePrefix();
        r.record = null; // kept behind an earlier record still in hand (the commit waits for it) only for its place
        r.lane = null; // and with it its key: tens of thousands kept behind a slow one held their keys, past the byte cap
        return true;
    }

    /**
     * An out record waits to go out again, before any later record of its key; held until
     * {@code holdUntil} (a nanoTime) when {@code hold}: its key, or the partition when it has none.
     * Several records coming back are best given from the highest offset down (each goes to the front).
     * False (nothing changes) when it was not out.
     */
    boolean requeue(Rec r, boolean hold, long holdUntil) {
        if (!settling(r)) {
            return false;
        }
        if (hold) { // before the record moves: an Error here (no memory) leaves it as it was, its key held at most
            if (r.lane == null) {
                if (holdUntil - heldUntilNanos > 0) {
                    heldUntilNanos = holdUntil;
                }
            } else {
                var lane = r.lane;
                if (!lane.held) {
                    lane.heldUntil = holdUntil;
                    heldLanes.add(lane); // before it counts as held: held and not listed, its hold would never end
                    lane.held = true;
                } else if (holdUntil - lane.heldUntil > 0) {
                    lane.heldUntil = holdUntil;
                }
            }
        }
        // queued before it is marked so: marked first, an Error queueing (no memory) left it in no queue and in no state
        // a hand-back takes again, never handed out again, its key and the partition's commits stopped for good
        queue(r);
        r.state = State.QUEUED;
        cameBack(r);
        return true;
    }

    private void cameBack(Rec r) {
        var lane = r.lane;
        if (lane != null) {
            lane.out--;
            offerReady(lane);
            forgetIfIdle(lane);
        }
    }

    /** Forgets the records below {@code offset} (committed: all done). */
    void removeBelow(long offset) {
        var below = records.headMap(offset);
        for (var r : below.values()) {
            uncount(r);
        }
        below.clear();
    }

    /** Takes a record out of the caps, once (done, or forgotten below a commit while still queued: an offset reset). */
    private void uncount(Rec r) {
        if (r.counted) {
            r.counted = false;
            live--;
            bytes -= r.size;
        }
    }

    /** The offset to commit: the first record not done, or the one after the last seen. */
    long committable() {
        for (var r : records.values()) {
            if (r.state != State.DONE) {
                return r.offset();
            }
        }
        return nextOffset;
    }

    /** The leader epoch of the record in hand at {@code offset}, else of the last one seen: what a commit there carries. */
    Optional<Integer> epochAt(long offset) {
        var r = records.get(offset);
        return r != null && r.record != null ? r.record.leaderEpoch() : nextEpoch;
    }

    /**
     * Drops the finished records at the head of the buffer: it then holds only work in hand, so a
     * full buffer means a slow engine, not a commit not yet made.
     */
    private void trimDonePrefix() {
        var it = records.values().iterator();
        while (it.hasNext()) {
            var head = it.next();
            if (head.state != State.DONE) {
                return;
            }
            it.remove(); // counted out of the caps when it was done
        }
    }

    /** Puts a waiting record in its place: in offset order within its key (or among the unkeyed). */
    private void queue(Rec r) {
        queueing.run();
        var queue = r.lane == null ? unkeyed : r.lane.queued;
        var first = queue.peekFirst();
        if (first == null || r.offset() < first.offset()) {
            queue.addFirst(r);
        } else if (r.offset() > queue.peekLast().offset()) {
            queue.addLast(r);
        } else {    // between two waiting records: not the usual way back, put in order the slow way
            var all = new ArrayList<Rec>(queue.size() + 1);
            all.addAll(queue);
            all.add(r);
            all.sort(BY_OFFSET);
            queue.addLast(r); // grown to hold them all before it is emptied: refilled, it needs no memory, so cannot fail
            queue.clear();
            for (int i = 0; i < all.size(); i++) {
                queue.addLast(all.get(i));
            }
        }
    }

    private void offerReady(Lane lane) {
        if (!lane.inReady && lane.out == 0 && !lane.held && !lane.queued.isEmpty()) {
            ready.addLast(lane);
            lane.inReady = true;
        }
    }

    /** The first lane in the ready queue that may still go out, dropping those that may not. */
    private Lane firstReady() {
        Lane lane;
        while ((lane = ready.peekFirst()) != null) {
            if (lane.out == 0 && !lane.held && !lane.queued.isEmpty()) {
                return lane;
            }
            ready.pollFirst();
            lane.inReady = false;
        }
        return null;
    }

    private void forgetIfIdle(Lane lane) {
        if (lane.out == 0 && !lane.held && lane.queued.isEmpty()) {
            lanes.remove(lane.key, lane);
        }
    }
}
