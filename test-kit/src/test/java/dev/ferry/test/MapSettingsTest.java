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
        var s = new MapSettings(Map.of("n", "70", "m", "x", "on", "yes", "wait", "1.5s", "at", "host:99999",
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

    @Test
    void sectionsCanShareOneListOfProblems() {
        var problems = new java.util.ArrayList<String>();
        new MapSettings(Map.of(), problems).required("url");
        new MapSettings(Map.of(), problems).required("queue");

        assertThat(problems).isEqualTo(List.of("url: required", "queue: required"));
    }
}
