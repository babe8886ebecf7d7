package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Thrown;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** The end of a delivery's path: out of the listener's hands (once), counted, sent to the transport in batches. */
final class Settler {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    static final int BATCH = 100;
    private static final long LINGER_NANOS = TimeUnit.MICROSECONDS.toNanos(200); // a batch's wait to fill (when busy)

    private final String name;
    private final Acknowledger acknowledger;
    private final Hands hands;
    private final Counters counters;
    final FailureCounts failureCounts; // read by ReceiveLimit too
    private final ListenerObserver observer;
    private final SettlementQueue pending = new SettlementQueue(BATCH);
    /** The batches drained from {@link #pending} and not yet counted (see {@link #passesWithAcksInFlight}); guarded by itself. */
    private final List<List<SettlementQueue.Queued>> sending = new ArrayList<>(2);
    /** The receives taken away lately; guarded by {@link #sending}. */
    private final RecentRemovals removed = new RecentRemovals();
    /** One send at a time. A lock, not a monitor: the stop's last flush gives up waiting for a send that hangs. */
    private final java.util.concurrent.locks.ReentrantLock sendLock = new java.util.concurrent.locks.ReentrantLock();
    /** The acknowledger's calls, as the health check sees them. */
    final AckCalls calls = new AckCalls();
    static final java.time.Duration CLOSE_WAIT = java.time.Duration.ofSeconds(5); // the last flush's wait for a send
    private volatile boolean closed;
    private final Clock clock;
    private final AsideLog aside = new AsideLog("ferry-settler-log");
    private final SettlerLines lines;

    Settler(String name, Acknowledger acknowledger, Hands hands, Counters counters, FailureCounts failureCounts,
            ListenerObserver observer, Clock clock) {
        this.clock = clock;
        this.name = name;
        this.acknowledger = acknowledger;
        this.hands = hands;
        this.counters = counters;
        this.failureCounts = failureCounts;
        this.observer = observer;
        this.lines = new SettlerLines(name, aside);
    }

    /** More settlements queued than {@code limit}: with acknowledgements slow the pollers are held back by this. */
    boolean behind(int limit) { return pending.size() > limit; }

    /** Settles a delivery in hand, once: later calls for the same item do nothing. */
    void settle(InFlight item, Disposition disposition) {
        settle(item, disposition, false);
    }

    /** {@link #settle}; {@code stillRunning}: a stop lets go of it while its worker is among its events. */
    void settle(InFlight item, Disposition disposition, boolean stillRunning) {
        if (!hands.settlingOurs(item, disposition, stillRunning)) {
            return;
        } // in hand until its settlement is queued: a shutdown that sees nothing in hand then sends it
        try {
            boolean excused;
            try {
                excused = note(item, disposition);
            } catch (Throwable e) { // the clock, a line, no memory: queued all the same (it was lost: out of hand, unsent)
                excused = false;
            }
            enqueue(item.delivery, disposition, excused, item);
        } finally {
            hands.free(item);
        }
    }

    /** What a settlement notes before it is queued (a pass, a dead letter's line); whether its receive is excused. */
    private boolean note(InFlight item, Disposition disposition) {
        switch (disposition) {
            case Disposition.Ack a -> { // within its lease, a refused ack's message comes back through no fault of its own:
                return clock.instant().isBefore(item.excuseUntil); // excused (countTaken, excusedInFlight); late, not
            }
            case Disposition.Release r -> {
                if (!item.started || item.held) {
                    recordPass(item.delivery.id()); // handed back unhandled, or while waiting in hand: not its fault
                }
            }
            // its counts go once the copy is taken (countTaken); refused, the dead letter is owed
            case Disposition.DeadLetter d -> lines.deadLettered(item.delivery.id(), d.reason());
            case Disposition.Redeliver r -> { }
        }
        return false;
    }

    /** Whether the transport still holds the delivery for us ({@link Acknowledger#holds}); see {@link EventSteps#gone}. */
    boolean holds(Delivery delivery) { return acknowledger.holds(delivery); }

