package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.spi.Settings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SqsSourceConfigTest {

    /** A section as the app's reader hands it over: values by key, durations already read, problems collected. */
    private record Section(Map<String, String> values, Map<String, Duration> durations, List<String> problems)
            implements Settings {

        @Override
        public String name() {
            return "test";
        }

        @Override
        public String string(String key, String fallback) {
            return values.getOrDefault(key, fallback);
        }

        @Override
        public String required(String key) {
            String v = values.get(key);
            if (v == null || v.isEmpty()) {
                problem(key, "required");
            }
            return v;
        }

        @Override
        public String oneOf(String key, String fallback, Set<String> allowed) {
            return values.getOrDefault(key, fallback);
        }

        @Override
        public int integer(String key, int fallback, int min, int max) {
            return fallback;
        }

        @Override
        public boolean flag(String key, boolean fallback) {
            return fallback;
        }

        @Override
        public Duration duration(String key, Duration fallback) {
            return durations.getOrDefault(key, fallback);
        }

        @Override
        public InetSocketAddress hostPort(String key, String fallback) {
            throw new UnsupportedOperationException(key);
        }

        @Override
        public List<String> strings(String key) {
            return List.of();
        }

        @Override
        public Map<String, String> map(String key) {
            return Map.of();
        }

        @Override
        public void problem(String key, String message) {
            problems.add(key + ": " + message);
        }
    }

    private static List<String> problems(Duration maxWait) {
        var section = new Section(Map.of("queue", "orders"), Map.of("max-wait", maxWait), new ArrayList<>());
        SqsSourceConfig.read(section);
        return section.problems();
    }

    @Test
    void maxWait_ofAFractionOfASecond_isAProblem_notAFailureAtStart() {
        // passed the check, then the source's builder refused it when the run started
        assertThat(problems(Duration.ofMillis(1500))).singleElement().asString()
                .startsWith("max-wait:").contains("whole seconds");
        assertThat(problems(Duration.ofMillis(20_500))).singleElement().asString().contains("whole seconds");
        assertThat(problems(Duration.ofSeconds(21))).singleElement().asString().contains("at most 20s");
        assertThat(problems(Duration.ofSeconds(5))).isEmpty();
        assertThat(problems(Duration.ZERO)).isEmpty();
    }
}
