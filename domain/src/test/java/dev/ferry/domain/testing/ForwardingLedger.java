package dev.ferry.domain.testing;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import java.time.Duration;

/** A ledger that forwards claims and completions to another: tests extend it to break one thing only. */
public class ForwardingLedger implements IdempotencyLedger {

    protected final IdempotencyLedger ledger;

    public ForwardingLedger(IdempotencyLedger ledger) {
        this.ledger = ledger;
    }

    @Override
    public Claim claim(String key, Duration lease) {
        return ledger.claim(key, lease);
    }

    @Override
    public boolean complete(String key, long token, Duration ttl) {
        return ledger.complete(key, token, ttl);
    }

    @Override
    public boolean release(String key, long token) {
        return ledger.release(key, token);
    }

    /**
     * The bounded extension ({@code answerWithin}) is not forwarded as such: it comes here (the port's default), where
     * the tests that break extensions break them. Forwarded past this, it went by them.
     */
    @Override
    public boolean extend(String key, long token, Duration lease) {
        return ledger.extend(key, token, lease);
    }
}