    /**
     * A copy whose lease ran out while it waited behind its group (handed out again: its receipt stale), dropped unhandled,
     * its receive counted as a pass so only the newest copy runs — unless not {@code excused}: a copy whose own handling
     * ran past its lease and failed answers for it (excused, one always past its lease that fails would run for ever).
     */
    void dropStale(InFlight item, boolean excused) {
        if (hands.letGo(item)) {
            if (excused) {
                recordPass(item.delivery.id());
            }
            counters.staleDropped.increment();
        }
    }

    /** Whether the transport took {@code delivery}'s receive away lately (acked, dead-lettered), or is asked to now. */
    boolean removedOrRemoving(Delivery delivery) {
        synchronized (sending) {
            return removed.has(delivery, pending, sending);
        }
    }

    /** What the listener holds: deliveries in hand, and those in their handlers' keeping (skip-delete). */
    Hands hands() { return hands; }

    /**
     * Queues the handler's own settlement of a delivery it kept (skip-delete): an ack within the delivery's lease is
     * excused as {@link #settle} excuses it, should the transport not take it; its lease kept as ours are while it waits.
     */
    void enqueueFromHandler(Delivery delivery, Disposition disposition, InFlight kept) {
        boolean excused;
        try {
            excused = kept != null && disposition instanceof Disposition.Ack && clock.instant().isBefore(kept.excuseUntil);
        } catch (Throwable e) { // the clock, no memory: queued all the same (taken back already, it was lost: never sent)
            excused = false;
        }
        enqueue(delivery, disposition, excused, kept);
    }

    /** Gives back a delivery never in hand (beyond a poll's max, the rest of a poll failed on its way; null: none). */
    void giveBackUnhandled(Delivery delivery) {
        // with a pass, as note() records one given back unstarted: without it, its receive counted against maxReceives,
        // and a source that answered beyond the max had messages dead-lettered that never ran
        if (delivery != null) {
            try {
                recordPass(delivery.id()); // before it is queued: its copy, received once it is back, sees the pass
            } catch (Throwable e) { // no memory (its trim): queued all the same, its receive counted — thrown, neither
            }                       // it nor the rest of its poll was given back (on Kafka or HTTP, held for good)
            enqueue(delivery, Disposition.RELEASE, false, null);
        }
    }

    /** The deliveries whose settlements are queued or in a call not yet answered: their leases are kept meanwhile. */
    void forEachQueued(java.util.function.Consumer<InFlight> each) {
        pending.forEachLeased(each);
        synchronized (sending) { // a call slower than a lease's rest (a throttled DLQ) let its batch's leases lapse in it
            SettlementQueue.forEachLeased(sending, each);
        }
    }

    /** Nothing queued or in a call: the lease keeper keeps what waits leased until then, at a stop too. */
    boolean drained() {
        synchronized (sending) {
            return pending.size() == 0 && sending.isEmpty();
        }
    }

    /** {@code leased}: the delivery's lease is kept while it waits, for what removes the message (not what puts it back). */
    private void enqueue(Delivery delivery, Disposition disposition, boolean excused, InFlight leased) {
        counters.count(disposition);
        boolean removes = disposition instanceof Disposition.Ack || disposition instanceof Disposition.DeadLetter;
        pending.add(new SettlementQueue.Queued(new Settlement(delivery, disposition), excused, removes ? leased : null));
        observer.settled(delivery, disposition); // after: what telling it throws cannot keep the settlement from going
        if (closed) {
            flush(); // no settler thread any more (a handler's own settlement after the stop): sent from here
        }
    }

    /** After the settler thread ended: sends what is queued, then every settlement as it comes, on the caller's thread. */
    void close() {
        closed = true; // before the flush, read after the add: each settlement is sent by one or the other
        flush();
        lines.flush();
    }

