package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The release's read of a dead-letter topic gives up on a read that stalls, not on one that is long. */
class ReadDeadlineTest {

    @Test
    void aLongReadThatKeepsGettingRecords_neverPasses_aStalledOnePassesAfterTheLimit() {
        var now = new AtomicLong(Long.MAX_VALUE - Duration.ofMinutes(10).toNanos()); // nanoTime may wrap meanwhile
        var deadline = new ReadDeadline(Duration.ofMinutes(2), now::get);
        for (int minute = 0; minute < 20; minute++) { // twenty minutes of records: a release of a big topic
            now.addAndGet(Duration.ofMinutes(1).toNanos());
            assertThat(deadline.passed()).as("minute %d", minute + 1).isFalse();
            deadline.progressed();
        }
        now.addAndGet(Duration.ofMinutes(2).toNanos());
        assertThat(deadline.passed()).as("exactly the limit without a record").isFalse();
        now.addAndGet(1);
        assertThat(deadline.passed()).as("past it").isTrue();
    }
}
