package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The HTTP sink's outages, each timed at its receiver, at most so many receivers at once. */
class ReceiverOutagesTest {

    private static final Duration PATIENCE = Duration.ofSeconds(10);
    private static final Duration WAIT = Duration.ofSeconds(5);

    @Test // a review of the fix: with the oldest receiver dropped to make room, more receivers failing than the bound (a
          // url of {group}, a dead endpoint) each found a new outage every time: every event waited out for ever, its
          // group held and never dead-lettered
    void moreReceiversFailingThanTheBound_stillSpendTheirEventsAttempts_afterThePatience() {
        var now = new AtomicLong();
        var outages = new ReceiverOutages(PATIENCE, 2, now::get);
        var receivers = List.of("https://h.example/g/a", "https://h.example/g/b", "https://h.example/g/c");
        for (int round = 0; round < 4; round++) { // each receiver's event fails every 5 s, one after another
            for (String receiver : receivers) {
                var outcome = outages.failed(receiver, receiver + " k", "HTTP 502", WAIT);
                if (round < 2) {
                    assertThat(outcome).as("%s at %ds: within the patience", receiver, round * 5)
                            .isEqualTo(Outcome.throttled(WAIT));
                } else {
                    assertThat(outcome).as("%s at %ds: past the patience", receiver, round * 5)
                            .isInstanceOf(Outcome.Retry.class);
                }
            }
            now.addAndGet(WAIT.toNanos());
        }
        assertThat(outages.receivers()).as("the bound").isEqualTo(2);

        now.addAndGet(Duration.ofMinutes(2).toNanos()); // no event can wait on any of them now
        assertThat(outages.failed("https://h.example/g/d", "d k", "HTTP 502", WAIT)).as("a receiver of its own")
                .isEqualTo(Outcome.throttled(WAIT));
        assertThat(outages.receivers()).as("those over given up for it").isEqualTo(1);
    }

    @Test // each receiver's run of failures is its own, ended by its own successes
    void aReceiversRunOfFailures_isNotAnothers() {
        var now = new AtomicLong();
        var outages = new ReceiverOutages(PATIENCE, ReceiverOutages.MAX_RECEIVERS, now::get);
        outages.failed("https://h.example/p/a", "a 1", "HTTP 502", WAIT);
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertThat(outages.failed("https://h.example/p/a", "a 2", "HTTP 502", WAIT))
                .as("a new event at a receiver down past the patience").isInstanceOf(Outcome.Retry.class);
        assertThat(outages.failed("https://h.example/p/b", "b 1", "HTTP 502", WAIT))
                .as("b's first failure").isEqualTo(Outcome.throttled(WAIT));
        assertThat(outages.holdingBack()).hasValue("HTTP 502");
        outages.worked("https://h.example/p/b", "b 1");
        assertThat(outages.failed("https://h.example/p/a", "a 3", "HTTP 502", WAIT))
                .as("b's success does not end a's run").isInstanceOf(Outcome.Retry.class);
    }
}
