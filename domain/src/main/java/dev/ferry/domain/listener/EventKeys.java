package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.FailureDecision;

/** A listener's ledger keys of events, and what its ledger says of a delivery's events. */
final class EventKeys {

    private final IdempotencyLedger ledger;
    private final String scope;

    /** {@code scope}: the builder's choice, else null (the source's name then scopes each key). */
    EventKeys(IdempotencyLedger ledger, String scope) {
        this.ledger = ledger;
        this.scope = scope;
    }

    /** An event's ledger key: scoped by the builder's choice, else shared for keys unique by nature, else the source's name. */
    String of(InFlight item, Event event) {
        String of = scope != null ? scope : item.delivery.source();
        var last = prefix;
        if (last == null || !last.scope().equals(of)) {
            last = new Prefix(of, LedgerKeys.eventPrefix(of)); // one source per listener: made once
            prefix = last;
        }
        return LedgerKeys.bounded(last.prefix() + java.util.Objects.requireNonNull(event.key(), "eventKey"));
    }

    private record Prefix(String scope, String prefix) {
    }

    /** The last scope's key prefix (a record, so workers see both halves together). */
    private volatile Prefix prefix;

    /**
     * What the ledger says of a delivery past the receive limit, before it is dead-lettered for its receives. {@link
     * Claim.Completed} (its last event's) when every event is done already: a copy of a message that was handled (its
     * earlier copy's ack came a moment past its lease, say) is not dead-lettered for its receives; it goes on and is
     * dropped as a duplicate. {@link Claim.InProgress} when its first event not done is claimed by another holder: that
     * handler may run on and finish it (its lease's extension was refused, the claim kept), so the copy waits for it as
     * it would below the limit — a holder that died lets its claim lapse with its lease, and the copy is dead-lettered
     * then (a lease the ledger does not say, or says ended — a plugin's peek that does not look at its clock — is no
     * live holder: waited on, it was asked again every 25 ms for ever). Null otherwise, and when there is no ledger or
     * no event; throws what the ledger threw when it cannot say
     * (the delivery then waits for it, as for a claim). When not all done, the delivery's next event is its first not
     * done.
     */
    Claim state(InFlight item, java.time.Clock clock) {
        if (ledger == null || item.events == null || item.events.isEmpty()) {
            return null;
        }
        Claim answer = null;
        for (int i = item.nextEvent; i < item.events.size(); i++) {
            answer = ledger.peek(of(item, item.events.get(i))).orElse(null);
            if (!(answer instanceof Claim.Completed)) {
                item.nextEvent = i; // those before it done: a group parked for it is parked at this one, not at one done
                return answer instanceof Claim.InProgress held && held.leaseUntil() != null
                        && held.leaseUntil().isAfter(clock.instant()) ? answer : null;
            }
        }
        return answer != null ? answer : new Claim.Completed("", java.time.Instant.EPOCH); // none left to ask: done
    }

    /** The wait for {@code held}, as for an event's claim held elsewhere (until when not said: asked again shortly). */
    static FailureDecision.ClaimedElsewhere waitFor(Claim.InProgress held, java.time.Clock clock) {
        return new FailureDecision.ClaimedElsewhere(held.leaseUntil() == null ? FailureDecision.CLAIM_RECHECK
                : java.time.Duration.between(clock.instant(), held.leaseUntil()));
    }
}
