package dev.ferry.domain.listener;

import dev.ferry.domain.transport.Settlement;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Settlements on their way to the settler thread, handed over without waking it for each one:
 * an idle settler is woken by the first settlement (so a lone message is settled at once), a busy
 * one by a full batch; in between it lingers briefly to let a batch fill. Many producers, one
 * consumer.
 */
final class SettlementQueue {

    /**
     * A settlement queued. {@code excused}: an ack made within its delivery's lease, whose receive is
     * not the message's fault should the transport not take it (see {@link Settler#passesWithAcksInFlight}).
     * {@code leased}: the delivery in hand it settles, whose lease is kept while it waits; null when none is.
     */
    record Queued(Settlement settlement, boolean excused, InFlight leased) {
        Queued(Settlement settlement, boolean excused) {
            this(settlement, excused, null);
        }
    }

    private final ConcurrentLinkedQueue<Queued> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicReference<Thread> idle = new AtomicReference<>();
    private final int batch;

    SettlementQueue(int batch) {
        this.batch = batch;
    }

    void add(Queued s) {
        queue.add(s);
        int n = size.incrementAndGet();
        var sleeper = idle.get();
        if (sleeper != null && idle.compareAndSet(sleeper, null)) {
            LockSupport.unpark(sleeper);
        } else if (n == batch) {
            LockSupport.unpark(lingering);
        }
    }

    private volatile Thread lingering;

    /**
     * The deliveries whose settlements wait here, their leases to be kept until they are sent: a wide window behind a
     * slow acknowledger held a thousand, the last for twice a lease, and each came back and ran again.
     */
    void forEachLeased(java.util.function.Consumer<InFlight> each) {
        for (var q : queue) { // weakly consistent: one sent meanwhile is extended once more, harmlessly
            if (q.leased() != null) {
                each.accept(q.leased());
            }
        }
    }

    /** The deliveries of {@code batches} (in a call under way) whose leases are kept until it is answered. */
    static void forEachLeased(List<List<Queued>> batches, java.util.function.Consumer<InFlight> each) {
        for (var batch : batches) {
            for (var q : batch) {
                if (q.leased() != null) {
                    each.accept(q.leased());
                }
            }
        }
    }

    /** Moves up to {@code max} settlements into {@code into}; the number moved. */
    int drainTo(List<Queued> into, int max) {
        int n = 0;
        Queued s;
        while (n < max && (s = queue.poll()) != null) {
            into.add(s);
            n++;
        }
        size.addAndGet(-n);
        return n;
    }

    /** The consumer waits for a batch to fill, at most {@code nanos} (woken early by a full batch). */
    void linger(long nanos) {
        if (size.get() >= batch) {
            return;
        }
        lingering = Thread.currentThread();
        if (size.get() < batch) {
            LockSupport.parkNanos(this, nanos);
        }
        lingering = null;
    }

    /** The consumer waits for the next settlement, at most {@code nanos}. */
    void awaitAny(long nanos) {
        var me = Thread.currentThread();
        idle.set(me);
        if (queue.isEmpty()) {
            LockSupport.parkNanos(this, nanos);
        }
        idle.compareAndSet(me, null);
    }

    /** Wakes the consumer wherever it waits (at shutdown). */
    void wake() {
        var sleeper = idle.getAndSet(null);
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
        LockSupport.unpark(lingering);
    }

    /** Excused acks queued for the message {@code id}. Weakly consistent, as the queue's iteration is. */
    int excused(String id) {
        int n = 0;
        for (var q : queue) {
            if (q.excused() && q.settlement().delivery().id().equals(id)) {
                n++;
            }
        }
        return n;
    }

    /** What is queued now, read-only. Weakly consistent, as the queue's iteration is. */
    Iterable<Queued> queued() {
        return java.util.Collections.unmodifiableCollection(queue);
    }

    /** Settlements queued and not yet taken by the consumer. */
    int size() {
        return size.get();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }
}
