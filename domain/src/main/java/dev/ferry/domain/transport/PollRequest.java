package dev.ferry.domain.transport;

import java.time.Duration;
import java.util.Objects;

/**
 * One poll: at most {@code maxMessages}, waiting at most {@code maxWait} for the first one
 * (long polling), each received message leased (invisible to others) for {@code lease}.
 */
public record PollRequest(int maxMessages, Duration maxWait, Duration lease) {

    public PollRequest {
        if (maxMessages < 1) {
            throw new IllegalArgumentException("maxMessages must be >= 1, was " + maxMessages);
        }
        Objects.requireNonNull(maxWait, "maxWait");
        Objects.requireNonNull(lease, "lease");
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must be >= 0, was " + maxWait);
        }
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("lease must be > 0, was " + lease);
        }
    }
}
