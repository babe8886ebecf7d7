package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The console's dead-letter samples carry a sender's huge id or key cut, as the logs do. */
class DeadLetterSamplesTest {

    @Test // a review: kept whole, a megabyte Kafka key went to every open console tab once a second
    void aHugeIdAndGroupKey_areKeptCut() {
        String huge = "k".repeat(1 << 20);
        var samples = DeadLetterSamples.shared();
        samples.forSource("orders").settled(new Delivery(huge, new byte[] {1}, Map.of(), 1, Instant.EPOCH, huge, null, "orders",
                null), Disposition.deadLetter("rejected: no"));

        var sample = ((List<?>) samples.json().getFirst().get("samples")).getFirst();
        var fields = (Map<?, ?>) sample;
        assertThat((String) fields.get("message_id")).hasSizeLessThan(1100).startsWith("kkk").endsWith("(1048576 chars)");
        assertThat((String) fields.get("group")).hasSizeLessThan(1100).startsWith("kkk");
    }
}
