package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A flood of refusals (a sender not allowed) wrote a line each; at most so many a window now, the rest counted. */
class LineBudgetTest {

    @Test
    void linesPastTheBudget_areCounted_andTheCountIsSaidWithTheNextWindowsFirstLine() throws Exception {
        List<Long> said = new ArrayList<>();
        var budget = new LineBudget(20, Duration.ofMillis(200), said::add);
        int taken = 0;
        for (int i = 0; i < 100; i++) {
            taken += budget.take() ? 1 : 0;
        }
        assertThat(taken).isEqualTo(20);
        assertThat(said).isEmpty();
        Thread.sleep(300); // the next window
        assertThat(budget.take()).isTrue();
        assertThat(said).containsExactly(80L);
    }
}
