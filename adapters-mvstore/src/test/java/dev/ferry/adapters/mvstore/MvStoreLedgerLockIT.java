package dev.ferry.adapters.mvstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.idempotency.Claim;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger file's lock as another process sees it: two instances on one ledger file would each take the other's
 * claims for their own. On Linux the lock is a POSIX lock, dropped when any descriptor of the file in the process
 * closes; within one JVM the JVM's own table refuses a second lock whatever the kernel holds, so only another
 * process can tell.
 */
class MvStoreLedgerLockIT {

    @TempDir
    Path dir;

    private static final String TRY_LOCK = """
            import java.nio.channels.FileChannel;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;
            public class TryLock {
                public static void main(String[] args) throws Exception {
                    try (var c = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                        System.out.println(c.tryLock() != null ? "locked" : "refused");
                    }
                }
            }
            """;

    private String anotherProcessTriesTheLock(Path file) throws Exception {
        var program = Files.writeString(dir.resolve("TryLock.java"), TRY_LOCK);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var process = new ProcessBuilder(java, program.toString(), file.toString()).redirectErrorStream(true).start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the other JVM finished").isTrue();
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void aLedgerOpenedAgainOnItsFile_keepsTheFileLockedAgainstAnotherProcess_throughWritesAndSweeps() throws Exception {
        var file = dir.resolve("ledger.db");
        try (var first = MvStoreLedger.open(file)) {
            var claim = (Claim.Acquired) first.claim("e1", Duration.ofSeconds(30));
            assertThat(first.complete("e1", claim.token(), Duration.ofDays(1))).isTrue();
        }
        try (var again = MvStoreLedger.open(file)) {
            assertThat(anotherProcessTriesTheLock(file)).as("opened on a file with entries").isEqualTo("refused");
            var claim = (Claim.Acquired) again.claim("e2", Duration.ofSeconds(30));
            assertThat(again.complete("e2", claim.token(), Duration.ofDays(1))).isTrue();
            again.sweep();
            assertThat(again.claim("e1", Duration.ofSeconds(30))).isInstanceOf(Claim.Completed.class);
            assertThat(anotherProcessTriesTheLock(file)).as("after commits and a sweep").isEqualTo("refused");
        }
        assertThat(anotherProcessTriesTheLock(file)).as("free once closed").isEqualTo("locked");
    }

    @Test // a review: a second opening in the same process was refused, but H2's closing of its descriptor dropped the lock
    void aSecondOpeningInTheSameProcess_isRefused_andTheFirstKeepsTheFileLocked() throws Exception {
        var file = dir.resolve("twice.db");
        try (var first = MvStoreLedger.open(file)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MvStoreLedger.open(file))
                    .isInstanceOf(dev.ferry.domain.model.FerryException.class).hasMessageContaining(file.toString());
            Files.createDirectories(dir.resolve("sub"));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MvStoreLedger.open(dir.resolve("sub/../twice.db")))
                    .as("the same file by another name").isInstanceOf(dev.ferry.domain.model.FerryException.class);
            var alias = Files.createSymbolicLink(dir.resolve("alias"), dir);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MvStoreLedger.open(alias.resolve("twice.db")))
                    .as("through a link to its directory").isInstanceOf(dev.ferry.domain.model.FerryException.class)
                    .hasMessageContaining("has it open already");
            // the thirty-second round: a link to the file itself named it otherwise, and H2's failed lock dropped the first's
            var symbolic = Files.createSymbolicLink(dir.resolve("link.db"), file);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MvStoreLedger.open(symbolic))
                    .as("through a link to the file").isInstanceOf(dev.ferry.domain.model.FerryException.class)
                    .hasMessageContaining("has it open already");
            var hard = Files.createLink(dir.resolve("hard.db"), file);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MvStoreLedger.open(hard))
                    .as("under a second name of its own").isInstanceOf(dev.ferry.domain.model.FerryException.class)
                    .hasMessageContaining("has it open already");
            assertThat(anotherProcessTriesTheLock(file)).as("still the first's").isEqualTo("refused");
            assertThat(first.claim("e1", Duration.ofSeconds(30))).isInstanceOf(Claim.Acquired.class);
        }
        try (var again = MvStoreLedger.open(file)) { // closed, it may be opened again
            assertThat(again.claim("e2", Duration.ofSeconds(30))).isInstanceOf(Claim.Acquired.class);
            assertThat(again.claim("e1", Duration.ofSeconds(30))).as("the first's claim, kept").isInstanceOf(Claim.InProgress.class);
        }
    }
}
