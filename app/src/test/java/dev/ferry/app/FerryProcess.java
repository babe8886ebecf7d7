package dev.ferry.app;

import dev.ferry.domain.testing.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged app ({@code target/ferry.jar}) as a separate process, the way users start it:
 * {@code java -jar ferry.jar ARGS}. Its output (stdout and stderr together) is collected line by
 * line; {@link #close()} stops it with SIGTERM, then kills it if it has not exited in 30 s.
 */
public final class FerryProcess implements AutoCloseable {

    /** The packaged app: {@code -Dferry.jar=PATH}, else {@code target/ferry.jar}, else {@code ../app/target/ferry.jar}. */
    public static final Path JAR = System.getProperty("ferry.jar") != null ? Path.of(System.getProperty("ferry.jar"))
            : Files.isRegularFile(Path.of("target/ferry.jar")) ? Path.of("target/ferry.jar") : Path.of("../app/target/ferry.jar");

    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private FerryProcess(Process process) {
        this.process = process;
        this.reader = Thread.ofPlatform().daemon().name("ferry-process-output").start(this::read);
    }

    /** {@code java -jar ferry.jar args...} with {@code env} added to this process's environment. */
    public static FerryProcess start(Map<String, String> env, String... args) throws IOException {
        return start(JAR, env, args);
    }

    /** {@code java -jar JAR args...}: another build of the app, such as ferry-slim.jar. */
    public static FerryProcess start(Path jar, Map<String, String> env, String... args) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: build it first (./mvnw package -pl app -am)");
        }
        var command = new ArrayList<String>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        builder.environment().put("FERRY_PLUGINS", env.getOrDefault("FERRY_PLUGINS", "target/no-plugins"));
        return new FerryProcess(builder.start());
    }

    /** Runs a command to its end (at most 60 s); returns its exit code. */
    public static Finished run(Map<String, String> env, String... args) throws Exception {
        return run(JAR, env, args);
    }

    /** Runs a command of another build of the app (such as ferry-slim.jar) to its end (at most 60 s). */
    public static Finished run(Path jar, Map<String, String> env, String... args) throws Exception {
        try (var p = start(jar, env, args)) {
            if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("ferry " + String.join(" ", args) + " did not end in 60 s:\n" + p.output());
            }
            p.reader.join(5_000);
            return new Finished(p.process.exitValue(), p.output());
        }
    }

    public record Finished(int exitCode, String output) {
    }

    private void read() {
        try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                synchronized (lines) {
                    lines.add(line);
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    public String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    /** Waits up to {@code timeout} for a line containing {@code text}; fails with the output so far. */
    public FerryProcess awaitLine(String text, Duration timeout) {
        boolean seen = Await.until(timeout, () -> {
            if (!process.isAlive() && !reader.isAlive()) {
                return true;
            }
            synchronized (lines) {
                return lines.stream().anyMatch(l -> l.contains(text));
            }
        });
        synchronized (lines) {
            if (!seen || lines.stream().noneMatch(l -> l.contains(text))) {
                throw new AssertionError("no line with '" + text + "' within " + timeout + (process.isAlive() ? ""
                        : " (the process exited with " + process.exitValue() + ")") + "; output:\n" + output());
            }
        }
        return this;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGTERM, then waits up to {@code timeout} for the exit; returns the exit code, or -1 if still running. */
    public int terminate(Duration timeout) throws InterruptedException {
        // the handle's destroy only signals; Process.destroy would also close our end of its output
        process.toHandle().destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return -1;
        }
        reader.join(5_000);
        return process.exitValue();
    }

    /** Sends a signal (STOP, CONT, ...) with {@code kill}. */
    public void signal(String name) throws IOException, InterruptedException {
        var kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** SIGKILL: no clean stop. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive() && terminate(Duration.ofSeconds(30)) == -1) {
            kill();
        }
    }
}
