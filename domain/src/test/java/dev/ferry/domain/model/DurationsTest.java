package dev.ferry.domain.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void durations_readAsTheConfigurationWritesThem() {
        assertThat(Durations.text(Duration.ofSeconds(30))).isEqualTo("30s");
        assertThat(Durations.text(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(Durations.text(Duration.ofDays(14))).isEqualTo("14d");
        assertThat(Durations.text(Duration.ofHours(2).plusMinutes(5))).isEqualTo("2h5m");
        assertThat(Durations.text(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(Durations.text(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Durations.text(Duration.ofNanos(1500))).isEqualTo("1500ns");
        assertThat(Durations.text(Duration.ofNanos(2000))).isEqualTo("2us");
        assertThat(Durations.text(Duration.ZERO)).isEqualTo("0s");
        assertThat(Durations.text(Duration.ofSeconds(-5))).isEqualTo("-5s");
        assertThat(Durations.text(Duration.ofMinutes(61).plusMillis(1))).isEqualTo("1h1m");
    }

    @Test // a review: "1s" many thousand times over overflowed the regex engine's stack, an Error out of a config's reading
    void aHugeDuration_isNone_notAStackOverflow() {
        assertThat(Durations.parse("1s".repeat(200_000))).isNull();
        assertThat(Durations.parse("1d2h3m4s5ms")).isEqualTo(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4)
                .plusMillis(5));
    }
}
