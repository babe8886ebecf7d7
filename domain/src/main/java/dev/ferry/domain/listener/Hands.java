package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The deliveries the listener holds: in flight (received, not settled; each takes a place of the window) and handed
 * over (done, kept by an asynchronous handler until it settles them; their leases still extended). Thread-safe.
 */
final class Hands {

    /**
     * The deliveries of one poll: a slot each, filled as each is decoded and taken in hand, emptied when it is let go (a
     * settled delivery is not kept in memory by a slow neighbour); gone from the set once every slot was let go or given up.
     */
    static final class Batch {
        /** Per slot: null before it is taken, the item while in hand, {@link #GONE} once let go. */
        private final AtomicReferenceArray<Object> items;
        private final AtomicInteger left;
        /** By group: this poll's first message past the receive limit, by its id ({@link ReceiveLimit}). */
        final Map<String, String> firstPastTheLimit = new ConcurrentHashMap<>();

        private Batch(int size) {
            this.items = new AtomicReferenceArray<>(size);
            this.left = new AtomicInteger(size);
        }
    }

    private static final Object GONE = new Object();

    private final Capacity capacity;
    /** In flight, a poll at a time: one set entry per poll instead of one per delivery. */
    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    private final Set<Batch> batches = ConcurrentHashMap.newKeySet();
    private final LongAdder inFlightCount = new LongAdder();
    private final AtomicLong uncounted = new AtomicLong(); // count-downs the adder had no memory for
    private final Map<Delivery, InFlight> handedOver = new ConcurrentHashMap<>();
    /** Handlers' settles under way, counted before their take-back: a stop finding none handed over waits for them. */
    final AtomicInteger handlerSettling = new AtomicInteger();

    /** The ledger a claim kept by a waiting item ({@link InFlight#pausedClaim}) is released to when it leaves; or null. */
    private final dev.ferry.domain.idempotency.IdempotencyLedger ledger;

    Hands(Capacity capacity, dev.ferry.domain.idempotency.IdempotencyLedger ledger) {
        this.capacity = capacity;
        this.ledger = ledger;
    }

    Capacity capacity() {
        return capacity;
    }

    /**
     * A poll of {@code size} deliveries, registered before they are decoded, so the lease keeper sees
     * each one as soon as it is taken (a slow decoder must not let the first ones' leases run out
     * unseen). Every slot must be filled ({@link #take(Batch, int, InFlight)}) or given up ({@link #skip}).
     */
    Batch open(int size) {
        var batch = new Batch(size);
        batches.add(batch); // before the count: an Error here (no memory) left it counted in hand for good, never idle
        // counted in hand from here, the whole poll at once: a count per delivery, on the poller, beside the workers'
        // counting down, was a sixth of the poller's time
        inFlightCount.add(size);
        return batch;
    }

    /** Takes a delivery in hand in its poll's slot; the item must not have been let go yet. */
    void take(Batch batch, int slot, InFlight item) {
        item.batch = batch;
        item.slot = slot;
        batch.items.set(slot, item);
    }

    /** Takes a delivery in hand on its own. */
    void take(InFlight item) {
        take(open(1), 0, item);
    }

    /** What a poll's slot holds now: its delivery while in hand, null before it is taken or once let go. */
    InFlight inSlot(Batch batch, int slot) {
        return batch.items.get(slot) instanceof InFlight item ? item : null;
    }

    /** A poll's never-taken slot given up and counted down, once (twice, after a throw: the poll counted to nought). */
    boolean giveUp(Batch batch, int slot) {
        if (!batch.items.compareAndSet(slot, null, GONE)) {
            return false;
        }
        try {
            countDown();
            slotDone(batch);
        } catch (Throwable e) { // thrown on, the caller would not free the slot's place nor give its delivery back
        }
        return true;
    }

    /** One fewer in hand: the adder may need memory (a cell); one lost was counted in hand for good, never idle. */
    private void countDown() {
        try {
            inFlightCount.decrement();
        } catch (Throwable e) { // thrown before it took effect (no memory): counted where nothing is allocated
            uncounted.incrementAndGet();
        }
    }

    private void slotDone(Batch batch) {
        if (batch.left.decrementAndGet() == 0) {
            batches.remove(batch);
        }
    }

    /** Takes the item out of flight and frees its slot; true only for the first call. */
    boolean letGo(InFlight item) {
        boolean first = settling(item);
        if (first) {
            free(item);
        }
        return first;
    }

    /**
     * The first half of {@link #letGo}: marks the item settled, once (true only for the first call); it still counts
     * as in hand — a shutdown waits for it — until {@link #free}, which must follow. Its settlement is queued in
     * between, so a shutdown that finds nothing in hand finds every settlement queued.
     */
    boolean settling(InFlight item) {
        return item.settled.compareAndSet(false, true);
    }

