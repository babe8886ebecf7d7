package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The owed dead-letter marks a failing journal could not take, written again in turn. */
class KeptMarksTest {

    private final KeptMarks<String> kept = new KeptMarks<>();
    private final List<String> written = new ArrayList<>();

    @Test // a last look: tried first each pass, a mark the journal always refuses held every mark behind it for ever
    void aMarkTheJournalAlwaysRefuses_doesNotHoldTheOnesBehindIt() {
        kept.keep("x", "x's mark");
        kept.keep("y", "y's mark");

        for (int pass = 0; pass < 4 && !written.contains("y's mark"); pass++) {
            kept.dueNow(); // as the stop makes them due: no waiting out the backoff here
            kept.retry(mark -> {
                if (mark.startsWith("x")) {
                    throw new IllegalArgumentException("item too large");
                }
                written.add(mark);
            });
        }

        assertThat(written).containsExactly("y's mark");
        assertThat(kept.isEmpty()).as("x's still kept").isFalse();
    }

    @Test
    void aNewerMarkOfTheSameMessage_replacesTheOlder_andAForgottenOneIsNotWritten() {
        kept.keep("x", "x's first");
        kept.keep("x", "x's second");
        kept.keep("y", "y's mark");
        kept.forget("y");

        kept.dueNow();
        kept.retry(written::add);

        assertThat(written).containsExactly("x's second");
        assertThat(kept.isEmpty()).isTrue();
    }
}
