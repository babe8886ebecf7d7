package dev.ferry.domain.transport;

import dev.ferry.domain.model.Delivery;
import java.util.List;

/**
 * Port: where deliveries come from (an SQS queue, Kafka topics, an HTTP endpoint).
 *
 * <p>Contract: {@link #poll} blocks up to the request's {@code maxWait} and returns between 0 and
 * {@code maxMessages} deliveries, each leased for the request's {@code lease}: until it is settled
 * or the lease runs out, no other poll returns it. It returns early, possibly empty, when the
 * calling thread is interrupted. Safe to call from several poller threads at once. Transport
 * failures are thrown as {@link dev.ferry.domain.model.FerryException} (unchecked), with
 * {@code retryable()} set when polling again may work.
 */
public interface Source extends AutoCloseable {

    /** A stable name for logs and statistics, e.g. the queue name. */
    String name();

    List<Delivery> poll(PollRequest request);

    /**
     * The longest a delivery of this source may wait in the listener's hands to be tried again
     * (a retry's backoff, a throttle, a failing ledger) before it is settled back to the transport
     * instead. Unbounded by default; a source whose client waits for the answer (an HTTP ingest)
     * returns {@link java.time.Duration#ZERO}, so the client hears "later" at once.
     */
    default java.time.Duration maxHoldInHand() {
        return java.time.Duration.ofDays(365);
    }

    /**
     * The longest lease this transport grants a message (SQS: 12 hours, its longest visibility timeout). A listener
     * whose lease is longer is refused when built: the transport would cut each lease short, unsaid, while the
     * listener counted on it — a copy handed out before the first extension ran beside its handler. Unbounded
     * (a century) by default.
     */
    default java.time.Duration longestLease() {
        return java.time.Duration.ofDays(36_500);
    }

    /**
     * Whether the transport hands a message out again once its lease ran out (SQS: its visibility
     * timeout), so that a copy still waiting in hand past its lease is stale — another copy is out
     * there, and this one is dropped unhandled. A source whose messages stay its own until settled
     * (Kafka's records while their partition is assigned, an HTTP request until it is answered) says
     * false: its messages are handled however long they waited.
     */
    default boolean redeliversAfterLease() {
        return true;
    }

    /**
     * What keeps this source from delivering right now (a consumer thread that died and is being
     * restarted, say), in words; empty when nothing. The listener reports it in its health.
     */
    default java.util.Optional<String> problem() {
        return java.util.Optional.empty();
    }

    /**
     * The listener is stopping: no poll will take what comes now. A source that takes work in on its own (an HTTP
     * endpoint) refuses it from here, so its clients go elsewhere at once rather than wait for the close. Called once,
     * once the pollers have stopped; it must not block. A later poll (another listener on the source) may take work in
     * again. Nothing by default.
     */
    default void stopping() {
    }

    /** Releases the transport's resources; polls after close fail. */
    @Override
    default void close() {
    }
}
