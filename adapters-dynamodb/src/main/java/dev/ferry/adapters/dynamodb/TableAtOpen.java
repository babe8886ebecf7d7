package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.model.Thrown;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;

/**
 * The ledger's table, looked at when the ledger opens. Without it a table name mistyped started a run
 * that stood ready while the queue was idle, then held its first message for ever, retried as an
 * outage. One read of the layout's item (a GetItem: a ledger's permissions stay GetItem and
 * UpdateItem, no DescribeTable). A table that does not exist, or is keyed otherwise, fails the open, naming it; any other
 * failure (DynamoDB slow or unreachable for a moment) is only logged: the ledger's own check before
 * its first claim decides then, as it does for an outage.
 */
final class TableAtOpen {

    private static final System.Logger LOG = System.getLogger(DynamoDbLedger.class.getName());

    private TableAtOpen() {
    }

    /** How long a table that is not there yet is waited for: one being created (not yet ACTIVE) answers as missing. */
    static volatile java.time.Duration patience = java.time.Duration.ofSeconds(20); // a test's, shorter

    static void check(DynamoDbClient client, String table, String region) {
        check(client, table, region, DynamoDbLedger.Names.defaults().key());
    }

    /** As {@link #check(DynamoDbClient, String, String)}, for a ledger whose partition key is {@code key}. */
    static void check(DynamoDbClient client, String table, String region, String key) {
        check(client, table, region, key, true);
    }

    /**
     * {@code denialFails}: false where the caller may not need to read items (making the table: a provisioning role holds
     * CreateTable and the TTL permissions, not GetItem), so a denial is warned of, not waited out and failed.
     */
    static void check(DynamoDbClient client, String table, String region, String key, boolean denialFails) {
        long end = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                client.getItem(b -> b.tableName(table)
                        .key(Map.of(key, AttributeValue.fromS(DynamoDbLayout.KEY))));
                return;
            } catch (ResourceNotFoundException e) {
                if (System.nanoTime() - end >= 0) {
                    throw new FerryException("DynamoDB ledger table '" + table + "' does not exist" + (region == null ? ""
                            : " in " + region) + " (waited " + patience.toSeconds() + " s for it to become active): create "
                            + "it (ferry ledger create-table), or set create-table: true", e, false);
                }
                pause();
            } catch (software.amazon.awssdk.services.dynamodb.model.DynamoDbException e) {
                String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
                if ("AccessDeniedException".equals(code)) {
                    if (!denialFails) {
                        warn(table, e);
                        return;
                    }
                    if (System.nanoTime() - end < 0) {
                        pause(); // a policy attached with the task takes effect within seconds: asked again meanwhile
                        continue;
                    }
                    // a role without the ledger's permissions: warned and started, it stood ready while idle, then held
                    // its first message for ever
                    throw new FerryException("DynamoDB ledger table '" + table + "' may not be read with these credentials: "
                            + e.getMessage() + "; the ledger needs dynamodb:GetItem and dynamodb:UpdateItem on it", e, false);
                }
                if (!"ValidationException".equals(code)) {
                    warn(table, e);
                    return;
                }
                // a table keyed otherwise ("PK", "id", a sort key, a number): every claim would be refused the same way,
                // an outage to the engine — ready while idle, then its first message held for ever
                throw new FerryException("DynamoDB ledger table '" + table + "' is not keyed as the ledger reads it (a "
                        + "string partition key '" + key + "', no sort key): "
                        + e.getMessage() + "; name another table (ferry ledger create-table makes one keyed so), or remove "
                        + "this one first", e, false);
            } catch (RuntimeException e) {
                warn(table, e);
                return;
            }
        }
    }

    private static void warn(String table, RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "DynamoDB ledger table ''{0}'' could not be looked at as the ledger opened "
                + "({1}); it is again before the first claim", table, Thrown.describe(e));
    }

    private static void pause() {
        try {
            Thread.sleep(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FerryException("interrupted while waiting for the DynamoDB ledger table", e, false);
        }
    }
}
