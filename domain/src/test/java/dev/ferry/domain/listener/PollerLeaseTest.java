package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PollerLeaseTest {

    private static final Instant SENT = Instant.parse("2026-11-30T12:00:00Z");

    @Test
    void aQuickAnswer_leasesFromThePoll() {
        assertThat(Poller.leaseStart(SENT, SENT.plusMillis(200))).isEqualTo(SENT);
    }

    @Test
    void aLongPollAnsweredLate_leasesFromShortlyBeforeTheAnswer_notFromThePoll() {
        // a long poll's message may have been handed out 19 s after the poll was sent
        assertThat(Poller.leaseStart(SENT, SENT.plusSeconds(19))).isEqualTo(SENT.plusSeconds(19).minus(Poller.ANSWER_TRAVEL));
        assertThat(Poller.ANSWER_TRAVEL).isEqualTo(Duration.ofSeconds(1));
    }
}
