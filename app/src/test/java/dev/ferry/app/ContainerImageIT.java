package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image ./mvnw package builds without a Docker daemon (app/target/jib-image.tar): how
 * it starts, as whom, where its config and data live, what it listens on — and, where this machine
 * lets a test chroot, the image's own root file system running a real job, as its non-root user.
 */
class ContainerImageIT {

    private static final Path IMAGE = FerryProcess.JAR.resolveSibling("jib-image.tar");

    /** Where the build makes the image (app/pom.xml's profiles): a Linux x86-64 machine; elsewhere there is none. */
    @org.junit.jupiter.api.BeforeEach
    void onlyWhereTheImageIsBuilt() {
        assumeTrue("Linux".equals(System.getProperty("os.name")) && "amd64".equals(System.getProperty("os.arch")),
                "the image is built on Linux x86-64 only");
    }

    @Test
    void theImage_startsFerryRun_asANonRootUser_withConfigData_andHealthWhereAContainerNeedsThem(@TempDir Path dir)
            throws Exception {
        var config = config(extract(dir, "manifest.json"), dir);
        assertThat(config).contains("\"User\":\"65532:65532\"")
                .contains("\"Entrypoint\":[\"java\",\"-XX:MaxRAMPercentage=75\",\"-XX:+ExitOnOutOfMemoryError\",\"-cp\","
                        + "\"@/app/jib-classpath-file\",\"dev.ferry.app.Ferry\"]")
                .contains("\"Cmd\":[\"run\"]").contains("\"FERRY_CONFIG=/config/ferry.yaml\"")
                .contains("\"FERRY_ADMIN_LISTEN=0.0.0.0:9465\"").contains("\"FERRY_LEDGER=/data/ferry-ledger.db\"")
                .contains("\"ExposedPorts\":{\"9465/tcp\":{}}").contains("\"WorkingDir\":\"/data\"")
                .contains("\"Volumes\":{\"/data\":{}}").contains("\"org.opencontainers.image.licenses\":\"Apache-2.0\"");
        String manifest = Files.readString(dir.resolve("manifest.json"));
        assertThat(manifest.split("\\.tar\\.gz").length - 1).as("base, then dependencies, resources, classes apart")
                .isGreaterThanOrEqualTo(4);
    }

    @Test
    void theImagesRootFileSystem_runsAJob_asItsUser_andAnswersHealthOnAllAddresses(@TempDir Path dir) throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/sbin/chroot"))
                && Files.isExecutable(Path.of("/usr/bin/unshare")), "needs root, chroot and unshare to run the image here");
        Path root = dir.resolve("rootfs");
        Files.createDirectories(root);
        extract(dir, "manifest.json");
        String manifest = Files.readString(dir.resolve("manifest.json"));
        var layers = new ArrayList<String>();
        var m = java.util.regex.Pattern.compile("\"([0-9a-f]{64}\\.tar\\.gz)\"").matcher(manifest);
        while (m.find()) {
            layers.add(m.group(1));
        }
        for (String layer : layers) {
            extract(dir, layer);
            run(List.of("tar", "--warning=no-unknown-keyword", "-xzf", dir.resolve(layer).toString(), "-C", root.toString()), Map.of(), 60);
        }
        // what Kafka's SASL/GSSAPI (Kerberos) logins load by name: without them a source fails to open, in the image only
        assertThat(Files.readAllLines(root.resolve("opt/java/release"))).filteredOn(l -> l.startsWith("MODULES="))
                .singleElement().asString().contains("jdk.security.auth").contains("jdk.security.jgss");
        try (var sqs = new LocalSqs()) {
            sqs.client.createQueue(b -> b.queueName("work"));
            Files.writeString(root.resolve("config/ferry.yaml"), """
                    aws: {region: us-east-1, endpoint: "%s"}
                    ledger: {kind: mvstore, path: "${FERRY_LEDGER}"}
                    sources:
                      work: {sqs: {queue: work, max-wait: 1s}, format: raw}
                    sinks:
                      log: {type: log}
                    routes:
                      - to: [log]
                    """.formatted(sqs.endpoint()));
            int admin;
            try (var probe = new java.net.ServerSocket(0)) {
                admin = probe.getLocalPort();
            }
            // the image's entrypoint and environment, in the image's own file system, as its user
            var env = Map.of("PATH", "/opt/java/bin:/usr/bin:/bin", "FERRY_CONFIG", "/config/ferry.yaml",
                    "FERRY_ADMIN_LISTEN", "0.0.0.0:" + admin, "FERRY_LEDGER", "/data/ferry-ledger.db",
                    "AWS_ACCESS_KEY_ID", "x", "AWS_SECRET_ACCESS_KEY", "x");
            String inside = "mount -t proc proc " + root + "/proc && cd " + root + " && exec /usr/sbin/chroot --userspec=65532:65532 "
                    + root + " /opt/java/bin/java -XX:MaxRAMPercentage=75 -cp @/app/jib-classpath-file dev.ferry.app.Ferry run";
            var builder = new ProcessBuilder("unshare", "--mount", "--fork", "sh", "-c", inside).redirectErrorStream(true);
            builder.environment().clear();
            builder.environment().putAll(env);
            var process = builder.start();
            var output = new StringBuffer();
            var reader = Thread.ofPlatform().daemon().start(() -> {
                try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        output.append(line).append('\n');
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            try {
                var http = HttpClient.newHttpClient();
                boolean ready = dev.ferry.domain.testing.Await.until(Duration.ofSeconds(60), () -> {
                    try {
                        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/health/ready"))
                                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                    } catch (Exception notYet) {
                        return false;
                    }
                });
                assertThat(ready).as(() -> "health on 0.0.0.0 from inside the image; " + output).isTrue();
                sqs.send("work", "{\"from\":\"the image\"}");
                assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(30), () -> sqs.depth("work") == 0))
                        .as(() -> "handled inside the image; " + output).isTrue();
                assertThat(root.resolve("data/ferry-ledger.db")).as("the ledger in /data, written by user 65532").exists();
                assertThat(Files.getOwner(root.resolve("data/ferry-ledger.db")).getName()).isIn("65532", "ferry");
            } finally {
                // SIGTERM to Ferry itself (a changed user does not keep the parent-death signal), as a container stop does
                process.descendants().forEach(ProcessHandle::destroy);
                process.destroy();
                assertThat(process.waitFor(30, TimeUnit.SECONDS)).as(output.toString()).isTrue();
                reader.join(5_000);
            }
            assertThat(output.toString()).contains("listening on 'work'");
        }
    }

    /** Extracts one entry of the image tar into {@code dir}; returns the config's JSON when asked for the manifest. */
    private static Path extract(Path dir, String entry) throws Exception {
        run(List.of("tar", "xf", IMAGE.toString(), "-C", dir.toString(), entry), Map.of(), 60);
        return dir.resolve(entry);
    }

    private static String config(Path manifest, Path dir) throws Exception {
        var m = java.util.regex.Pattern.compile("\"Config\":\"([^\"]+)\"").matcher(Files.readString(manifest));
        assertThat(m.find()).isTrue();
        return Files.readString(extract(dir, m.group(1))).replace(" ", "");
    }

    private static void run(List<String> command, Map<String, String> env, int seconds) throws Exception {
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        var p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(seconds, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    }
}
