package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The deliveries the listener holds: in flight (received, not yet settled; each takes a slot of
 * the in-flight window) and handed over (done, but kept by an asynchronous handler until it
 * settles them; their leases are still extended). Thread-safe.
 */
final class Hands {

    /** The deliveries of one poll, taken in hand together; gone from the set once each was let go. */
    static final class Batch {
        private final List<InFlight> items;
        private final AtomicInteger left;

        private Batch(List<InFlight> items) {
            this.items = items;
            this.left = new AtomicInteger(items.size());
        }
    }

    private final Capacity capacity;
    /** In flight, a poll's batch at a time: one set entry per poll instead of one per delivery. */
    private final Set<Batch> batches = ConcurrentHashMap.newKeySet();
    private final LongAdder inFlightCount = new LongAdder();
    private final Map<Delivery, InFlight> handedOver = new ConcurrentHashMap<>();

    Hands(Capacity capacity) {
        this.capacity = capacity;
    }

    Capacity capacity() {
        return capacity;
    }

    void take(InFlight item) {
        takeAll(List.of(item));
    }

    /** Takes a poll's deliveries in hand; none of them may have been let go yet. */
    void takeAll(List<InFlight> items) {
        if (items.isEmpty()) {
            return;
        }
        var batch = new Batch(items);
        for (var item : items) {
            item.batch = batch;
        }
        inFlightCount.add(items.size());
        batches.add(batch);
    }

    /** Takes the item out of flight and frees its slot; true only for the first call. */
    boolean letGo(InFlight item) {
        if (!item.settled.compareAndSet(false, true)) {
            return false;
        }
        inFlightCount.decrement();
        var batch = item.batch;
        if (batch != null && batch.left.decrementAndGet() == 0) {
            batches.remove(batch);
        }
        capacity.release(1);
        return true;
    }

    /** Out of flight, into the handler's keeping (skip-delete). */
    boolean handOver(InFlight item) {
        if (!letGo(item)) {
            return false;
        }
        handedOver.put(item.delivery, item);
        return true;
    }

    /** The handed-over item of a delivery the handler settles now, or null when none. */
    InFlight takeBack(Delivery delivery) {
        return handedOver.remove(delivery);
    }

    /** The items in flight now (a copy; items let go meanwhile may still be in it). */
    Collection<InFlight> inFlight() {
        var now = new ArrayList<InFlight>();
        for (var batch : batches) {
            for (var item : batch.items) {
                if (!item.settled.get()) {
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
        return (int) Math.max(0, inFlightCount.sum());
    }

    boolean isEmpty() {
        return size() == 0;
    }
}
