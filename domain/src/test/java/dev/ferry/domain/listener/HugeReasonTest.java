package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A handler that rejects with its payload, or with every violation a validator found: reasons of
 * megabytes were carried whole — in memory while a refused copy waited (up to 100,000 of them), in an
 * HTTP ingest answer once per event of a batch, in every dead letter.
 */
class HugeReasonTest {

    @Test
    void aRejectionOfAMegabyte_isDeadLetteredWithItsReasonCut_sayingHowMuch() {
        var queue = InMemoryQueue.builder("orders").deadLetterQueue(InMemoryQueue.builder("orders-dlq").build()).build();
        String huge = "invalid: " + "x".repeat(1 << 20);
        var listener = Listener.builder(queue, new LineDecoder(), (e, d) -> Outcome.reject(huge))
                .config(ListenerTest.fast().build()).build().start();
        try {
            queue.send("order-1");
            assertThat(Await.until(Duration.ofSeconds(10), () -> queue.deadLetterQueue().size() == 1))
                    .as(listener.stats().line()).isTrue();
            String reason = queue.deadLetterQueue().messages().getFirst().attributes().get(DeadLetterAttributes.REASON);
            assertThat(reason).startsWith("invalid: xxx").endsWith(" more characters)");
            assertThat(reason.length()).isLessThanOrEqualTo(Disposition.DeadLetter.MAX_REASON);
        } finally {
            listener.stop();
        }
    }

    @Test
    void aReasonCutAtACharacterOutsideTheBasicPlane_keepsNoHalfOfIt() {
        int end = Disposition.DeadLetter.MAX_REASON - 64;
        String reason = "a".repeat(end - 1) + "😀" + "b".repeat(10_000); // the pair straddles the cut
        var cut = ((Disposition.DeadLetter) Disposition.deadLetter(reason)).reason();
        assertThat(cut).startsWith("a".repeat(end - 1) + "…").contains("(10002 more characters)");
        assertThat(cut.codePoints().noneMatch(c -> Character.isSurrogate((char) c) && c <= 0xFFFF)).isTrue();
        var kept = "short reason";
        assertThat(((Disposition.DeadLetter) Disposition.deadLetter(kept)).reason()).isSameAs(kept);
    }
}
