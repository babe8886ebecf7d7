package dev.ferry.domain.retry;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with a cap: attempt n (1-based) waits {@code initial * multiplier^(n-1)},
 * never more than {@code max}, then jittered.
 */
public record Backoff(Duration initial, double multiplier, Duration max, Jitter jitter) {

    public Backoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        Objects.requireNonNull(jitter, "jitter");
        if (initial.isNegative()) {
            throw new IllegalArgumentException("backoff initial must be >= 0, was " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff max must be >= initial (" + initial + "), was " + max);
        }
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("backoff multiplier must be a finite number >= 1, was " + multiplier);
        }
    }

    /**
     * 1 s doubling up to 5 minutes, half jitter: the four waits of five attempts take 7.5 s at the least. With full
     * jitter (uniform from 0) one message in a hundred spent all five within 2 s of its first failure, and one in five
     * within 5 s — a dependency down for five seconds dead-lettered a fifth of what it failed.
     */
    public static Backoff defaults() {
        return new Backoff(Duration.ofSeconds(1), 2.0, Duration.ofMinutes(5), Jitter.HALF);
    }

    public static Backoff fixed(Duration delay) {
        return new Backoff(delay, 1.0, delay, Jitter.NONE);
    }

    public static Backoff exponential(Duration initial, Duration max) {
        return new Backoff(initial, 2.0, max, Jitter.FULL);
    }

    public Backoff withJitter(Jitter jitter) {
        return new Backoff(initial, multiplier, max, jitter);
    }

    /** The delay before retry number {@code attempt} (1 = the first retry). */
    public Duration delay(int attempt, RandomGenerator random) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1, was " + attempt);
        }
        // saturated: a cap of "for ever" (Duration.ofSeconds(Long.MAX_VALUE)) threw on every retry, and the delivery
        // it was decided for was stranded in hand
        double capMillis = dev.ferry.domain.model.Durations.millis(max);
        // in fractions of a millisecond: rounded down first, an initial of 500 µs was 0, and every delay with it
        double raw = (initial.getSeconds() * 1_000.0 + initial.getNano() / 1e6) * Math.pow(multiplier, attempt - 1);
        long millis = Math.min((long) Math.min(raw, capMillis), Long.MAX_VALUE - 1); // the cast saturates at 2^63 - 1
        return Duration.ofMillis(switch (jitter) {
            case NONE -> millis;
            case HALF -> millis / 2 + (millis - millis / 2 == 0 ? 0 : random.nextLong(millis - millis / 2 + 1));
            case FULL -> millis == 0 ? 0 : random.nextLong(millis + 1);
        });
    }
}
