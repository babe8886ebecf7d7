package dev.ferry.domain.transport;

import dev.ferry.domain.model.Delivery;
import java.time.Duration;
import java.util.List;

/**
 * Port: carries out the core's decisions on deliveries a {@link Source} handed out.
 *
 * <p>Contract: {@link #settle} carries out every settlement it can, in batches where the transport
 * allows, and returns those it could not (a stale receipt, a DLQ that refused the message), each
 * saying whether it may succeed later ({@link Settlement.Failure#retryable}: for a dead letter, it
 * decides whether the next copy goes to the DLQ unrun or runs again); it does not throw for a
 * partial failure. A {@code DeadLetter} removes the message only after the
 * dead-letter destination confirmed it. Everything not settled becomes visible again when its lease
 * runs out, so a failure here can cause a redelivery, never a loss.
 *
 * <p>The core does not send a settlement it got back again (a dead letter refused for a passing
 * reason is owed instead: the next copy goes to the dead-letter destination unrun). A transport that
 * keeps a message until it is settled, with no lease to run out ({@link Source#redeliversAfterLease()}
 * false), must offer a refused settlement again itself — a release or redelivery it refused left the
 * message with no one until its next owner — as Ferry's Kafka source does. Thread-safe.
 */
public interface Acknowledger {

    List<Settlement.Failure> settle(List<Settlement> settlements);

    /**
     * Extends the lease (visibility) of deliveries still being worked on so they are not handed
     * out again; returns the ones whose lease could not be extended (already expired, or settled).
     */
    List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease);

    /**
     * Whether {@code delivery} is still this consumer's to handle, on a transport that keeps a message while it is
     * ours instead of handing it out again after a lease ({@link Source#redeliversAfterLease()} false): false once the
     * transport gave it to another consumer (a Kafka partition revoked in a rebalance). The core then runs nothing more
     * of it — no retry, no dead letter, no later message of its group: its next owner reads it again, in order. Asked
     * before each attempt, so it must be cheap (no network call); a throw is taken as true. True by default: an
     * acknowledger that wraps another (metrics, auditing) passes it on, or the protection is off.
     */
    default boolean holds(Delivery delivery) {
        return true;
    }
}
