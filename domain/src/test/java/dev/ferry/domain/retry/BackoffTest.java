package dev.ferry.domain.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private final SplittableRandom random = new SplittableRandom(42);

    @Test
    void noJitter_doublesUpToTheCap() {
        var b = new Backoff(Duration.ofMillis(100), 2.0, Duration.ofSeconds(1), Jitter.NONE);
        assertThat(b.delay(1, random)).isEqualTo(Duration.ofMillis(100));
        assertThat(b.delay(2, random)).isEqualTo(Duration.ofMillis(200));
        assertThat(b.delay(4, random)).isEqualTo(Duration.ofMillis(800));
        assertThat(b.delay(5, random)).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.delay(500, random)).as("no overflow far past the cap").isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void fullJitter_staysWithin0AndTheDelay_andSpreads() {
        var b = new Backoff(Duration.ofMillis(1000), 2.0, Duration.ofSeconds(10), Jitter.FULL);
        var seen = new java.util.HashSet<Duration>();
        for (int i = 0; i < 1000; i++) {
            var d = b.delay(2, random);
            assertThat(d).isBetween(Duration.ZERO, Duration.ofMillis(2000));
            seen.add(d);
        }
        assertThat(seen.size()).isGreaterThan(100);
    }

    @Test
    void halfJitter_keepsAFloorOfHalfTheDelay() {
        var b = new Backoff(Duration.ofMillis(1000), 2.0, Duration.ofSeconds(10), Jitter.HALF);
        for (int i = 0; i < 1000; i++) {
            assertThat(b.delay(3, random)).isBetween(Duration.ofMillis(2000), Duration.ofMillis(4000));
        }
    }

    @Test // a review: with full jitter one message in a hundred spent its five attempts within 2 s of its first failure
    void theDefaultPolicy_waitsAtLeastSevenAndAHalfSeconds_overItsFourRetries() {
        for (long seed = 0; seed < 2_000; seed++) {
            var rnd = new SplittableRandom(seed);
            long total = 0;
            for (int retry = 1; retry <= 4; retry++) {
                total += RetryPolicy.defaults().backoff().delay(retry, rnd).toMillis();
            }
            assertThat(total).as("seed %d", seed).isGreaterThanOrEqualTo(7_500);
        }
    }

    @Test
    void aStartBelowAMillisecond_stillGrows() {
        var b = new Backoff(Duration.ofNanos(500_000), 2.0, Duration.ofSeconds(10), Jitter.NONE);
        assertThat(b.delay(15, random)).isEqualTo(Duration.ofMillis(8_192));
    }

    @Test
    void invalidValues_nameTheFieldAndTheValue() {
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), 2.0, Duration.ofSeconds(1), Jitter.NONE))
                .hasMessage("backoff max must be >= initial (PT2S), was PT1S");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), 0.5, Duration.ofSeconds(1), Jitter.NONE))
                .hasMessage("backoff multiplier must be a finite number >= 1, was 0.5");
        assertThatThrownBy(() -> new RetryPolicy(0, Backoff.defaults())).hasMessage("maxAttempts must be >= 1, was 0");
        assertThatThrownBy(() -> new DeadLetterPolicy(0)).hasMessage("maxReceives must be >= 1, was 0");
    }

    @Test
    void retryPolicy_countsAttempts_andHonoursTheRequestedDelay() {
        var p = RetryPolicy.of(3, Backoff.fixed(Duration.ofSeconds(1)));
        assertThat(p.allowsAnotherAttempt(2)).isTrue();
        assertThat(p.allowsAnotherAttempt(3)).isFalse();
        assertThat(p.delayAfter(1, Duration.ofSeconds(5), random)).isEqualTo(Duration.ofSeconds(5));
        assertThat(p.delayAfter(1, Duration.ZERO, random)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void aCapOfForever_neverThrows_withAnyJitter_atAnyAttempt() {
        // the saturated delay came to 2^63 - 1 ms, and full jitter's nextLong(millis + 1) overflowed and threw
        var forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
        for (var jitter : Jitter.values()) {
            var backoff = new Backoff(Duration.ofSeconds(1), 2.0, forever, jitter);
            for (int attempt : new int[] {1, 53, 54, 70, 1_000, Integer.MAX_VALUE}) {
                assertThat(backoff.delay(attempt, random)).as("%s, attempt %d", jitter, attempt).isGreaterThanOrEqualTo(Duration.ZERO);
            }
        }
    }
}
