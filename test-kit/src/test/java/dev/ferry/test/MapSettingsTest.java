package dev.ferry.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MapSettingsTest {

    @Test
    void wellFormedValues_areReadAsTheAppReadsThem() {
        var s = new MapSettings(Map.of("n", "7", "on", "true", "wait", "1500ms", "at", "127.0.0.1:8080",
                "tags.0", "a", "tags.1", "b", "headers.X-A", "1", "mode", "fast"));

        assertThat(s.integer("n", 1, 0, 10)).isEqualTo(7);
        assertThat(s.flag("on", false)).isTrue();
        assertThat(s.duration("wait", Duration.ZERO)).isEqualTo(Duration.ofMillis(1500));
        assertThat(s.hostPort("at", null)).isEqualTo(InetSocketAddress.createUnresolved("127.0.0.1", 8080));
        assertThat(s.strings("tags")).containsExactly("a", "b");
        assertThat(s.map("headers")).containsExactly(Map.entry("X-A", "1"));
        assertThat(s.oneOf("mode", null, Set.of("fast", "slow"))).isEqualTo("fast");
        assertThat(s.problems()).isEmpty();
    }

    @Test
    void malformedValues_areProblems_andTheReadGivesTheFallback() {
        var s = new MapSettings(Map.of("n", "70", "m", "x", "on", "maybe", "wait", "1.5s", "at", "host:99999",
                "mode", "quick"));

        assertThat(s.integer("n", 1, 0, 10)).isEqualTo(1);
        assertThat(s.integer("m", 2, 0, 10)).isEqualTo(2);
        assertThat(s.flag("on", false)).isFalse();
        assertThat(s.duration("wait", Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
        assertThat(s.hostPort("at", "127.0.0.1:1")).isEqualTo(InetSocketAddress.createUnresolved("127.0.0.1", 1));
        s.oneOf("mode", null, Set.of("fast"));
        assertThat(s.required("absent")).isNull();

        assertThat(s.problems()).extracting(p -> p.substring(0, p.indexOf(':')))
                .containsExactly("n", "m", "on", "wait", "at", "mode", "absent");
    }

    @Test // a review: values the app takes were problems here, and some it refuses were not; two threw
    void valuesAreReadAsTheAppReadsThem_includingWhatItRefuses() {
        var s = new MapSettings(Map.of("a", "1m30s", "b", "PT2M", "c", " 7 ", "d", "yes", "e", "off",
                "huge", "99999999999999999999s", "days", "999999999999999d", "century", "36501d", "blank", "  "));

        assertThat(s.duration("a", Duration.ZERO)).isEqualTo(Duration.ofSeconds(90));
        assertThat(s.duration("b", Duration.ZERO)).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.integer("c", 0, 0, 10)).isEqualTo(7);
        assertThat(s.flag("d", false)).isTrue();
        assertThat(s.flag("e", true)).isFalse();
        assertThat(s.problems()).isEmpty();

        assertThat(s.duration("huge", Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.duration("days", Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.duration("century", Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.required("blank")).isNull();
        assertThat(s.problems()).extracting(p -> p.substring(0, p.indexOf(':')))
                .containsExactly("huge", "days", "century", "blank");
    }

    @Test
    void sectionsCanShareOneListOfProblems() {
        var problems = new java.util.ArrayList<String>();
        new MapSettings(Map.of(), problems).required("url");
        new MapSettings(Map.of(), problems).required("queue");

        assertThat(problems).isEqualTo(List.of("url: required", "queue: required"));
    }
}
