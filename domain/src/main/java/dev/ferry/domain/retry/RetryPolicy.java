package dev.ferry.domain.retry;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How often a failing event is tried and how long to wait in between. {@code maxAttempts}
 * counts real failures only ({@code Retry} outcomes, handler exceptions); throttling does not count.
 */
public record RetryPolicy(int maxAttempts, Backoff backoff) {

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
        }
        Objects.requireNonNull(backoff, "backoff");
    }

    /** 5 attempts, 1 s doubling to 5 minutes with half jitter (see {@link Backoff#defaults()}). */
    public static RetryPolicy defaults() {
        return new RetryPolicy(5, Backoff.defaults());
    }

    public static RetryPolicy of(int maxAttempts, Backoff backoff) {
        return new RetryPolicy(maxAttempts, backoff);
    }

    /** True when a message that has now failed {@code failures} times may be tried again. */
    public boolean allowsAnotherAttempt(int failures) {
        return failures < maxAttempts;
    }

    /** The delay after the {@code failures}-th failure, at least {@code requested}. */
    public Duration delayAfter(int failures, Duration requested, RandomGenerator random) {
        var computed = backoff.delay(Math.max(1, failures), random);
        return computed.compareTo(requested) >= 0 ? computed : requested;
    }
}
