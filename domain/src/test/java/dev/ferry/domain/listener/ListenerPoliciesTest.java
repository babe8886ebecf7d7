package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.retry.FailureDecision;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ListenerPoliciesTest {

    @Test
    void aThrottlePauseOfZero_stillHasAThrottledZeroWait() {
        // the floor was min(throttlePause, 100 ms): with a pause of 0, Throttled(0) was held for 0 and run again at
        // once, in a loop — a worker and the group pinned, no attempt counted, an HTTP client's request never answered
        var config = ListenerConfig.builder().throttlePause(Duration.ZERO).build();
        var policies = ListenerPolicies.of(config, InMemoryQueue.standard("q"));

        var decision = FailureDecision.decide(new FailureDecision.Answered(Outcome.throttled(Duration.ZERO)),
                new FailureDecision.Counts(1, 0, 0, 0), policies, new SplittableRandom(1));

        assertThat(decision).isInstanceOfSatisfying(FailureDecision.Hold.class,
                h -> assertThat(h.delay()).isGreaterThanOrEqualTo(Duration.ofMillis(10)));
    }

    @Test
    void aThrottlePauseUnderTheFloor_isTheFloor_andALongerOneIsCappedAtIt() {
        var shortPause = ListenerPolicies.of(ListenerConfig.builder().throttlePause(Duration.ofMillis(40)).build(),
                InMemoryQueue.standard("q"));
        var longPause = ListenerPolicies.of(ListenerConfig.builder().throttlePause(Duration.ofSeconds(3))
                .maxThrottlePause(Duration.ofSeconds(30)).build(), InMemoryQueue.standard("q"));

        assertThat(shortPause.throttleFloor()).isEqualTo(Duration.ofMillis(40));
        assertThat(longPause.throttleFloor()).isEqualTo(FailureDecision.THROTTLE_FLOOR);
    }

    /** A source whose transport grants 12 hours at most, as SQS. */
    private static final class TwelveHours implements dev.ferry.domain.transport.Source {
        @Override
        public String name() {
            return "orders";
        }

        @Override
        public java.util.List<dev.ferry.domain.model.Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
            return java.util.List.of();
        }

        @Override
        public Duration longestLease() {
            return Duration.ofHours(12);
        }
    }

    @Test // thirty-eighth round: SQS cut a 24-hour lease to 12 unsaid while the listener counted on 24: a copy handed
          // out at 12 hours ran beside its handler, and decisions made in that time were not taken as stale
    void aLeaseLongerThanTheSourceGrants_isRefusedWhenTheListenerIsBuilt() {
        var queue = InMemoryQueue.standard("orders");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Listener.builder(new TwelveHours(), queue,
                        new dev.ferry.domain.testing.LineDecoder(), (e, d) -> Outcome.done())
                        .config(ListenerConfig.builder().lease(Duration.ofHours(24)).build()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lease 1d").hasMessageContaining("'orders'").hasMessageContaining("12h");
        assertThat(Listener.builder(new TwelveHours(), queue, new dev.ferry.domain.testing.LineDecoder(), (e, d) -> Outcome.done())
                .config(ListenerConfig.builder().lease(Duration.ofHours(12)).build()).build()).as("12 hours: granted")
                .isNotNull();
    }
}
