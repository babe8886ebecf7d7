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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** #8: completed keys survive a kill -9 of the JVM that completed them. */
class MvStoreLedgerRestartIT {

    @Test
    void completedKeys_surviveKillMinus9_ofTheChildJvm(@TempDir Path dir) throws Exception {
        var file = dir.resolve("ledger.db");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var child = new ProcessBuilder(java, "-cp", classpath, LedgerChild.class.getName(), file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        var completed = new ArrayList<String>();
        long maxToken = 0;
        try (var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while (completed.size() < 2_000 && System.nanoTime() < end && (line = out.readLine()) != null) {
                var parts = line.split(" ");
                completed.add(parts[1]);
                maxToken = Math.max(maxToken, Long.parseLong(parts[2]));
            }
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no close, mid-write
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
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
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var child = new ProcessBuilder(java, "-cp", classpath, LedgerChild.class.getName(), file.toString(), "persist")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        var persisted = new ArrayList<String>();
        try (var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while (persisted.size() < 50 && System.nanoTime() < end && (line = out.readLine()) != null) {
                persisted.add(line.split(" ")[1]);
            }
            child.destroyForcibly(); // SIGKILL, as a decoding that crashes the process natively
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(persisted).as("the child made claims outlive it before it was killed").hasSize(50);

        try (var ledger = MvStoreLedger.open(file)) {
            for (String key : persisted) {
                assertThat(ledger.peek(key)).as(key).get().isInstanceOf(Claim.InProgress.class);
            }
        }
    }
}
