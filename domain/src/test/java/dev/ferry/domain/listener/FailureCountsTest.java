package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FailureCountsTest {

    private static Delivery delivery(String id, String body, Instant sentAt) {
        return new Delivery(id, body.getBytes(StandardCharsets.UTF_8), Map.of(), 2, sentAt, "g", null, "q", null);
    }

    @Test
    void anOwedDeadLetter_isOwedByTheSameMessageOnly_notByAnotherGivenItsId() {
        // a plugin's source may give an id again (Kafka's topic-partition@offset in a topic made anew): matched by id
        // alone, that other message went to the dead-letter queue without ever running
        var counts = new FailureCounts(100);
        var sent = Instant.parse("2026-12-04T10:00:00.123Z");
        counts.oweDeadLetter(delivery("m-1", "poison", sent), "handler rejected it");

        assertThat(counts.deadLetterOwed(delivery("m-1", "poison", sent))).isEqualTo("handler rejected it");
        assertThat(counts.deadLetterOwed(delivery("m-1", "a new message", sent))).as("another body").isNull();
        // the time sent is not matched: a source that does not know it gives the time received, another at each receive
        assertThat(counts.deadLetterOwed(delivery("m-1", "poison", sent.plusSeconds(30)))).as("received again later")
                .isEqualTo("handler rejected it");
        assertThat(counts.deadLetterOwed(delivery("m-2", "poison", sent))).as("another id").isNull();
    }

    @Test // a review: a reason was kept whole, up to 8 Ki characters each, 100,000 of them — a gigabyte, held for good
    void anOwedDeadLettersReason_isKeptCutAsTheJournalCutsIt() {
        var counts = new FailureCounts(100);
        var d = delivery("m-1", "poison", Instant.EPOCH);
        counts.oweDeadLetter(d, "x".repeat(8_192));

        assertThat(counts.deadLetterOwed(d)).hasSize(2_001).startsWith("xxxx").endsWith("…");
    }

    @Test
    void anOwedDeadLetterForgotten_isOwedNoMore() {
        var counts = new FailureCounts(100);
        var d = delivery("m-1", "poison", Instant.EPOCH);
        counts.oweDeadLetter(d, "rejected");

        counts.forget("m-1");

        assertThat(counts.deadLetterOwed(d)).isNull();
    }
}