    /** The settler thread: sends what gathered, until {@code stopped} and nothing is left. */
    void run(BooleanSupplier stopped) {
        var batch = new ArrayList<SettlementQueue.Queued>(BATCH);
        while (true) {
            try {
                if (drain(batch, BATCH) == 0) {
                    if (stopped.getAsBoolean()) {
                        return;
                    }
                    pending.awaitAny(TimeUnit.MILLISECONDS.toNanos(50)); // idle: the next settlement wakes it at once
                    // an interrupt a plugin's acknowledger or observer left set is dropped: the stop does not interrupt
                    // this thread, and returning here ended every acknowledgement for good while the listener went on
                    Thread.interrupted();
                    continue;
                }
                Thread.interrupted(); // one left set would fail every call of the batch that can be interrupted
                send(batch);
                boolean full = batch.size() == BATCH;
                batch.clear();
                if (!full) { // busy but not a full batch: let more gather instead of waking for each one
                    pending.linger(LINGER_NANOS);
                }
            } catch (Throwable e) { // the settler must outlive anything: what it failed to send comes back by lease
                batch.clear(); // below, a text that throws (a plugin's receipt's, say) would end the settler: a stand-in;
                try { // written aside: a log that blocks held every ack after it, one that threw an Error ended the settler
                    var loggable = Thrown.loggable(e);
                    aside.write(() -> LOG.log(Level.ERROR, "settler of '" + name + "' hit an unexpected error; it goes on",
                            loggable));
                } catch (Throwable lineFailed) { // out of memory for the line: the settler goes on without it
                }
            }
        }
    }

    /**
     * A pass recorded under the lock {@link #passesWithAcksInFlight} reads under: a copy deciding on its receives sees each
     * pass in that read or not at all (rare paths: releases, stale drops; a refused ack's under it in {@link #countTaken}).
     */
    private void recordPass(String id) {
        synchronized (sending) {
            failureCounts.recordPass(id);
        }
    }

    /** Moves queued settlements into {@code batch}, which counts as {@link #sending} until {@link #counted}. */
    private int drain(List<SettlementQueue.Queued> batch, int max) {
        synchronized (sending) {
            int n = pending.drainTo(batch, max);
            if (n > 0 && sending.stream().noneMatch(b -> b == batch)) {
                sending.add(batch);
            }
            return n;
        }
    }

    /** A batch drained is answered for (or given up): it no longer counts as {@link #sending}. */
    private void counted(List<SettlementQueue.Queued> batch) {
        synchronized (sending) {
            sending.removeIf(b -> b == batch);
        }
    }

    /**
     * The message's passes (receives handed back through no fault of its own) and its acks made within its lease that the
     * transport has not answered yet — queued, or in a call under way — read at once: a copy that came back meanwhile counts
     * them all as excused receives. Asked only when its receives would otherwise dead-letter it (so the happy path keeps no
     * count per message); exact, as an ack refused moves from one to the other under the same lock ({@link #countTaken}).
     */
    int passesWithAcksInFlight(String id) {
        synchronized (sending) {
            int n = failureCounts.get(id).passes() + pending.excused(id);
            for (var batch : sending) {
                for (var q : batch) {
                    if (q.excused() && q.settlement().delivery().id().equals(id)) {
                        n++;
                    }
                }
            }
            return n;
        }
    }

    /**
     * A message whose ack or dead-letter copy the transport took is done with: its counts go. A dead letter it did not take
     * is owed ({@link FailureCounts#oweDeadLetter}). One whose ack it did not take comes back; if it was handled within its
     * lease, that receive is excused (a pass) — counted, a message that never failed would be dead-lettered for its receives
     * once its acks had come too late often enough. Under {@link #sending}'s lock, with the batch leaving it: an excused ack
     * is either in flight or a pass, never both or neither, for {@link #passesWithAcksInFlight}.
     */
    private void countTaken(List<SettlementQueue.Queued> batch, List<Settlement.Failure> failed) {
        synchronized (sending) {
            try {
                countTakenNow(batch, failed);
            } finally {
                counted(batch);
            }
        }
    }

