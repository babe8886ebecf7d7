package dev.ferry.domain.listener;

import dev.ferry.domain.transport.Disposition;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;

/** The listener's counters, bumped from every thread, read as a {@link ListenerStats} snapshot. */
final class Counters {

    final LongAdder received = new LongAdder();
    final LongAdder acked = new LongAdder();
    final LongAdder redelivered = new LongAdder();
    final LongAdder released = new LongAdder();
    final LongAdder deadLettered = new LongAdder();
    final LongAdder handedOver = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder throttled = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder decodeFailures = new LongAdder();
    final LongAdder fenced = new LongAdder();
    final LongAdder leaseExtensions = new LongAdder();
    final LongAdder settleFailures = new LongAdder();
    final LongAdder polls = new LongAdder();
    final LongAdder settlementsSent = new LongAdder();
    final LongAdder ledgerFailures = new LongAdder();
    final LongAdder held = new LongAdder();
    final LongAdder staleDropped = new LongAdder();
    final LongAdder claimsLost = new LongAdder();
    volatile Instant lastReceive;

    void count(Disposition disposition) {
        switch (disposition) {
            case Disposition.Ack a -> acked.increment();
            case Disposition.Redeliver r -> redelivered.increment();
            case Disposition.Release r -> released.increment();
            case Disposition.DeadLetter d -> deadLettered.increment();
        }
    }

    /** {@code keptByHandler}: the deliveries in their handlers' keeping now (skip-delete), as {@code inFlight} in hand. */
    ListenerStats snapshot(long inFlight, long keptByHandler) {
        return new ListenerStats(received.sum(), acked.sum(), redelivered.sum(), released.sum(), deadLettered.sum(),
                handedOver.sum(), duplicates.sum(), throttled.sum(), failures.sum(), decodeFailures.sum(), fenced.sum(),
                inFlight, leaseExtensions.sum(), settleFailures.sum(), polls.sum(), lastReceive,
                ledgerFailures.sum(), held.sum(), staleDropped.sum(), claimsLost.sum(), keptByHandler);
    }
}
