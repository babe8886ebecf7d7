package dev.ferry.adapters.kafka;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.adapters.kafka.PartitionBuffer.State;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

/**
 * The buffers of the partitions assigned to a source's consumer, under one lock: what the consumer
 * thread fills, pauses and commits from, and what the listener's pollers take from and settle.
 * A buffer is dropped (marked revoked) when its partition goes; a partition assigned again gets a
 * new one. Thread-safe.
 */
final class PartitionBuffers {

    /** A partition's buffer as the tests see it: now, and the most since the partition was assigned. */
    record Buffered(int records, long bytes, int peakRecords, long peakBytes, int unfinished) {
    }

    /** Paused partitions to resume, partitions to pause, and whether any stays paused after that. */
    record Pausing(List<TopicPartition> pause, List<TopicPartition> resume, boolean anyPaused) {
    }

    /** What settling under the lock left: the refusals, and the dead letters to write outside it. */
    record Settled(List<Settlement.Failure> failures, List<Settlement> deadLetters) {
    }

    private final String name;
    private final BufferCaps caps;
    /** Package-private for {@link Revocations}, which reads and waits under it. */
    final ReentrantLock lock = new ReentrantLock();
    final Condition available = lock.newCondition();
    private final Map<TopicPartition, PartitionBuffer> parts = new HashMap<>();
    /** The buffers in a fixed order, for handing out round the partitions; changes with {@link #parts}. */
    private final List<PartitionBuffer> order = new ArrayList<>();
    /** Where the next hand-out starts in {@link #order}: each poll starts at the next partition. */
    private int nextFirst;
    /** Settle calls so far: while they come, a full buffer empties. */
    private volatile long settleCalls;
    /** Where the consumer reads each partition next: what a partition with nothing undone commits up to. */
    final ReadPositions positions = new ReadPositions();

    PartitionBuffers(String name, int maxRecords, long maxBytes) {
        this.name = name;
        this.caps = new BufferCaps(maxRecords, maxBytes);
    }

    // ---------------------------------------------------------------- the consumer thread's side

    /**
     * Partitions assigned, or read again from before their records in hand (a log cut back): each gets a new buffer.
     * Returns, of those that had one, where the old one's work not done began (what it would have committed).
     */
    Map<TopicPartition, Long> assigned(Collection<TopicPartition> assigned) {
        var undoneFrom = new HashMap<TopicPartition, Long>();
        lock.lock();
        try {
            for (var tp : assigned) {
                var buffer = new PartitionBuffer(tp);
                var replaced = parts.put(tp, buffer);
                if (replaced != null) {
                    undoneFrom.put(tp, replaced.committable());
                    replaced.revoke();
                    order.remove(replaced);
                }
                order.add(buffer);
            }
        } finally {
            lock.unlock();
        }
        return undoneFrom;
    }

