package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** One delivery between its receipt and its settlement. */
final class InFlight {

    final Delivery delivery;
    final List<Event> events;
    final String orderingKey;
    final AtomicBoolean settled = new AtomicBoolean();
    volatile Instant leaseUntil;
    volatile boolean started;
    /** The ledger claim held right now, extended with the lease; null when none. */
    volatile String claimKey;
    volatile long claimToken;

    InFlight(Delivery delivery, List<Event> events, String orderingKey, Instant leaseUntil) {
        this.delivery = delivery;
        this.events = events;
        this.orderingKey = orderingKey;
        this.leaseUntil = leaseUntil;
    }
}
