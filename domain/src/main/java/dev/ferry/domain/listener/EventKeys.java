package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.model.Event;

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
     * Whether the ledger has every event of the delivery done already: a copy of a message that was
     * handled (its earlier copy's ack came a moment past its lease, say) is not dead-lettered for its
     * receives; it goes on and is dropped as a duplicate. False when there is no ledger or no event;
     * throws what the ledger threw when it cannot say (the delivery then waits for it, as for a claim). When false, the
     * delivery's next event is its first not done.
     */
    boolean allDone(InFlight item) {
        if (ledger == null || item.events == null || item.events.isEmpty()) {
            return false;
        }
        for (int i = item.nextEvent; i < item.events.size(); i++) {
            if (!(ledger.peek(of(item, item.events.get(i))).orElse(null) instanceof Claim.Completed)) {
                item.nextEvent = i; // those before it done: a group parked for it is parked at this one, not at one done
                return false;
            }
        }
        return true;
    }
}
