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
}