    /** Partitions revoked or lost: their records in hand are not ours any more. */
    void drop(Collection<TopicPartition> gone) {
        lock.lock();
        try {
            for (var tp : gone) {
                var p = parts.remove(tp);
                if (p != null) {
                    p.revoke();
                    order.remove(p);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Every partition goes (a consumer died, or the source is abandoned); waiting pollers wake. */
    void dropAll() {
        lock.lock();
        try {
            for (var p : parts.values()) {
                p.revoke();
            }
            parts.clear();
            order.clear();
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts fetched records into their partitions' buffers, as far as the buffers take them; returns,
     * per partition, the offset to fetch again from (the caps hold exactly: the rest is read again
     * once the engine caught up).
     */
    Map<TopicPartition, Long> take(ConsumerRecords<byte[], byte[]> records) {
        if (records.isEmpty()) {
            return Map.of();
        }
        var rewind = new HashMap<TopicPartition, Long>();
        lock.lock();
        try {
            for (var tp : records.partitions()) {
                var part = parts.get(tp);
                long notTaken = part == null ? -1 : caps.fill(part, records.records(tp));
                if (notTaken >= 0) {
                    rewind.put(tp, notTaken);
                }
            }
            available.signalAll();
        } finally {
            lock.unlock();
        }
        return rewind;
    }

    /**
     * Full buffers' partitions to pause, paused ones with room again to resume, given what the
     * consumer has {@code paused} now. A held key or partition is not paused: only full buffers are.
     */
    Pausing pausing(Set<TopicPartition> paused) {
        var pause = new ArrayList<TopicPartition>();
        var resume = new ArrayList<TopicPartition>();
        lock.lock();
        try {
            for (var p : parts.values()) {
                boolean isPaused = paused.contains(p.tp);
                if (caps.full(p)) {
                    if (!isPaused) {
                        pause.add(p.tp);
                    }
                } else if (isPaused && caps.roomy(p)) {
                    resume.add(p.tp);
                }
            }
        } finally {
            lock.unlock();
        }
        return new Pausing(pause, resume, paused.size() + pause.size() - resume.size() > 0);
    }

    /** How many times the pollers' side settled so far (a change means buffers may have room again). */
    long settleCalls() {
        return settleCalls;
    }

    /** Whether any record is in hand, or finished and not yet sent in a commit. */
    boolean inHand() {
        lock.lock();
        try {
            for (var p : parts.values()) {
                if (p.size() > 0 || p.committable() > Math.max(p.committed, p.requested)) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The finished offsets to commit, of {@code only} (every partition when null): past what was
     * committed, and for a commit not waited for ({@code async}) past what was sent already, which
     * it then counts as sent.
     */
    OffsetCommit toCommit(Collection<TopicPartition> only, boolean async) {
        lock.lock();
        try {
            return OffsetCommit.of(parts.values(), only, async, positions);
        } finally {
            lock.unlock();
        }
    }

    /** The broker took {@code commit}: its buffers forget what it covers. */
    void committed(OffsetCommit commit) {
        lock.lock();
        try {
            commit.confirmed();
        } finally {
            lock.unlock();
        }
    }

    /** An async commit failed: what it covered is sent again with the next one (unless a later one was sent since). */
    void commitFailed(OffsetCommit commit) {
        lock.lock();
        try {
            commit.failed();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- the pollers' side

    /**
     * Hands out up to {@code max} records, waiting for some until {@code deadline} (a nanoTime) or a
     * hold's end; returns early (with what it has) when the calling thread is interrupted.
     */
    List<Rec> handOut(int max, long deadline) {
        return handOut(max, deadline, new ArrayList<>());
    }

    List<Rec> handOut(int max, long deadline, List<Rec> out) { // into out: a test's throws adding, as no memory would
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                long nextHoldEnds = Long.MAX_VALUE;
                // each poll starts at the next partition: one with many free keys cannot keep the others waiting
                int n = order.size();
                int first = n == 0 ? 0 : Math.floorMod(nextFirst++, n);
                for (int i = 0; i < n && out.size() < max; i++) {
                    nextHoldEnds = Math.min(nextHoldEnds, order.get((first + i) % n).takeInto(out, max, now));
                }
                long left = deadline - System.nanoTime();
                if (!out.isEmpty() || left <= 0) {
                    return out;
                }
                available.awaitNanos(Math.min(left, nextHoldEnds));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return out;
        } catch (Throwable e) { // an Error partway (no memory): those marked out here would never reach the engine, nor come back
            try {
                UnfinishedSettle.notDelivered(out);
            } catch (Throwable notBack) { // what made the hand-out fail stays what the caller sees
                if (notBack != e) {
                    e.addSuppressed(notBack);
                }
            }
            available.signalAll();
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Carries out acks, releases and redelivers; refuses settlements of records not out (settled
     * already, from elsewhere, of a revoked partition); leaves dead letters to be written. Throwing
     * partway, it first queues again what it had not carried out ({@link UnfinishedSettle}).
     */
    Settled settle(List<Settlement> settlements) {
        var failures = new ArrayList<Settlement.Failure>();
        var deadLetters = new ArrayList<Settlement>();
        var comingBack = new ArrayList<Settlement>();
        lock.lock();
        try {
            settleCalls++;
            long now = System.nanoTime();
            for (var s : settlements) {
                if (!(s.delivery().receipt() instanceof Rec r)) {
                    failures.add(new Settlement.Failure(s, "not received from Kafka source '" + name + "'", false));
                    continue;
                }
                boolean gone = r.part.revoked || r.part.revoking && s.disposition() instanceof Disposition.DeadLetter;
                if (gone || r.state != State.OUT || s.delivery().receiveCount() != r.receives) {
                    // an earlier receive's (a handler's late settle): applied to the copy out now, its ack committed past
                    // a record whose copy was still to run, and the copy's own settlement was refused "already settled"
                    failures.add(new Settlement.Failure(s, gone
                            ? "partition " + r.part.tp + " was revoked; its next owner reads the record again"
                            : r.state == State.OUT ? "an earlier receive's: the record was handed out again since"
                            : "already settled", false));
                    continue;
                }
                switch (s.disposition()) {
                    case Disposition.Ack a -> r.part.done(r);
                    case Disposition.Release rel -> comeBack(r, s, comingBack);
                    case Disposition.Redeliver red -> comeBack(r, s, comingBack);
                    case Disposition.DeadLetter dl -> {
                        deadLetters.add(s);     // listed before it is marked: what is marked is found if this call throws
                        r.state = State.DEAD_LETTERING;     // written below, outside the lock; refused meanwhile
                    }
                }
            }
            // highest offset first: each goes to the front of its key's waiting records
            comingBack.sort(Comparator.comparingLong((Settlement s) -> ((Rec) s.delivery().receipt()).offset()).reversed());
            for (var s : comingBack) {
                var r = (Rec) s.delivery().receipt();
                if (s.disposition() instanceof Disposition.Redeliver red) {
                    r.part.requeue(r, true, now + Math.min(Durations.nanos(red.delay()), Long.MAX_VALUE / 4));     // its key; the partition when it has none
                } else {
                    r.part.requeue(r, false, 0);
                }
            }
            available.signalAll();
            return new Settled(failures, deadLetters);
        } catch (Throwable e) { // an Error partway (no memory): what the call took and did not carry out would be out for good
            UnfinishedSettle.handBack(settlements, comingBack, deadLetters);
            available.signalAll();
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records handed out whose deliveries could not be made (an {@code Error} building them): queued
     * again as they were, so their keys and the partition's commits go on; each on its own
     * ({@link UnfinishedSettle#notDelivered}), the first failure thrown after the others went back.
     */
    void handBack(List<Rec> out) {
        lock.lock();
        try {
            UnfinishedSettle.notDelivered(out);
        } finally {
            available.signalAll(); // those that went back, even when one did not
            lock.unlock();
        }
    }

    /** Queued again below, highest offset first; marked at once so a second settlement of it in the list is refused. */
    private static void comeBack(Rec r, Settlement s, List<Settlement> comingBack) {
        comingBack.add(s);
        r.state = State.RETURNING;
    }

    /**
     * A dead letter's write ended: written, the offset may pass the record; not confirmed, it must
     * not, and the record is offered again a second later (its key held meanwhile). False when its partition was revoked
     * meanwhile, or its revocation's wait ended before the write did: the last commit does not pass it, and its next
     * owner reads it again.
     */
    boolean deadLetterWritten(Rec r, boolean written) {
        lock.lock();
        try {
            boolean gone = !Revocations.ours(r);
            if (r.state != State.DEAD_LETTERING || gone) { // moved once only; a revoked one's next owner's
                return !gone;
            }
            if (written) {
                r.part.done(r);
            } else {
                r.part.requeue(r, true, System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
            }
            available.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The buffer of {@code tp}, or null; under {@link #lock}. */
    PartitionBuffer part(TopicPartition tp) {
        return parts.get(tp);
    }

    /** Wakes pollers waiting for records (the source closes). */
    void wakeAll() {
        lock.lock();
        try {
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** What is in hand for a partition, {@code unfinished} its records not done (zeros when it is not assigned). */
    Buffered buffered(String topic, int partition) {
        lock.lock();
        try {
            var p = parts.get(new TopicPartition(topic, partition));
            return p == null ? new Buffered(0, 0, 0, 0, 0) : new Buffered(p.size(), p.bytes, p.peakRecords, p.peakBytes, p.live);
        } finally {
            lock.unlock();
        }
    }
}
