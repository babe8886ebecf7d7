package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.test.MapSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SqsSourceConfigTest {

    private static List<String> problems(Duration maxWait) {
        var section = new MapSettings(Map.of("queue", "orders", "max-wait", maxWait.toMillis() + "ms"));
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
