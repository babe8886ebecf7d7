package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file sink's lock as another process sees it. Within one JVM a second lock is refused by the JVM's own
 * table whatever the kernel holds, so only another process can tell whether the kernel's lock is still there.
 */
class FileSinkLockTest {

    @TempDir
    Path dir;

    /** A program run by another JVM: prints "locked" when it could take the file's lock, "refused" when not. */
    private static final String TRY_LOCK = """
            import java.nio.channels.FileChannel;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;
            public class TryLock {
                public static void main(String[] args) throws Exception {
                    try (var c = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
                        System.out.println(c.tryLock() != null ? "locked" : "refused");
                    }
                }
            }
            """;

    private String anotherProcessTriesTheLock(Path file) throws IOException, InterruptedException {
        var program = Files.writeString(dir.resolve("TryLock.java"), TRY_LOCK);
        String java = ProcessHandle.current().info().command().orElse("java");
        var process = new ProcessBuilder(java, program.toString(), file.toString()).redirectErrorStream(true).start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the other JVM finished").isTrue();
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void aFileWithLinesAlready_staysLockedAgainstAnotherProcess_onceTheSinkOpenedIt() throws Exception {
        // opening it looked at the last byte through a second descriptor and closed it: the kernel dropped the POSIX lock
        // with it, and every restart (the file is never empty after the first run) wrote unlocked beside a second instance
        var file = Files.writeString(dir.resolve("out.jsonl"), "{\"key\":\"from-an-earlier-run\"}\n");
        var sink = FileSink.open("out", file, true);
        try {
            assertThat(anotherProcessTriesTheLock(file)).isEqualTo("refused");
            assertThat(sink.publish(new Event("e1", "T", null, null, "{}".getBytes(StandardCharsets.UTF_8), Map.of())))
                    .isEqualTo(Outcome.done());
            assertThat(anotherProcessTriesTheLock(file)).as("still, after a write").isEqualTo("refused");
        } finally {
            sink.close();
        }
        assertThat(anotherProcessTriesTheLock(file)).as("free once the sink is closed").isEqualTo("locked");
        assertThat(Files.readAllLines(file)).hasSize(2).last().asString().contains("\"key\":\"e1\"");
    }

    @Test
    void aLastLineWithoutItsNewline_isEnded_throughTheLockedChannel() throws Exception {
        var file = Files.writeString(dir.resolve("cut.jsonl"), "{\"key\":\"whole\"}\n{\"key\":\"cut sh");
        var sink = FileSink.open("out", file, true);
        try {
            assertThat(anotherProcessTriesTheLock(file)).isEqualTo("refused");
            assertThat(sink.publish(new Event("e2", "T", null, null, "{}".getBytes(StandardCharsets.UTF_8), Map.of())))
                    .isEqualTo(Outcome.done());
        } finally {
            sink.close();
        }
        assertThat(Files.readAllLines(file)).hasSize(3).last().asString().contains("\"key\":\"e2\"");
    }
}
