package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The README's first command, ./ferry, finds a JDK >= 21 by itself, even where JAVA_HOME is unset and java is older. */
class LauncherIT {

    @Test
    void theLauncher_findsAJdk21_whenJavaHomeIsUnset_andReadsPathsFromWhereItIsRun(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        java.nio.file.Files.copy(Path.of("../examples/local.yaml"), dir.resolve("mine.yaml"));
        var validate = new ProcessBuilder("bash", Path.of("../ferry").toAbsolutePath().toString(), "validate", "-c", "mine.yaml")
                .directory(dir.toFile()).redirectErrorStream(true);
        validate.environment().remove("JAVA_HOME");
        validate.environment().put("FERRY_NO_BUILD", "1");
        var checked = validate.start();
        assertThat(checked.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String said = new String(checked.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(said).as("a relative path is the caller's, not the checkout's").contains("mine.yaml is valid");

        var builder = new ProcessBuilder("bash", "../ferry", "--version").redirectErrorStream(true);
        builder.environment().remove("JAVA_HOME");
        builder.environment().put("FERRY_NO_BUILD", "1"); // the jar was just packaged; no Maven inside a test
        var process = builder.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).contains("ferry 0.1.0").containsPattern("Java (2[1-9]|[3-9]\\d)");
        assertThat(Path.of("../ferry")).isExecutable();
    }

    @Test
    void theLauncher_keepsAClassDataArchivePerCommand_silently_andDropsOneOlderThanTheJar() throws Exception {
        var archive = Path.of("target/ferry-validate.jsa");
        java.nio.file.Files.deleteIfExists(archive);
        String first = validate();
        assertThat(archive).as("written by the first run as it exits").exists();
        String second = validate();
        assertThat(first + second).contains("is valid").doesNotContain("[cds").doesNotContain("warning]");

        // a jar newer than the archive: the launcher drops the archive, the JVM writes a new one
        java.nio.file.Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(0));
        assertThat(validate()).contains("is valid").doesNotContain("[cds");
        assertThat(java.nio.file.Files.getLastModifiedTime(archive).toMillis()).isGreaterThan(0);
    }

    @Test // a review: app/target not writable (another user's checkout): every command exited 1, the JVM's error on stdout
    void theLauncher_inACheckoutItCannotWrite_runsWithoutWritingAnArchive(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        var root = dir.resolve("checkout");
        var target = java.nio.file.Files.createDirectories(root.resolve("app/target"));
        java.nio.file.Files.createDirectories(root.resolve(".ci"));
        java.nio.file.Files.copy(Path.of("../ferry"), root.resolve("ferry"));
        java.nio.file.Files.copy(Path.of("../.ci/jdk.sh"), root.resolve(".ci/jdk.sh"));
        java.nio.file.Files.createSymbolicLink(target.resolve("ferry.jar"), Path.of("target/ferry.jar").toAbsolutePath());
        // another user: the directory's mode; root writes through modes, and the immutable flag is what stops it
        boolean locked = target.toFile().setWritable(false, false) && !java.nio.file.Files.isWritable(target);
        if (!locked) {
            var lock = new ProcessBuilder("chattr", "+i", target.toString()).redirectErrorStream(true).start();
            locked = lock.waitFor(10, TimeUnit.SECONDS) && lock.exitValue() == 0;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(locked, "neither a directory's mode nor chattr +i keeps it unwritten here");
        try {
            var builder = new ProcessBuilder("bash", root.resolve("ferry").toString(), "validate", "-c",
                    Path.of("../examples/local.yaml").toAbsolutePath().toString());
            builder.environment().put("FERRY_NO_BUILD", "1");
            var process = builder.start();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);

            assertThat(process.exitValue()).as(out + err).isZero();
            assertThat(out.strip()).as("the validate line alone on stdout").startsWith("ferry: ").endsWith("route(s)")
                    .doesNotContain("\n");
            assertThat(java.nio.file.Files.list(target).map(p -> p.getFileName().toString()).toList())
                    .containsExactly("ferry.jar");
        } finally {
            new ProcessBuilder("chattr", "-i", target.toString()).start().waitFor(10, TimeUnit.SECONDS);
            target.toFile().setWritable(true, false);
        }
    }

    private static String validate() throws Exception {
        var builder = new ProcessBuilder("bash", "../ferry", "validate", "-c", "../examples/local.yaml").redirectErrorStream(true);
        builder.environment().put("FERRY_NO_BUILD", "1");
        var process = builder.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }
}
