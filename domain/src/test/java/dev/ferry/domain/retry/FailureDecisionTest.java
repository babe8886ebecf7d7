package dev.ferry.domain.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.retry.FailureDecision.Counts;
import dev.ferry.domain.retry.FailureDecision.Decision;
import dev.ferry.domain.retry.FailureDecision.Hold;
import dev.ferry.domain.retry.FailureDecision.Policies;
import dev.ferry.domain.retry.FailureDecision.Settle;
import dev.ferry.domain.retry.FailureDecision.Setback;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The failure decision as a table: setback + counts + policies → decision. No threads, no clock. #15 */
class FailureDecisionTest {

    private static final Policies POLICIES = new Policies(
            RetryPolicy.of(3, Backoff.fixed(Duration.ofSeconds(2))),
            DeadLetterPolicy.maxReceives(5),
            Duration.ofMinutes(5),
            Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(10)).withJitter(Jitter.NONE));

    private static Counts counts(int receives, int failures) {
        return new Counts(receives, failures, 0, 0);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                // setback, counts, expected decision
                Arguments.of(new FailureDecision.Answered(Outcome.retry("500")), counts(1, 1),
                        new Hold(Duration.ofSeconds(2), "500")),
                Arguments.of(new FailureDecision.Answered(Outcome.retry("500")), counts(1, 3),
                        new Settle(Disposition.deadLetter("failed 3 time(s), the retry policy allows 3; last failure: 500"), false)),
                Arguments.of(new FailureDecision.Answered(Outcome.retryAfter(Duration.ofMinutes(10), "later")), counts(1, 1),
                        new Settle(Disposition.redeliver(Duration.ofMinutes(10)), false)),
                // a wait of a year (or "for ever") asked for: back after SQS's longest visibility at most, to be tried
                // again or dead-lettered (a Kafka record's key, and its partition's commits, were held for the year)
                Arguments.of(new FailureDecision.Answered(Outcome.retryAfter(Duration.ofDays(365), "next year")),
                        counts(1, 1), new Settle(Disposition.redeliver(Duration.ofHours(12)), false)),
                Arguments.of(new FailureDecision.Answered(Outcome.throttled(Duration.ofDays(365 * 100))), counts(1, 0),
                        new Settle(Disposition.redeliver(Duration.ofHours(12)), true)),
                Arguments.of(new FailureDecision.ClaimedElsewhere(Duration.ofDays(30)), counts(1, 0),
                        new Settle(Disposition.redeliver(Duration.ofHours(12)), true)),
                Arguments.of(new FailureDecision.Answered(Outcome.reject("400 bad request")), counts(1, 0),
                        new Settle(Disposition.deadLetter("400 bad request"), false)),
                Arguments.of(new FailureDecision.Threw("the handler", "java.lang.NoClassDefFoundError: x/Y"), counts(1, 1),
                        new Hold(Duration.ofSeconds(2), "the handler threw java.lang.NoClassDefFoundError: x/Y")),
                Arguments.of(new FailureDecision.Threw("the decoder", "boom"), counts(2, 3),
                        new Settle(Disposition.deadLetter("failed 3 time(s), the retry policy allows 3; last failure: the decoder threw boom"), false)),
                // a failing ledger: never dead-letters, however often, and backs off with growing, capped delays
                Arguments.of(new FailureDecision.StoreFailed("claim", "timeout", 1), counts(9, 9),
                        new Hold(Duration.ofMillis(100), "ledger claim failed (1 in a row): timeout")),
                Arguments.of(new FailureDecision.StoreFailed("claim", "timeout", 4), counts(1, 0),
                        new Hold(Duration.ofMillis(800), "ledger claim failed (4 in a row): timeout")),
                Arguments.of(new FailureDecision.StoreFailed("complete", "timeout", 40), counts(1, 0),
                        new Hold(Duration.ofSeconds(10), "ledger complete failed (40 in a row): timeout")),
                // asked again after a second at most, not after the whole of the holder's lease
                Arguments.of(new FailureDecision.ClaimedElsewhere(Duration.ofSeconds(7)), counts(3, 0),
                        new Hold(Duration.ofSeconds(1), "claimed by another worker")),
                Arguments.of(new FailureDecision.ClaimedElsewhere(Duration.ofMillis(300)), counts(3, 0),
                        new Hold(Duration.ofMillis(300), "claimed by another worker")),
                // a claim that ran out by our clock (the ledger's is behind): asked again soon, not in a spin
                Arguments.of(new FailureDecision.ClaimedElsewhere(Duration.ofMillis(-5)), counts(3, 0),
                        new Hold(Duration.ofMillis(25), "claimed by another worker")),
                Arguments.of(new FailureDecision.Malformed("not JSON"), counts(1, 0),
                        new Settle(Disposition.deadLetter("malformed: not JSON"), false)));
    }

    @ParameterizedTest(name = "{0} with {1} -> {2}")
    @MethodSource("table")
    void decides(Setback setback, Counts counts, Decision expected) {
        assertThat(FailureDecision.decide(setback, counts, POLICIES, new SplittableRandom(1))).isEqualTo(expected);
    }

    @Test
    void withoutHolding_aStoreFailureGoesBackToTheTransport_excused() {
        var noHold = new Policies(POLICIES.retry(), POLICIES.deadLetter(), Duration.ZERO, POLICIES.storeBackoff());
        assertThat(FailureDecision.decide(new FailureDecision.StoreFailed("claim", "down", 2), counts(1, 0), noHold,
                new SplittableRandom(1))).isEqualTo(new Settle(Disposition.redeliver(Duration.ofMillis(200)), true));
    }

    @Test
    void aClaimHeldElsewhereLongerThanTheHoldLimit_sendsTheMessageBackUntilItEnds_excused() {
        var shortHold = new Policies(POLICIES.retry(), POLICIES.deadLetter(), Duration.ofSeconds(10), POLICIES.storeBackoff());
        assertThat(FailureDecision.decide(new FailureDecision.ClaimedElsewhere(Duration.ofSeconds(45)), counts(1, 0), shortHold,
                new SplittableRandom(1))).isEqualTo(new Settle(Disposition.redeliver(Duration.ofSeconds(45)), true));
    }

    @Test
    void onReceive_countsOnlyReceivesThatWereTheMessagesFault() {
        var policy = DeadLetterPolicy.maxReceives(5);
        assertThat(FailureDecision.onReceive(new Counts(5, 0, 0, 0), policy)).isNull();
        assertThat(FailureDecision.onReceive(new Counts(8, 0, 2, 1), policy)).isNull();
        assertThat(FailureDecision.onReceive(new Counts(9, 0, 2, 1), policy)).isEqualTo(new Settle(Disposition.deadLetter(
                "received 9 times (2 throttled, 1 handed back unhandled), more than maxReceives 5"), false));
    }

    @Test
    void doneIsNotASetback() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new FailureDecision.Answered(Outcome.done()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test // Throttled(0) (an endpoint's Retry-After: 0) held for no time at all is a request loop for as long as it lasts
    void throttledForNoTime_waitsTheFloor_whileALongerThrottleWaitsWhatItAsked() {
        var floored = new Policies(POLICIES.retry(), POLICIES.deadLetter(), POLICIES.holdLimit(), POLICIES.storeBackoff(),
                Duration.ofMillis(100));
        var zero = FailureDecision.decide(new FailureDecision.Answered(dev.ferry.domain.handle.Outcome.throttled(Duration.ZERO)),
                new FailureDecision.Counts(1, 0, 0, 0), floored, new java.util.Random(1));
        assertThat(zero).isInstanceOfSatisfying(FailureDecision.Hold.class,
                h -> assertThat(h.delay()).isBetween(Duration.ofMillis(100), Duration.ofMillis(110)));
        var longer = FailureDecision.decide(new FailureDecision.Answered(dev.ferry.domain.handle.Outcome.throttled(Duration.ofMillis(700))),
                new FailureDecision.Counts(1, 0, 0, 0), floored, new java.util.Random(1));
        assertThat(longer).isInstanceOfSatisfying(FailureDecision.Hold.class,
                h -> assertThat(h.delay()).isBetween(Duration.ofMillis(700), Duration.ofMillis(770)));
    }

    /**
     * Every message throttled by one 429 storm (or one {@code Retry-After}) waited exactly as long, so
     * they all tried again in the same millisecond — on this instance and on the others the storm hit —
     * and met the next 429 together. Each waits what it was told and up to a tenth more (a minute at
     * most), never less.
     */
    @Test
    void throttled_waitsWhatItWasToldAndUpToATenthMore_soMessagesThrottledTogetherDoNotComeBackTogether() {
        var random = new SplittableRandom(7);
        var held = new java.util.TreeSet<Duration>();
        for (int i = 0; i < 200; i++) {
            var decision = FailureDecision.decide(new FailureDecision.Answered(Outcome.throttled(Duration.ofSeconds(5))),
                    counts(4, 0), POLICIES, random);
            assertThat(decision).isInstanceOfSatisfying(Hold.class, h -> {
                assertThat(h.reason()).isEqualTo("throttled");
                held.add(h.delay());
            });
        }
        assertThat(held.first()).isGreaterThanOrEqualTo(Duration.ofSeconds(5));
        assertThat(held.last()).isLessThanOrEqualTo(Duration.ofMillis(5_500));
        assertThat(held.last()).isGreaterThan(Duration.ofMillis(5_250)); // spread over the tenth, not bunched
        assertThat(held).hasSizeGreaterThan(100);

        // a throttle of exactly the hold limit (the defaults: 5m and 5m) is held, spread past it by a tenth at most
        var atTheLimit = new java.util.TreeSet<Duration>();
        for (int i = 0; i < 50; i++) {
            var decision = FailureDecision.decide(new FailureDecision.Answered(Outcome.throttled(Duration.ofMinutes(5))),
                    counts(4, 0), POLICIES, random);
            assertThat(decision).isInstanceOfSatisfying(Hold.class, h -> atTheLimit.add(h.delay()));
        }
        assertThat(atTheLimit.first()).isGreaterThanOrEqualTo(Duration.ofMinutes(5));
        assertThat(atTheLimit.last()).isLessThanOrEqualTo(Duration.ofMinutes(5).plusSeconds(30));
        assertThat(atTheLimit).hasSizeGreaterThan(10);

        // past the hold limit: back on the transport, excused, spread the same way
        var back = FailureDecision.decide(new FailureDecision.Answered(Outcome.throttled(Duration.ofMinutes(6))),
                counts(4, 2), POLICIES, random);
        assertThat(back).isInstanceOfSatisfying(Settle.class, settle -> {
            assertThat(settle.excused()).isTrue();
            assertThat(settle.disposition()).isInstanceOfSatisfying(Disposition.Redeliver.class, r -> assertThat(r.delay())
                    .isBetween(Duration.ofMinutes(6), Duration.ofMinutes(6).plusSeconds(36)));
        });

        // a throttle of six hours is spread by a minute at most; a throttle without a random source is not spread
        var hours = FailureDecision.decide(new FailureDecision.Answered(Outcome.throttled(Duration.ofHours(6))), counts(1, 0),
                POLICIES, random);
        assertThat(hours).isInstanceOfSatisfying(Settle.class, settle -> assertThat(settle.disposition())
                .isInstanceOfSatisfying(Disposition.Redeliver.class, r -> assertThat(r.delay())
                        .isBetween(Duration.ofHours(6), Duration.ofHours(6).plusMinutes(1))));
        assertThat(FailureDecision.decide(new FailureDecision.Answered(Outcome.throttled(Duration.ofSeconds(5))), counts(1, 0),
                POLICIES, null)).isEqualTo(new Hold(Duration.ofSeconds(5), "throttled"));
        var forEver = Duration.ofSeconds(Long.MAX_VALUE); // a plugin's "for ever": not spread into an overflow, and back
        assertThat(FailureDecision.decide(new FailureDecision.Answered(Outcome.throttled(forEver)), counts(1, 0), POLICIES,
                random)).isEqualTo(new Settle(Disposition.redeliver(FailureDecision.LONGEST_REDELIVERY), true));
    }
}
