package dev.ferry.adapters.mvstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.idempotency.Claim;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** #8: completed keys survive a kill -9 of the JVM that completed them. */
class MvStoreLedgerRestartIT {

    @Test
    void completedKeys_surviveKillMinus9_ofTheChildJvm(@TempDir Path dir) throws Exception {
        var file = dir.resolve("ledger.db");
        var lines = linesUntilKilled(file, 2_000);
        var completed = new ArrayList<String>();
        long maxToken = 0;
        for (var parts : lines) {
            completed.add(parts[1]);
            maxToken = Math.max(maxToken, Long.parseLong(parts[2]));
        }
        assertThat(completed).as("the child completed keys before it was killed").hasSizeGreaterThanOrEqualTo(2_000);

        try (var ledger = MvStoreLedger.open(file)) {
            for (String key : completed) {
                assertThat(ledger.claim(key, Duration.ofSeconds(30))).as(key).isInstanceOf(Claim.Completed.class);
            }
            var fresh = (Claim.Acquired) ledger.claim("after-restart", Duration.ofSeconds(30));
            assertThat(fresh.token()).as("tokens keep growing across the crash").isGreaterThan(maxToken);
        }
        assertThat(new File(file.toString())).exists();
    }

    @Test // the receive limit's mark of a decoding that may kill the process: a claim was written with the next commit, a
          // second later, and a crash in the decoding lost it — the message was decoded again at every receive
    void claimsPersisted_surviveKillMinus9_ofTheChildJvm(@TempDir Path dir) throws Exception {
        var file = dir.resolve("ledger.db");
        var persisted = new ArrayList<String>();
        for (var parts : linesUntilKilled(file, 50, "persist")) {
            persisted.add(parts[1]);
        }
        assertThat(persisted).as("the child made claims outlive it before it was killed").hasSize(50);

        try (var ledger = MvStoreLedger.open(file)) {
            for (String key : persisted) {
                assertThat(ledger.peek(key)).as(key).get().isInstanceOf(Claim.InProgress.class);
            }
        }
    }

    /**
     * Runs {@link LedgerChild} on {@code file}, takes the first {@code enough} lines it prints (split at spaces), then
     * kills it with SIGKILL — no shutdown hook, no close, mid-write, as a decoding that crashes the process natively. A
     * child that hangs is killed after a minute, which ends the read.
     */
    private static List<String[]> linesUntilKilled(Path file, int enough, String... mode) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var command = new ArrayList<>(List.of(java, "-cp", classpath, LedgerChild.class.getName(), file.toString()));
        command.addAll(List.of(mode));
        var child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture.delayedExecutor(60, TimeUnit.SECONDS).execute(child::destroyForcibly);
        var lines = new ArrayList<String[]>();
        try (var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (lines.size() < enough && (line = out.readLine()) != null) {
                lines.add(line.split(" "));
            }
            child.destroyForcibly();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        return lines;
    }
}
