package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.model.FerryException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/** The ledger's table made (see {@link DynamoDbLedger#createTable}), TTL turned on where it is off. */
final class LedgerTables {

    private static final System.Logger LOG = System.getLogger(DynamoDbLedger.class.getName());

    private LedgerTables() {
    }

    static void create(DynamoDbClient client, String table, DynamoDbLedger.Names names) {
        try {
            client.createTable(b -> b.tableName(table)
                    .billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(AttributeDefinition.builder().attributeName(names.key())
                            .attributeType(ScalarAttributeType.S).build())
                    .keySchema(KeySchemaElement.builder().attributeName(names.key()).keyType(KeyType.HASH).build()));
            client.waiter().waitUntilTableExists(b -> b.tableName(table));
        } catch (ResourceInUseException exists) {
            try { // another instance may be creating it this moment: its TTL can be asked about once it is there
                client.waiter().waitUntilTableExists(b -> b.tableName(table));
            } catch (RuntimeException notYet) {
                LOG.log(System.Logger.Level.DEBUG, "waiting for DynamoDB table ''{0}'' failed: {1}", table, notYet.getMessage());
            }
            // one made by hand or another tool, keyed otherwise: every claim would be refused as an outage, for ever
            TableAtOpen.check(client, table, null, names.key(), false);
            if (!ttlOn(client, table, names)) {
                try { // best effort on a table that exists: it worked before without, and a role may not be allowed to
                    client.updateTimeToLive(b -> b.tableName(table)
                            .timeToLiveSpecification(t -> t.attributeName(names.ttl()).enabled(true)));
                } catch (RuntimeException e) {
                    if (String.valueOf(e.getMessage()).contains("already enabled")) {
                        return; // on already, which could not be asked
                    }
                    LOG.log(System.Logger.Level.WARNING, "DynamoDB table ''{0}'' may have no TTL on ''{1}'' (it was off, or could "
                            + "not be asked about), and it could not be "
                            + "turned on ({2}): nothing in it expires; turn it on by hand", table, names.ttl(), e.getMessage());
                }
            }
            return;
        } catch (RuntimeException e) {
            throw new FerryException("cannot create DynamoDB table '" + table + "': " + e.getMessage(), e, false);
        }
        try {
            client.updateTimeToLive(b -> b.tableName(table)
                    .timeToLiveSpecification(t -> t.attributeName(names.ttl()).enabled(true)));
        } catch (RuntimeException e) {
            if (ttlTurnedOnElsewhere(client, table, names)) {
                return; // another instance, starting at the same time, turned it on first
            }
            throw new FerryException("DynamoDB table '" + table + "' was created but TTL on '" + names.ttl()
                    + "' could not be turned on: " + e.getMessage(), e, false);
        }
    }

    /** Whether TTL is on (or being turned on) on the ledger's attribute, as the table says: false when it cannot be asked. */
    private static boolean ttlTurnedOnElsewhere(DynamoDbClient client, String table, DynamoDbLedger.Names names) {
        try {
            var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
            var status = ttl.timeToLiveStatusAsString();
            return ("ENABLED".equals(status) || "ENABLING".equals(status)) && names.ttl().equals(ttl.attributeName());
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Whether TTL is on (or being turned on, or off) for the table: then it is left as it is — on another
     * attribute than the ledger's, with a warning, as nothing the ledger writes then expires.
     */
    private static boolean ttlOn(DynamoDbClient client, String table, DynamoDbLedger.Names names) {
        try {
            var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
            var status = ttl.timeToLiveStatusAsString();
            if ("DISABLED".equals(status)) {
                return false;
            }
            if (ttl.attributeName() != null && !ttl.attributeName().equals(names.ttl())) {
                LOG.log(System.Logger.Level.WARNING, "DynamoDB table ''{0}'' has TTL on ''{1}'', not on ''{2}'': nothing the "
                        + "ledger writes expires", table, ttl.attributeName(), names.ttl());
            }
            return true;
        } catch (RuntimeException e) {
            // not allowed to ask (DescribeTimeToLive is an action of its own, which a role may lack): turned on all the
            // same — taken for on, TTL stayed off on every table made by hand or by a first run refused it, for good
            return false;
        }
    }
}
