package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentMeanTest {

    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - TimeUnit.MINUTES.toNanos(5)); // wraps meanwhile
    private final RecentMean mean = new RecentMean(now::get);

    private void seconds(long s) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(s));
    }

    @Test // a review: the console's event age was the timer's mean since the start — an hour's backlog drained, it showed
          // ~36 s for hours, growing with the backlog's size
    void aBacklogDrainedMoreThanAMinuteAgo_noLongerWeighsOnTheMean() {
        long count = 100;
        double total = 100 * 3600.0; // a hundred events an hour old
        assertThat(mean.of(count, total)).as("nothing recorded since the first look").isNull();
        for (int i = 0; i < 20; i++) { // then 500 a second, each a second old, for a hundred seconds
            seconds(5);
            count += 2500;
            total += 2500 * 1.0;
            mean.of(count, total);
        }
        assertThat(mean.of(count, total)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.01));
        seconds(120);
        assertThat(mean.of(count, total)).as("nothing recorded in the last minute").isNull();
    }

    @Test
    void lookedAtOftenerThanItMarks_itStillComparesWithTheOldestMarkOfTheMinute() {
        assertThat(mean.of(0, 0)).isNull();
        seconds(1);
        assertThat(mean.of(10, 20)).isEqualTo(2.0);
        seconds(1);
        assertThat(mean.of(20, 60)).isEqualTo(3.0);
    }
}