    /**
     * {@link #settling}, and the listener's own settlement to send: false when its handler settled it ({@code
     * Listener.settle}) before answering — that went out then, nothing is sent twice; its slot is freed here.
     */
    boolean settlingOurs(InFlight item, Disposition disposition, boolean stillRunning) {
        synchronized (item) { // against a handler's settle deciding meanwhile (see settleEarly)
            if (!settling(item)) {
                return false;
            }
            if (item.settledEarly.get() == null) {
                if (stillRunning && EarlyAcks.amongSeveral(item)) { // decided with its worker's hand-over (EarlyAcks.over):
                    releasingAtStop.run();
                    keepPart(item, true); // what its handler kept (or acks in its call) stays with it — its ack deleted
                }                         // the message, and the event cut short never ran again
                item.ours = disposition; // last: a settle finding it marked settled waits for this (removingNow), then
                return true;             // finds it kept — noted before, it found it nowhere and went out ahead of this
            }
        }
        free(item);
        return false;
    }

    Runnable releasingAtStop = () -> { }; // a test's pause in the stop's release: item marked settled, locked, not kept

    /** Records a handler's own settlement of an item still in hand; false when the listener settled it first. */
    boolean settleEarly(InFlight item, Disposition disposition) {
        synchronized (item) {
            // refused once put back with events its handler kept (LedgerSteps.letGoOfClaims, under this lock): its
            // ack went out before the listener's put-back, and deleted the message with the later events to run
            return !item.settled.get() && !item.partlyKept && item.settledEarly.compareAndSet(null, disposition);
        }
    }

    /** The second half of {@link #letGo}: the item's slot and its room in the window are free. */
    void free(InFlight item) {
        releasePaused(item);
        countDown();
        var batch = item.batch;
        if (batch != null) {
            batch.items.set(item.slot, GONE);
            item.batch = null;
            slotDone(batch);
        }
        capacity.release(1);
    }

    /** A waiting item's kept claim, let go as it leaves, on a thread of its own (not released, it runs out). */
    private void releasePaused(InFlight item) {
        if (ledger == null || item.pausedClaim.get() == null) {
            return; // nearly every delivery: a read, no write, on the settler's path
        }
        var paused = item.pausedClaim.getAndSet(null);
        if (paused == null) {
            return;
        }
        releasing.incrementAndGet();
        try {
            Thread.ofVirtual().name("ferry-claim-release").start(() -> {
                try {
                    ledger.release(paused.key(), paused.token());
                } catch (Throwable e) {
                    LOG.log(System.Logger.Level.DEBUG, "release of the kept claim on " + paused.key() + " failed; it runs out", e);
                } finally {
                    releasing.decrementAndGet();
                }
            });
        } catch (Throwable e) { // no thread to be had: the claim runs out with its lease
            releasing.decrementAndGet();
        }
    }

    /** Kept claims being released now. */
    private final AtomicInteger releasing = new AtomicInteger();

    /** At a stop: waits, at most {@code within}, for the kept claims being released (the ledger closes after it). */
    void awaitReleases(java.time.Duration within) {
        long until = System.nanoTime() + within.toNanos();
        while (releasing.get() > 0 && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Out of flight, into the handler's keeping (skip-delete); false when settled already — then, {@code givenBack} (a
     * stop gave it back while its handler kept it), left where its handler's later settle finds its claims (found
     * nowhere, they stayed held, and the copy put back waited them out and ran the effect again).
     */
    boolean handOver(InFlight item, boolean givenBack) {
        // in the handed-over set before it leaves flight: a handler settling it from another thread in between
        // finds it in one or the other, never in neither (and its claims would go uncompleted)
        handedOver.put(item.delivery, item);
        if (!letGo(item)) {
            var settledMeanwhile = givenBack ? settledGivenBack.remove(item.delivery) : null;
            if (!givenBack || settledMeanwhile != null || item.settledEarly.get() != null) {
                handedOver.remove(item.delivery, item);
            }
            if (settledMeanwhile != null) {
                item.settledEarly.compareAndSet(null, settledMeanwhile); // its runner completes its claims as it said
            }
            return false;
        }
        return true;
    }

    /**
     * skip-delete: a delivery leaving unacknowledged (put back, dead-lettered, dropped stale, given back) with events
     * its handler kept: kept where its handler's settle finds them, their claims kept (let go of, the copy ran them
     * beside the handler, whose ack deleted the message). False when none was kept, or its handler settled it already.
     * Remembered a while as put back (see {@link #putBackWithKept}), kept claims or none.
     */
    boolean keepPart(InFlight item) {
        return keepPart(item, false);
    }

    /** {@link #keepPart}; {@code atStop}: let go of among its events, findable whatever its handler kept so far. */
    private boolean keepPart(InFlight item, boolean atStop) {
        if (item.handedToHandler == 0 && !atStop || item.settledEarly.get() != null) {
            return false;
        }
        if (!item.partlyKept) { // once: a second call (a stale dead letter's) after the handler's settle took it back
            item.partlyKept = true;
            long now = System.nanoTime();
            if (atStop || !item.asyncClaims.isEmpty()) { // else nothing to keep: the stop need not wait for its handler
                item.keptPastLeaseNanos = now;
                handedOver.put(item.delivery, item); // before it is remembered: a settle that finds it remembered looks
            }                                        // here again (the worker between its two looks, its ack was lost)
            synchronized (putBack) {
                putBack.put(Receive.of(item.delivery), now);
                var eldest = putBack.entrySet().iterator(); // those past the hour go (an outage's put-backs: memory)
                while (eldest.hasNext() && now - eldest.next().getValue() >= PUT_BACK_NANOS) {
                    eldest.remove();
                }
            }
        }
        return true;
    }

