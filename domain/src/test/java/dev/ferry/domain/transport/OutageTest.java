package dev.ferry.domain.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Outcome;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** An outage is waited out for a while, then taken for what waiting does not cure. */
class OutageTest {

    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - Duration.ofMinutes(1).toNanos()); // wraps meanwhile
    private final Outage outage = new Outage(Duration.ofMinutes(15), now::get);

    @Test
    void anOutage_isWaitedOutForItsPatience_thenSpendsAttempts_andACallThatWorksEndsIt() {
        assertThat(outage.holdingBack()).isEmpty();
        assertThat(outage.failed("broker unreachable", Duration.ofSeconds(1))).isEqualTo(Outcome.throttled(Duration.ofSeconds(1)));
        assertThat(outage.holdingBack()).contains("broker unreachable");
        now.addAndGet(Duration.ofMinutes(14).toNanos());
        assertThat(outage.failed("broker unreachable", Duration.ofSeconds(1))).isInstanceOf(Outcome.Throttled.class);
        now.addAndGet(Duration.ofMinutes(1).toNanos());
        assertThat(outage.failed("topic t not in metadata", Duration.ofSeconds(1))).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("topic t not in metadata").contains("15m"));
        assertThat(outage.holdingBack()).contains("topic t not in metadata");

        outage.worked();
        assertThat(outage.holdingBack()).isEmpty();
        assertThat(outage.failed("broker unreachable", Duration.ofSeconds(1))).as("a new outage, waited out again")
                .isInstanceOf(Outcome.Throttled.class);
    }

    @Test
    void noPatience_spendsAnAttemptAtOnce_andANegativeOneIsRefused() {
        for (long at : new long[] {0, 2, 3, -8}) { // whatever nanoTime says, even or odd
            now.set(at);
            var impatient = new Outage(Duration.ZERO, now::get);
            assertThat(impatient.failed("down", Duration.ofSeconds(1))).as("at %d", at).isInstanceOf(Outcome.Retry.class);
        }
        assertThatThrownBy(() -> new Outage(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}
