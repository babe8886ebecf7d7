package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigReader;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code ledger: {kind: memory}}: its bound is the file's to set (it was a million keys, whatever the heap). */
class MemoryLedgerConfigTest {

    @Test
    void maxEntries_boundsTheKeysHeld_andWhatItForgetsIsCounted() throws Exception {
        var result = ConfigReaderTest.parse("""
                sources: {s: {sqs: {queue: q}}}
                ledger: {kind: memory, max-entries: 2}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """);
        assertThat(result).as(result.toString()).isInstanceOf(ConfigReader.Result.Ok.class);
        var ledger = ((ConfigReader.Result.Ok) result).config().ledger().plan().open(null);
        assertThat(ledger).isInstanceOf(InMemoryLedger.class);
        for (var key : new String[] {"a", "b", "c"}) {
            var claim = (Claim.Acquired) ledger.claim(key, Duration.ofSeconds(30));
            ledger.complete(key, claim.token(), Duration.ofDays(7));
        }
        assertThat(((InMemoryLedger) ledger).forgottenWithinTtl()).as("the third completion made the first go").isEqualTo(1);
        assertThat(ledger.claim("c", Duration.ofSeconds(30))).isInstanceOf(Claim.Completed.class);
    }
}
