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

    /**
     * Whether TTL is on the ledger's expiry attribute once {@link #create} is done; when not, {@code why}, in words
     * that say what to do. A table that exists is left to work without it (warned), but {@code ferry ledger
     * create-table} said "with TTL on" and exited 0: a provisioning script took it for done, and nothing ever expired.
     */
    record Ttl(boolean on, String why) {
        static final Ttl ON = new Ttl(true, null);

        static Ttl off(String why) {
            return new Ttl(false, why);
        }
    }

    static Ttl create(DynamoDbClient client, String table, DynamoDbLedger.Names names) {
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
            Ttl ttl = ttlAsItIs(client, table, names);
            if (ttl == null) {
                try { // best effort on a table that exists: it worked before without, and a role may not be allowed to
                    client.updateTimeToLive(b -> b.tableName(table)
                            .timeToLiveSpecification(t -> t.attributeName(names.ttl()).enabled(true)));
                    ttl = Ttl.ON;
                } catch (RuntimeException e) {
                    ttl = String.valueOf(e.getMessage()).contains("already enabled")
                            ? Ttl.ON // on already, which could not be asked
                            : Ttl.off("TTL could not be turned on: " + e.getMessage() + "; turn it on by hand for "
                                    + "attribute '" + names.ttl() + "'");
                }
            }
            if (!ttl.on()) {
                LOG.log(System.Logger.Level.WARNING, "DynamoDB table ''{0}'': {1}; nothing the ledger writes expires",
                        table, ttl.why());
            }
            return ttl;
        } catch (RuntimeException e) {
            throw new FerryException("cannot create DynamoDB table '" + table + "': " + e.getMessage(), e, false);
        }
        try {
            client.updateTimeToLive(b -> b.tableName(table)
                    .timeToLiveSpecification(t -> t.attributeName(names.ttl()).enabled(true)));
        } catch (RuntimeException e) {
            if (ttlTurnedOnElsewhere(client, table, names)) {
                return Ttl.ON; // another instance, starting at the same time, turned it on first
            }
            throw new FerryException("DynamoDB table '" + table + "' was created but TTL on '" + names.ttl()
                    + "' could not be turned on: " + e.getMessage(), e, false);
        }
        return Ttl.ON;
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
     * TTL as the table has it, when it is on (or being turned on, or off): on the ledger's attribute, or why not — on
     * another attribute it is left as it is, as nothing the ledger writes then expires. Null when it is off, or cannot
     * be asked about: to be turned on.
     */
    private static Ttl ttlAsItIs(DynamoDbClient client, String table, DynamoDbLedger.Names names) {
        try {
            var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
            var status = ttl.timeToLiveStatusAsString();
            if ("DISABLED".equals(status)) {
                return null;
            }
            if ("DISABLING".equals(status)) { // DynamoDB takes no change to it until it is off
                return Ttl.off("TTL is being turned off; once it is off, turn it on by hand for attribute '"
                        + names.ttl() + "'");
            }
            if (ttl.attributeName() != null && !ttl.attributeName().equals(names.ttl())) {
                return Ttl.off("TTL is on '" + ttl.attributeName() + "', not on '" + names.ttl() + "'");
            }
            return Ttl.ON;
        } catch (RuntimeException e) {
            // not allowed to ask (DescribeTimeToLive is an action of its own, which a role may lack): turned on all the
            // same — taken for on, TTL stayed off on every table made by hand or by a first run refused it, for good
            return null;
        }
    }
}
