package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.spi.FerryPlugin;
import dev.ferry.domain.testing.Await;
import dev.ferry.testplugin.ShoutingFilePlugin;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** #5: a jar dropped into the plugin folder adds a sink type to the packaged app, config checks included. */
class PluginIT {

    /** A jar of the plugin's class and its {@code META-INF/services} entry, as its author would build it. */
    static Path pluginJar(Path folder) throws IOException {
        Files.createDirectories(folder);
        var jar = folder.resolve("shouting-file-plugin.jar");
        String classFile = ShoutingFilePlugin.class.getName().replace('.', '/');
        try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
            var classes = Path.of("target/test-classes");
            try (var files = Files.walk(classes.resolve(classFile).getParent())) {
                for (var f : files.filter(p -> p.getFileName().toString().startsWith("ShoutingFilePlugin")).toList()) {
                    out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                    out.write(Files.readAllBytes(f));
                    out.closeEntry();
                }
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + FerryPlugin.class.getName()));
            out.write((ShoutingFilePlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return jar;
    }

    @Test
    void aDroppedInJar_addsItsSinkType_toValidateAndRun(@TempDir Path dir) throws Exception {
        var plugins = dir.resolve("plugins");
        pluginJar(plugins);
        var output = dir.resolve("shouted.txt");
        var config = dir.resolve("plugin.yaml");
        Files.writeString(config, """
                aws: {endpoint: "${AWS_ENDPOINT_URL}"}
                ledger: {kind: memory}
                sources:
                  in: {sqs: {queue: shouts}, format: raw}
                sinks:
                  loud: {type: shouting-file, path: "%s"}
                routes:
                  - to: [loud]
                """.formatted(output.toString().replace("\\", "/")));
        try (var sqs = new LocalSqs()) {
            var env = new HashMap<>(sqs.env());
            var without = FerryProcess.run(env, "validate", "--config", config.toString());
            assertThat(without.exitCode()).isEqualTo(2);
            assertThat(without.output()).contains(config + ":6: sinks.loud.type: 'shouting-file' is not one of "
                    + "[file, http, kafka, log, sqs] (no plugin was loaded from target/no-plugins: not a folder; "
                    + "plugin jars are read from FERRY_PLUGINS, else plugins/ beside ferry.jar)"); // a mistyped folder is told

            env.put("FERRY_PLUGINS", plugins.toString());
            var valid = FerryProcess.run(env, "validate", "--config", config.toString());
            assertThat(valid.exitCode()).as(valid.output()).isZero();
            var missingPath = FerryProcess.run(env, "validate", "--config", writeBroken(dir));
            assertThat(missingPath.output()).contains("sinks.loud.path: missing")
                    .contains("sinks.loud: the sink type 'shouting-file' adapter could not read its settings: "
                            + "java.lang.NullPointerException");
            assertThat(missingPath.exitCode()).isEqualTo(2);

            assertThat(FerryProcess.run(env, "queues", "create", "--config", config.toString()).exitCode()).isZero();
            try (var ferry = FerryProcess.start(env, "run", "--config", config.toString())) {
                ferry.awaitLine("listening on 'in'", Duration.ofSeconds(60));
                sqs.send("shouts", "ahoy there");
                assertThat(Await.until(Duration.ofSeconds(20), () -> read(output).equals("AHOY THERE\n"))).as(read(output))
                        .isTrue();
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
            }
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String writeBroken(Path dir) throws IOException {
        var broken = dir.resolve("broken.yaml");
        Files.writeString(broken, """
                sources:
                  in: {sqs: {queue: shouts}}
                sinks:
                  loud: {type: shouting-file}
                routes:
                  - to: [loud]
                """);
        return broken.toString();
    }

    /** An upgrade's jar beside the old one: one class loader took classes from either, without a word. */
    @Test
    void twoJarsOfOnePlugin_areRefused_bothNamed(@TempDir Path dir) throws Exception {
        var plugins = dir.resolve("plugins");
        var jar = pluginJar(plugins);
        Files.copy(jar, plugins.resolve("shouting-file-plugin-1.1.jar"));
        var error = org.assertj.core.api.Assertions.catchThrowable(() -> new Plugins(plugins).load());
        assertThat(error).isInstanceOf(IllegalStateException.class).hasMessageContaining(ShoutingFilePlugin.class.getName())
                .hasMessageContaining("shouting-file-plugin.jar").hasMessageContaining("shouting-file-plugin-1.1.jar");
    }

    /**
     * A review: the folder's loader asks the app's class path first, so a plugin also there (an older build on
     * {@code -cp}) ran from there, and the upgrade dropped into the folder was skipped without a word. The plugin's
     * class is on this test's class path (target/test-classes): the folder's copy of it can never be the one loaded.
     */
    @Test
    void aPluginAlsoOnTheClassPath_isRefused_bothPlacesNamed(@TempDir Path dir) throws Exception {
        var plugins = dir.resolve("plugins");
        var jar = pluginJar(plugins);
        String classPathCopy = ShoutingFilePlugin.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        var error = org.assertj.core.api.Assertions.catchThrowable(() -> new Plugins(plugins).load());
        assertThat(error).as("loaded without a word, the folder's copy skipped").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(ShoutingFilePlugin.class.getName()).hasMessageContaining(jar.toString())
                .hasMessageContaining(classPathCopy);
    }

    /**
     * A review: {@code java -cp "ferry.jar:plugins/*"} puts the folder's own jar on the class path, and the refusal
     * above named that one file twice — a start that ran before it was stopped. The same jar is one copy: it runs
     * once, from the class path, as before.
     */
    @Test
    void theFoldersOwnJarAlsoOnTheClassPath_isNotRefused_andRunsOnce(@TempDir Path dir) throws Exception {
        var plugins = dir.resolve("plugins");
        var jar = pluginJar(plugins);
        try (var classPath = new ClassPathWith(jar)) {
            var loaded = new Plugins(plugins).load(classPath); // threw "...keep one", naming jar twice
            assertThat(loaded).as("the plugin once, not once per place").singleElement().satisfies(one -> {
                assertThat(one.plugin().getClass().getName()).isEqualTo(ShoutingFilePlugin.class.getName());
                assertThat(one.plugin().getClass().getClassLoader()).as("made from the class path").isSameAs(classPath);
                assertThat(one.origin()).isEqualTo("class path");
            });
        }
    }

    /**
     * An app class path with {@code jar} on it, asked first for the plugin's classes: they are also in this test's
     * target/test-classes, and a plain child loader would take them from there — another file, rightly refused.
     */
    private static final class ClassPathWith extends URLClassLoader {

        ClassPathWith(Path jar) throws IOException {
            super("class-path-with-" + jar.getFileName(), new URL[] {jar.toUri().toURL()}, PluginIT.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith(ShoutingFilePlugin.class.getName())) { // its nested classes too; the app's from the app
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                var loaded = findLoadedClass(name);
                var type = loaded != null ? loaded : findClass(name);
                if (resolve) {
                    resolveClass(type);
                }
                return type;
            }
        }
    }

    @Test
    void aPluginClaimingABuiltInName_isRefused() {
        FerryPlugin clash = new FerryPlugin() {
            @Override
            public Map<String, dev.ferry.domain.spi.SinkProvider> sinks() {
                return Map.of("sqs", settings -> context -> null);
            }
        };
        var built = FerryComponent.builtIn().adapters();
        var error = org.assertj.core.api.Assertions.catchThrowable(() -> Adapters.merge(built.sources(), built.sinks(),
                built.ledgers(), java.util.List.of(new Plugins.Loaded(clash, "clash.jar"))));
        assertThat(error).isInstanceOf(IllegalStateException.class).hasMessageContaining("sink type 'sqs'")
                .hasMessageContaining("clash.jar");
    }

    /**
     * A review: the plugins load when the adapters are first asked for, not when the component is made — and
     * {@code config schema} asked outside its catch, so a broken jar reached picocli as a failure while running,
     * exit 1, where every other command calls it a usage error, exit 2.
     */
    @Test
    void aPluginJarThatCannotBeLoaded_failsConfigSchema_withExit2_andItsPlace(@TempDir Path dir) throws Exception {
        var plugins = Files.createDirectories(dir.resolve("plugins"));
        try (var out = new JarOutputStream(Files.newOutputStream(plugins.resolve("broken-plugin.jar")))) {
            out.putNextEntry(new JarEntry("META-INF/services/" + FerryPlugin.class.getName()));
            out.write("com.example.NotThere\n".getBytes(StandardCharsets.UTF_8)); // a class the jar does not hold
            out.closeEntry();
        }
        var schema = FerryProcess.run(Map.of("FERRY_PLUGINS", plugins.toString()), "config", "schema");
        assertThat(schema.exitCode()).as(schema.output()).isEqualTo(2);
        assertThat(schema.output()).contains("ferry: cannot load the adapters: a plugin could not be loaded")
                .contains(plugins.toString()).contains("com.example.NotThere").doesNotContain("\"$schema\"");
    }

    /**
     * A review: a plugin that loads, but whose sink's {@code configure} throws {@code NoClassDefFoundError} (built
     * against a class the app has not). {@code config schema} caught exceptions only, picocli lets an Error through,
     * and the JVM's last catch said "ferry: java.lang.NoClassDefFoundError: ...", exit 1, no plugin named — where
     * {@code validate} names the sink type, exit 2.
     */
    @Test
    void aPluginWhoseSinkCannotReadItsSettings_failsConfigSchema_withExit2_namingItsTypeAndJar(@TempDir Path dir)
            throws Exception {
        var plugins = Files.createDirectories(dir.resolve("plugins"));
        var jar = plugins.resolve("unreadable-plugin.jar");
        String classFile = UnreadableSettingsPlugin.class.getName().replace('.', '/') + ".class";
        try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry(classFile));
            out.write(Files.readAllBytes(Path.of("target/test-classes").resolve(classFile)));
            out.closeEntry();
            out.putNextEntry(new JarEntry("META-INF/services/" + FerryPlugin.class.getName()));
            out.write((UnreadableSettingsPlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        var schema = FerryProcess.run(Map.of("FERRY_PLUGINS", plugins.toString()), "config", "schema");
        assertThat(schema.exitCode()).as(schema.output()).isEqualTo(2);
        assertThat(schema.output()).contains("the sink type 'unreadable' adapter could not read its settings: "
                        + "java.lang.NoClassDefFoundError: com/example/MissingSettings")
                .contains(jar.getFileName().toString()).doesNotContain("\"$schema\"");
    }

    /**
     * Sink type {@code unreadable}, whose reading of its settings throws what a plugin built against a class the app
     * has not throws. One class, no lambda (a lambda's class would ask for its nest host, {@code PluginIT}, which the
     * jar does not hold): packed alone into a jar of its own by the test above.
     */
    public static final class UnreadableSettingsPlugin implements FerryPlugin, dev.ferry.domain.spi.SinkProvider {

        @Override
        public Map<String, dev.ferry.domain.spi.SinkProvider> sinks() {
            return Map.of("unreadable", this);
        }

        @Override
        public dev.ferry.domain.spi.Plan<dev.ferry.domain.transport.Sink> configure(dev.ferry.domain.spi.Settings settings) {
            throw new NoClassDefFoundError("com/example/MissingSettings");
        }
    }

    @Test
    void aPluginThatThrowsAnError_atStart_endsTheProcess_withItsServersStopped(@TempDir Path dir) throws Exception {
        var plugins = dir.resolve("plugins");
        pluginJar(plugins);
        int sqsPort;
        try (var probe = new java.net.ServerSocket(0)) {
            sqsPort = probe.getLocalPort();
        }
        var config = dir.resolve("broken-plugin.yaml");
        Files.writeString(config, """
                embedded-sqs: {port: %d}
                ledger: {kind: memory}
                admin: {listen: "off"}
                sources:
                  in: {sqs: {queue: shouts}, format: raw}
                sinks:
                  loud: {type: shouting-file, path: "%s"}
                routes:
                  - to: [loud]
                """.formatted(sqsPort, dir.resolve("error-at-open").toString().replace("\\", "/")));
        // the embedded server's threads would keep a JVM alive that an Error left half started
        var finished = FerryProcess.run(Map.of("FERRY_PLUGINS", plugins.toString()), "run", "--config", config.toString());
        assertThat(finished.exitCode()).as(finished.output()).isEqualTo(1);
        assertThat(finished.output()).contains("could not start").contains("NoClassDefFoundError");
        try (var socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", sqsPort), 1000);
            throw new AssertionError("the embedded SQS server still listens on " + sqsPort);
        } catch (java.io.IOException refused) {
            // stopped with the process
        }
    }
}
