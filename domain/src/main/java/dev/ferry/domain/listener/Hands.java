package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The deliveries the listener holds: in flight (received, not yet settled; each takes a slot of
 * the in-flight window) and handed over (done, but kept by an asynchronous handler until it
 * settles them; their leases are still extended). Thread-safe.
 */
final class Hands {

    private final Capacity capacity;
    private final Set<InFlight> inFlight = ConcurrentHashMap.newKeySet();
    private final Map<Delivery, InFlight> handedOver = new ConcurrentHashMap<>();

    Hands(Capacity capacity) {
        this.capacity = capacity;
    }

    Capacity capacity() {
        return capacity;
    }

    void take(InFlight item) {
        inFlight.add(item);
    }

    /** Takes the item out of flight and frees its slot; true only for the first call. */
    boolean letGo(InFlight item) {
        if (!item.settled.compareAndSet(false, true)) {
            return false;
        }
        inFlight.remove(item);
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

    Collection<InFlight> inFlight() {
        return inFlight;
    }

    Collection<InFlight> handedOver() {
        return handedOver.values();
    }

    int size() {
        return inFlight.size();
    }

    boolean isEmpty() {
        return inFlight.isEmpty();
    }
}
