package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.dynamodb.DynamoDbLocal;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveStatus;

/** {@code ferry ledger create-table}: the config's DynamoDB ledger table, made by the ledger's own code. */
class DynamoDbLedgerCommandIT {

    @Test
    void createTable_makesTheConfiguredTable_withTtl_andIsRepeatable(@TempDir Path dir) throws Exception {
        try (var dynamo = DynamoDbLocal.start(); var client = dynamo.newClient()) {
            var config = dir.resolve("ferry.yaml");
            Files.writeString(config, """
                    ledger:
                      kind: dynamodb
                      table: orders-ledger
                      endpoint: %s
                    sources: {s: {sqs: {queue: q}}}
                    sinks: {log: {type: log}}
                    routes: [{to: [log]}]
                    """.formatted(dynamo.endpoint()));
            for (int run = 0; run < 2; run++) {
                var out = new ByteArrayOutputStream();
                var err = new ByteArrayOutputStream();
                assertThat(Ferry.run(new String[] {"ledger", "create-table", "--config", config.toString()},
                        new PrintStream(out), new PrintStream(err))).as(err.toString()).isZero();
                assertThat(out.toString()).contains("the DynamoDB ledger table exists");
            }
            assertThat(client.listTables().tableNames()).contains("orders-ledger");
            assertThat(client.describeTimeToLive(b -> b.tableName("orders-ledger")).timeToLiveDescription()
                    .timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
        }
    }
}