    private void countTakenNow(List<SettlementQueue.Queued> batch, List<Settlement.Failure> failed) {
        // by value: an acknowledger may answer with settlements it made again (records, equal to those it was given)
        var notTaken = failed.isEmpty() ? java.util.Map.<Settlement, Settlement.Failure>of()
                : new java.util.HashMap<Settlement, Settlement.Failure>();
        for (var f : failed) {
            notTaken.put(f.settlement(), f);
        }
        for (var q : batch) {
            var s = q.settlement();
            boolean gone = s.disposition() instanceof Disposition.Ack || s.disposition() instanceof Disposition.DeadLetter;
            var failure = notTaken.get(s);
            if (gone && failure == null) {
                failureCounts.forget(s);
                removed.record(s.delivery());
            } else if (q.excused()) {
                failureCounts.recordPass(s.delivery().id());
            } else if (s.disposition() instanceof Disposition.DeadLetter dead) {
                // refused for a reason that passes (throttled, a 5xx): owed. Refused for good (no DLQ at all, a
                // copy the DLQ will never take), the message is not held to it: it may still be handled
                failureCounts.deadLetterRefused(s.delivery(), dead.reason(), failure.retryable());
            }
        }
    }

    void wake() { pending.wake(); }

    /**
     * Sends everything still queued on the calling thread, its interrupt set aside: after the stop it runs on a worker the
     * stop interrupted (a late settlement), whose wait for the send lock gave up at once, and the settlement with it.
     */
    void flush() {
        boolean interrupted = Thread.interrupted();
        try {
            flushNow();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void flushNow() {
        var batch = new ArrayList<SettlementQueue.Queued>();
        while (drain(batch, BATCH) > 0) {
            if (closed) {
                // after the stop: a send that hangs in the acknowledger must not hold the stop (or a handler's own
                // settlement) for ever. What is not sent comes back when its lease runs out
                boolean locked;
                try {
                    locked = sendLock.tryLock(CLOSE_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    locked = false;
                }
                if (!locked) {
                    counted(batch);
                    int left = batch.size() + pending.drainTo(new ArrayList<>(), Integer.MAX_VALUE);
                    LOG.log(Level.WARNING, "settling {0} message(s) of ''{1}'' given up at the stop: an acknowledgement "
                            + "call has not returned for {2}; they come back when their lease runs out", left, name,
                            calls.stuckFor());
                    return;
                }
                try {
                    send(batch);
                } finally {
                    sendLock.unlock();
                }
            } else {
                send(batch);
            }
            batch.clear();
        }
    }

    private void send(List<SettlementQueue.Queued> batch) {
        sendLock.lock();
        try {
            List<Settlement.Failure> failed;
            try {
                var settlements = new Settlement[batch.size()];
                for (int i = 0; i < settlements.length; i++) {
                    settlements[i] = batch.get(i).settlement();
                }
                calls.begin();
                try {
                    failed = acknowledger.settle(List.of(settlements));
                } finally {
                    calls.end();
                }
                if (failed == null) {
                    throw new NullPointerException("acknowledger returned null");
                }
                if (!failed.isEmpty()) { // what it did say of this call stands: a null says nothing, and one of another call
                    failed = AckCalls.ours(settlements, failed); // or said twice made the counts and the health check lie
                }
            } catch (Throwable e) {
                countTaken(batch, batch.stream().map(q -> new Settlement.Failure(q.settlement(), JournalNotes.describe(e), true)).toList());
                counters.settleFailures.add(batch.size());
                calls.failed(JournalNotes.describe(e), batch.stream().map(SettlementQueue.Queued::settlement).toList());
                String told = "settling " + batch.size() + " message(s) of '" + name + "' failed; they come back when their lease runs out";
                aside.write(() -> LOG.log(Level.WARNING, told, e)); // aside: under the send lock, a log that blocks held every ack
                return;
            }
            counters.settlementsSent.add(batch.size() - failed.size());
            countTaken(batch, failed);
            calls.answered(batch.stream().map(SettlementQueue.Queued::settlement).toList(), failed);
            if (!failed.isEmpty()) {
                counters.settleFailures.add(failed.size());
                lines.refused(failed);
            }
        } finally {
            counted(batch); // whatever happened above (it was counted already when nothing did)
            sendLock.unlock();
        }
    }
}
