package dev.ferry.domain.idempotency;

import java.time.Instant;

/** The answer to {@link IdempotencyLedger#claim}. */
public sealed interface Claim {

    String key();

    /**
     * This worker holds the key until {@code leaseUntil}. {@code token} is the fencing token: it
     * grows with every claim of the key, and only the current holder's token completes or releases it.
     */
    record Acquired(String key, long token, Instant leaseUntil) implements Claim {
    }

    /** Another worker holds the key until {@code leaseUntil}; try again after it. */
    record InProgress(String key, Instant leaseUntil) implements Claim {
    }

    /** The key's effect already happened (at {@code completedAt}); drop the duplicate. */
    record Completed(String key, Instant completedAt) implements Claim {
    }
}
