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
}
