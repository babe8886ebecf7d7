package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.app.config.ConfigReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/** A start that fails half-way (here: the admin port is taken) must not have taken messages it then gives back. */
class FailedStartIT {

    @Test
    void aStartThatFailsOnItsAdminPort_hasReceivedNothing(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs(); var taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            sqs.client.createQueue(b -> b.queueName("orders"));
            for (int i = 0; i < 5; i++) {
                sqs.send("orders", "{\"id\":\"o-" + i + "\"}");
            }
            var file = dir.resolve("ferry.yaml");
            Files.writeString(file, """
                    aws: {region: us-east-1, endpoint: "%s"}
                    ledger: {kind: memory}
                    admin: {listen: "127.0.0.1:%d"}
                    sources:
                      orders: {sqs: {queue: orders, max-wait: 1s}, format: json, json: {id: /id}}
                    sinks: {log: {type: log}}
                    routes: [{to: [log]}]
                    """.formatted(sqs.endpoint(), taken.getLocalPort()));
            var config = ((ConfigReader.Result.Ok) ConfigReader.read(file, System::getenv, ConfigReaderTest.ADAPTERS)).config();
            var runtime = FerryAppIT.runtime(config);

            assertThatThrownBy(runtime::start).hasMessageContaining(Integer.toString(taken.getLocalPort()));
            runtime.close();

            var messages = sqs.client.receiveMessage(b -> b.queueUrl(sqs.url("orders")).maxNumberOfMessages(10)
                    .waitTimeSeconds(1).messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT))
                    .messages();
            assertThat(messages).hasSize(5).allSatisfy(m -> assertThat(m.attributes()
                    .get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)).as("received before now").isEqualTo("1"));
        }
    }

    @Test // SQS not reachable yet at a run's start (a sidecar proxy, the network, an endpoint restarting) failed the start,
          // every route with it, until a restart: its queues are asked again for a minute
    void aRunStartedWhileSqsCannotBeReached_startsOnceItAnswers(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs(); var late = new dev.ferry.domain.testing.LateEndpoint(sqs.port)) {
            sqs.client.createQueue(b -> b.queueName("orders"));
            sqs.send("orders", "{\"id\":\"o-1\"}");
            startsOnceItAnswers(dir, late);
        }
    }

    private static void startsOnceItAnswers(Path dir, dev.ferry.domain.testing.LateEndpoint late) throws Exception {
        int port = late.port();
        var out = dir.resolve("out.jsonl");
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, """
                aws: {region: us-east-1, endpoint: "http://127.0.0.1:%d"}
                ledger: {kind: memory}
                admin: {listen: "off"}
                sources:
                  orders: {sqs: {queue: orders, max-wait: 1s}, format: json, json: {id: /id}}
                sinks: {out: {type: file, path: "%s"}}
                routes: [{to: [out]}]
                """.formatted(port, out.toString().replace("\\", "/")));
        var config = ((ConfigReader.Result.Ok) ConfigReader.read(file, System::getenv, ConfigReaderTest.ADAPTERS)).config();
        var runtime = FerryAppIT.runtime(config);
        try {
            var start = java.util.concurrent.CompletableFuture.runAsync(runtime::start);
            dev.ferry.domain.testing.Await.until(java.time.Duration.ofMillis(1500), () -> false); // SQS down a moment
            assertThat(start).as("still waiting for SQS, not failed").isNotDone();

            late.open();
            start.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(20),
                    () -> Files.exists(out) && readQuietly(out).contains("o-1"))).as("handled once started").isTrue();
        } finally {
            runtime.close();
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