    /**
     * One receive of a message, without its body or receipt: what a delivery remembered as put back is known by. A source
     * that numbers each receive 1 (an HTTP request sent again with its idempotency key, a Kafka record read again after a
     * rebalance) hands out another receive known so too: asked of one in hand, this is never asked (see its caller).
     */
    private record Receive(String source, String id, int receiveCount) {
        static Receive of(Delivery d) {
            return new Receive(d.source(), d.id(), d.receiveCount());
        }
    }

    /** Receives put back with events their handlers kept, and when (nanoTime): the newest 100,000, an hour at most. */
    private final Map<Receive, Long> putBack = new java.util.LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Receive, Long> eldest) {
            return size() > PUT_BACK_REMEMBERED;
        }
    };
    private static final int PUT_BACK_REMEMBERED = 100_000;
    private static final long PUT_BACK_NANOS = java.time.Duration.ofHours(1).toNanos();

    /**
     * Whether the listener put {@code delivery} back (or dead-lettered it) with events its handler kept, lately: a
     * handler's settle of it then reaches no transport — a second one (a callback fired twice, a settle per kept
     * event), one with nothing kept to complete, or one after its claims were let run out deleted the message.
     */
    boolean putBackWithKept(Delivery delivery) {
        synchronized (putBack) {
            var at = putBack.get(Receive.of(delivery));
            return at != null && System.nanoTime() - at < PUT_BACK_NANOS;
        }
    }

    /** Handlers' settles of deliveries a stop gave back while their handle() still ran: for their runners to find. */
    private final Map<Delivery, Disposition> settledGivenBack = new ConcurrentHashMap<>();

    /**
     * A handler settled a delivery the stop gave back, before its handle() returned: noted for its runner, which then
     * completes its claims as it said — or, when the runner kept it for its handler meanwhile, its item, taken back (the
     * caller completes them). One or the other, never both.
     */
    InFlight settledWhileGivenBack(Delivery delivery, Disposition disposition) {
        settledGivenBack.putIfAbsent(delivery, disposition); // the first settle decides, as in hand
        var kept = handedOver.get(delivery);
        if (kept != null && settledGivenBack.remove(delivery, disposition)) {
            if (!EarlyAcks.stillAmong(kept)) { // else found by the next settle too (see takeBack)
                handedOver.remove(delivery, kept);
            }
            return kept;
        }
        return null;
    }

    /** The handed-over item of a delivery the handler settles now, or null (one a stop let go of among its events stays). */
    InFlight takeBack(Delivery delivery) {
        var item = handedOver.get(delivery);
        return item == null || EarlyAcks.stillAmong(item) ? item : handedOver.remove(delivery);
    }

    /** The item of a delivery still in flight (not settled, not handed over), or null; a scan of the window. */
    InFlight inFlight(Delivery delivery) {
        for (var batch : batches) {
            for (int i = 0; i < batch.items.length(); i++) {
                if (batch.items.get(i) instanceof InFlight item && !item.settled.get() && item.delivery.equals(delivery)) {
                    return item;
                }
            }
        }
        return null;
    }

    /**
     * Whether the listener is queueing a settlement of {@code delivery} that takes its message away (marked settled, its
     * slot not yet freed): a handler's settle meanwhile finds it neither in hand nor queued. Asked before the queue is:
     * the settlement is queued before the slot is freed.
     */
    boolean removingNow(Delivery delivery) {
        for (var batch : batches) {
            for (int i = 0; i < batch.items.length(); i++) {
                if (batch.items.get(i) instanceof InFlight item && item.settled.get() && item.delivery.equals(delivery)) {
                    Disposition ours = item.ours;
                    if (ours == null) {
                        synchronized (item) { // marked settled, its settlement not yet noted: settlingOurs holds the lock
                            ours = item.ours;
                        }
                    }
                    if (ours instanceof Disposition.Ack || ours instanceof Disposition.DeadLetter) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The items in flight now (a copy; items let go meanwhile may still be in it). */
    Collection<InFlight> inFlight() {
        var now = new ArrayList<InFlight>();
        for (var batch : batches) {
            for (int i = 0; i < batch.items.length(); i++) {
                if (batch.items.get(i) instanceof InFlight item && !item.settled.get()) {
                    now.add(item);
                }
            }
        }
        return now;
    }

    Collection<InFlight> handedOver() {
        return handedOver.values();
    }

    int size() {
        return (int) Math.max(0, inFlightCount.sum() - uncounted.get());
    }

    boolean isEmpty() {
        return size() == 0;
    }
}
