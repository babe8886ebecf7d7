package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.mvstore.MvStoreLedger;
import dev.ferry.app.config.ConfigReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger section as the app opens it. */
class LedgerConfigTest {

    @TempDir
    Path dir;

    private MvStoreLedger open(String ledger) {
        var result = ConfigReaderTest.parse("ledger: " + ledger + "\n"
                + "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n");
        assertThat(result).isInstanceOf(ConfigReader.Result.Ok.class);
        return (MvStoreLedger) ((ConfigReader.Result.Ok) result).config().ledger().plan().open(null);
    }

    @Test // a completion that survives a power cut was the builder's alone: the file could not ask for it
    void anMvstoreLedger_isForcedToTheDisk_whenTheFileAsks() {
        try (var synced = open("{kind: mvstore, path: '" + dir.resolve("synced.db") + "', fsync: true}")) {
            assertThat(synced.fsync()).isTrue();
        }
        try (var plain = open("{kind: mvstore, path: '" + dir.resolve("plain.db") + "'}")) {
            assertThat(plain.fsync()).as("by default, as before").isFalse();
        }
    }
}
