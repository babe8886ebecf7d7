package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ferry-slim.jar: the app without the embedded SQS server, for production — smaller, and it still runs a real job. */
class SlimJarIT {

    private static final Path SLIM = FerryProcess.JAR.resolveSibling("ferry-slim.jar");

    @Test
    void theSlimJar_leavesTheEmbeddedServerOut_andIsFarSmaller() throws Exception {
        try (var jar = new ZipFile(SLIM.toFile())) {
            assertThat(jar.getEntry("dev/ferry/app/Ferry.class")).isNotNull();
            assertThat(jar.getEntry("org/elasticmq/rest/sqs/SQSRestServerBuilder.class")).isNull();
            assertThat(jar.getEntry("scala/Predef.class")).isNull();
            assertThat(jar.getEntry("org/reactivestreams/Publisher.class")).as("the AWS SDK needs it").isNotNull();
        }
        assertThat(Files.size(SLIM)).isLessThan(Files.size(FerryProcess.JAR) * 6 / 10);
    }

    @Test
    void theSlimJar_runsAJob_againstAnSqsServer(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            sqs.client.createQueue(b -> b.queueName("work"));
            var config = dir.resolve("slim.yaml");
            Files.writeString(config, """
                    aws: {region: us-east-1, endpoint: "${AWS_ENDPOINT_URL}"}
                    ledger: {kind: mvstore, path: "%s"}
                    admin: {listen: "127.0.0.1:0"}
                    sources:
                      work: {sqs: {queue: work, max-wait: 1s}, format: raw}
                    sinks:
                      log: {type: log}
                    routes:
                      - to: [log]
                    """.formatted(dir.resolve("ledger.db").toString().replace("\\\\", "/")));
            try (var ferry = FerryProcess.start(SLIM, sqs.env(), "run", "--config", config.toString())) {
                ferry.awaitLine("listening on 'work'", Duration.ofSeconds(60));
                sqs.send("work", "{\"hello\":\"slim\"}");
                ferry.awaitLine("ferry.sink.log - raw", Duration.ofSeconds(30));
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
            }
        }
    }

    @Test
    void theSlimJar_refusesEmbeddedSqs_withAClearError() throws Exception {
        var finished = FerryProcess.run(SLIM, java.util.Map.of(), "validate", "--config", "../examples/local.yaml");
        assertThat(finished.exitCode()).as(finished.output()).isEqualTo(2);
        assertThat(finished.output()).contains("embedded-sqs: this is ferry-slim.jar, which carries no embedded SQS server");
    }
}
