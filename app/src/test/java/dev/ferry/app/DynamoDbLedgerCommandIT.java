package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.dynamodb.DynamoDbLedger;
import dev.ferry.adapters.dynamodb.DynamoDbLocal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveStatus;

/** {@code ferry ledger create-table}: the config's DynamoDB ledger table, made by the ledger's own code. */
class DynamoDbLedgerCommandIT {

    @Test
    void createTable_makesTheConfiguredTable_withTtl_andIsRepeatable(@TempDir Path dir) throws Exception {
        try (var dynamo = DynamoDbLocal.start(); var client = dynamo.newClient()) {
            var config = ledgerAt(dir, dynamo.endpoint());
            for (int run = 0; run < 2; run++) {
                var made = createTable(config);
                assertThat(made.exit()).as(made.err()).isZero();
                assertThat(made.out()).contains("the DynamoDB ledger table exists");
            }
            assertThat(client.listTables().tableNames()).contains("orders-ledger");
            assertThat(client.describeTimeToLive(b -> b.tableName("orders-ledger")).timeToLiveDescription()
                    .timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
        }
    }

    @Test // a review: on a table there with TTL off, UpdateTimeToLive refused (a role without it), the command said
          // "with TTL on" and exited 0 — a provisioning script took it for done, and nothing in it ever expired
    void createTable_onATableWhoseTtlCannotBeTurnedOn_saysSo_andExits1(@TempDir Path dir) throws Exception {
        try (var dynamo = DynamoDbLocal.start(); var client = dynamo.newClient();
             var refusing = dynamo.refusing("UpdateTimeToLive")) {
            createWithoutTtl(client, "orders-ledger");

            var made = createTable(ledgerAt(dir, refusing.endpoint()));

            assertThat(made.exit()).as(made.out() + " " + made.err()).isEqualTo(1);
            assertThat(made.out()).doesNotContain("TTL on");
            assertThat(made.err()).contains("'orders-ledger'").contains("TTL could not be turned on")
                    .contains("dynamodb:UpdateTimeToLive").contains("turn it on by hand for attribute 'expiresAt'");
            assertThat(client.describeTimeToLive(b -> b.tableName("orders-ledger")).timeToLiveDescription()
                    .timeToLiveStatus()).isEqualTo(TimeToLiveStatus.DISABLED);
        }
    }

    @Test // the same review: TTL on another attribute than the ledger's was warned of, and the command said it was on
    void createTable_onATableWithTtlOnAnotherAttribute_saysSo_andExits1(@TempDir Path dir) throws Exception {
        try (var dynamo = DynamoDbLocal.start(); var client = dynamo.newClient()) {
            createWithoutTtl(client, "orders-ledger");
            client.updateTimeToLive(b -> b.tableName("orders-ledger")
                    .timeToLiveSpecification(t -> t.attributeName("deleteAt").enabled(true)));

            var made = createTable(ledgerAt(dir, dynamo.endpoint()));

            assertThat(made.exit()).as(made.out() + " " + made.err()).isEqualTo(1);
            assertThat(made.out()).doesNotContain("TTL on");
            assertThat(made.err()).contains("TTL is on 'deleteAt', not on 'expiresAt'");
        }
    }

    /** {@code ferry ledger create-table --config config}: its exit code, and what it printed on each stream. */
    private static Run createTable(Path config) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int exit = Ferry.run(new String[] {"ledger", "create-table", "--config", config.toString()},
                new PrintStream(out), new PrintStream(err));
        return new Run(exit, out.toString(), err.toString());
    }

    private record Run(int exit, String out, String err) { }

    /** A config whose ledger is the DynamoDB table orders-ledger at {@code endpoint}. */
    private static Path ledgerAt(Path dir, URI endpoint) throws IOException {
        return Files.writeString(dir.resolve("ferry.yaml"), """
                ledger:
                  kind: dynamodb
                  table: orders-ledger
                  endpoint: %s
                sources: {s: {sqs: {queue: q}}}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """.formatted(endpoint));
    }

    /** {@code table} as one made by hand: keyed as the ledger reads it, TTL off. */
    private static void createWithoutTtl(DynamoDbClient client, String table) {
        String key = DynamoDbLedger.Names.defaults().key();
        client.createTable(b -> b.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(AttributeDefinition.builder().attributeName(key)
                        .attributeType(ScalarAttributeType.S).build())
                .keySchema(KeySchemaElement.builder().attributeName(key).keyType(KeyType.HASH).build()));
    }

    @Test // a review: with create-table on, a command reading the ledger made an empty table and said "never seen"
    void eventsShow_withNoFerryAnswering_doesNotCreateTheTable_andSaysItIsMissing(@TempDir Path dir) throws Exception {
        try (var dynamo = DynamoDbLocal.start(); var client = dynamo.newClient();
             var port = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int free = port.getLocalPort();
            port.close(); // nothing answers on the admin port: the command reads the ledger itself
            var config = dir.resolve("ferry.yaml");
            Files.writeString(config, """
                    ledger: {kind: dynamodb, table: absent-ledger, create-table: true, endpoint: "%s"}
                    admin: {listen: "127.0.0.1:%d"}
                    sources: {s: {sqs: {queue: q}}}
                    sinks: {log: {type: log}}
                    routes: [{to: [log]}]
                    """.formatted(dynamo.endpoint(), free));
            var out = new ByteArrayOutputStream();
            var err = new ByteArrayOutputStream();

            int exit = Ferry.run(new String[] {"events", "show", "order-1", "--config", config.toString()},
                    new PrintStream(out), new PrintStream(err));

            assertThat(client.listTables().tableNames()).as("no empty table made").doesNotContain("absent-ledger");
            assertThat(exit).as(out + " " + err).isNotZero();
            assertThat(out.toString()).doesNotContain("never seen");
            assertThat(err.toString()).contains("absent-ledger");
        }
    }

    @Test // a review: a mistyped table started a run that stood ready, then held its first message for ever
    void aRunWhoseLedgerTableDoesNotExist_failsToStart_namingTheTable(@TempDir Path dir) throws Exception {
        try (var dynamo = DynamoDbLocal.start(); var port = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int free = port.getLocalPort();
            port.close();
            var file = dir.resolve("ferry.yaml");
            Files.writeString(file, """
                    ledger: {kind: dynamodb, table: ferry-ledgr, endpoint: "%s"}
                    sources:
                      in: {http: {listen: "127.0.0.1:%d", auth: none}, format: raw}
                    sinks: {log: {type: log}}
                    routes: [{to: [log]}]
                    """.formatted(dynamo.endpoint(), free));
            var read = dev.ferry.app.config.ConfigReader.read(file, name -> null, FerryComponent.builtIn().adapters());
            assertThat(read).as(String.valueOf(read)).isInstanceOf(dev.ferry.app.config.ConfigReader.Result.Ok.class);

            var error = org.assertj.core.api.Assertions.catchThrowable(() ->
                    FerryAppIT.runtime(((dev.ferry.app.config.ConfigReader.Result.Ok) read).config()).start());

            assertThat(error).isNotNull();
            assertThat(dev.ferry.domain.model.Thrown.describe(error) + " " + (error.getCause() == null ? ""
                    : dev.ferry.domain.model.Thrown.describe(error.getCause())))
                    .contains("DynamoDB ledger table 'ferry-ledgr' does not exist").contains("create-table");
        }
    }
}
