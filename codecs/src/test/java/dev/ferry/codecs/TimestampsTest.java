package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TimestampsTest {

    @Test
    void fastPath_agreesWithInstantParse_onRandomTimes() {
        var rnd = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            var t = Instant.ofEpochSecond(rnd.nextLong(-2_000_000_000L, 8_000_000_000L), rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(1_000_000_000));
            var text = t.toString();
            assertThat(Timestamps.parseUtc(text)).as(text).isEqualTo(Instant.parse(text));
        }
    }

    @Test
    void otherShapes_areLeftToTheSlowPath() {
        assertThat(Timestamps.parseUtc("2005-01-31T23:59:59+01:00")).isNull();
        assertThat(Timestamps.parseUtc("2005-02-30T00:00:00Z")).as("no 30 February").isNull();
        assertThat(Timestamps.parseUtc("2005-01-31T24:00:00Z")).isNull();
        assertThat(Timestamps.parseUtc("2005-01-31 23:59:59Z")).isNull();
        assertThat(Timestamps.parseUtc("2005-01-31T23:59:59.Z")).isNull();
        assertThat(Timestamps.parseUtc("2024-02-29T12:00:00.5Z")).isEqualTo(Instant.parse("2024-02-29T12:00:00.5Z"));
    }
}
