package dev.ferry.domain.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The ledger's keys: no two events' keys become one, whatever their characters or length. */
class LedgerKeysTest {

    @Test
    void keysThatDifferOnlyInHalfASurrogatePair_stayTwoKeys_shortOrLong() {
        for (String body : new String[] {"x", "x".repeat(400)}) {
            String lone = LedgerKeys.event("s", body + "\uD800");
            String question = LedgerKeys.event("s", body + "?");
            String otherLone = LedgerKeys.event("s", body + "\uDC00");
            assertThat(lone).as(body.length() + " chars").isNotEqualTo(question).isNotEqualTo(otherLone);
            assertThat(LedgerKeys.target("s", body + "\uD800", "sink")).isNotEqualTo(LedgerKeys.target("s", body + "?", "sink"));
            // what a store writes as UTF-8 is the key itself: nothing is lost in the encoding
            assertThat(new String(lone.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(lone);
        }
    }

    @Test
    void wellFormedKeys_areWhatTheyWere_pairsIncluded_andLongOnesHashedAsBefore() {
        assertThat(LedgerKeys.event("orders", "1001")).isEqualTo("e:6:orders:1001");
        assertThat(LedgerKeys.event("s", "emoji \uD83D\uDE00")).isEqualTo("e:1:s:emoji \uD83D\uDE00");
        assertThat(LedgerKeys.event("s", "x".repeat(2000))).startsWith("h:").hasSize(66);
        assertThat(LedgerKeys.event("s", "x".repeat(2000))).isEqualTo(LedgerKeys.event("s", "x".repeat(2000)));
    }
}
