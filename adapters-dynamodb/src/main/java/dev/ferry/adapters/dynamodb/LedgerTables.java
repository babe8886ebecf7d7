package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.model.FerryException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveDescription;

/** The ledger's table made (see {@link DynamoDbLedger#createTable}), TTL turned on where it is off. */
final class LedgerTables {

    private static final System.Logger LOG = System.getLogger(DynamoDbLedger.class.getName());

    private LedgerTables() {
    }

    /**
     * Whether TTL is on the ledger's expiry attribute once {@link #create} is done; when not, {@code why}, in words
     * that say what to do. A table that exists is left to work without it (warned), but {@code ferry ledger
     * create-table} said "with TTL on" and exited 0: a provisioning script took it for done, and nothing ever expired.
     * Not {@code known} when TTL could be neither asked about nor turned on: a role without the TTL actions on a table
     * made with TTL on by another tool, or DynamoDB failing both calls a moment. Taken for off, that failed every start
     * calling createTable, TTL on all along. {@code refusal}: the UpdateTimeToLive's failure, when it failed.
     */
    record Ttl(boolean on, boolean known, String why, RuntimeException refusal) {
        static final Ttl ON = new Ttl(true, true, null, null);

        static Ttl off(String why) {
            return new Ttl(false, true, why, null);
        }

        static Ttl off(String why, RuntimeException refusal) {
            return new Ttl(false, true, why, refusal);
        }

        static Ttl unknown(String why, RuntimeException refusal) {
            return new Ttl(false, false, why, refusal);
        }

        /**
         * Whether asking again may turn it on: the refusal a throttle, DynamoDB's own fault, no answer in time, or
         * another change to TTL under way ("modified multiple times") — not a denial, which stays one.
         */
        boolean retryable() {
            if (refusal != null && String.valueOf(refusal.getMessage()).contains("multiple times")) {
                return true;
            }
            return refusal instanceof SdkServiceException s ? s.isThrottlingException() || s.statusCode() >= 500
                    : refusal instanceof SdkClientException;
        }
    }

    /**
     * {@link #create}, with TTL known not on the expiry attribute afterwards thrown: {@link
     * DynamoDbLedger#createTable}'s, which an embedder's provisioning code calls. It only warned, and nothing the
     * ledger wrote in the table expired. TTL that could not be asked about nor turned on is warned of (by {@link
     * #create}), not thrown: it may well be on, and nothing here can tell.
     */
    static void createWithTtl(DynamoDbClient client, String table, DynamoDbLedger.Names names) {
        var ttl = create(client, table, names);
        if (!ttl.on() && ttl.known()) {
            throw new FerryException("DynamoDB ledger table '" + table + "' is there, but " + ttl.why()
                    + ": nothing the ledger writes in it would expire", ttl.refusal(), ttl.retryable());
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
                    ttl = afterRefusal(client, table, names, e);
                }
            }
            if (!ttl.on()) {
                LOG.log(System.Logger.Level.WARNING, "DynamoDB table ''{0}'': {1}; {2}nothing the ledger writes "
                        + "expires", table, ttl.why(), ttl.known() ? "" : "if it is off, ");
            }
            return ttl;
        } catch (RuntimeException e) {
            throw new FerryException("cannot create DynamoDB table '" + table + "': " + e.getMessage(), e, false);
        }
        try {
            client.updateTimeToLive(b -> b.tableName(table)
                    .timeToLiveSpecification(t -> t.attributeName(names.ttl()).enabled(true)));
        } catch (RuntimeException e) {
            var ttl = afterRefusal(client, table, names, e);
            if (ttl.on()) {
                return ttl; // another instance, starting at the same time, turned it on first
            }
            // made with TTL off this moment: thrown even when it cannot be asked about, as a run then owes it, turned
            // on by its first claim; asked again (retryable when the refusal may pass), it finds the table there, and
            // only warns when TTL still cannot be told
            throw new FerryException("DynamoDB table '" + table + "' was created but " + ttl.why(), e, ttl.retryable());
        }
        return Ttl.ON;
    }

    /**
     * TTL as it is after {@code e} refused turning it on: on when another instance turned it on meanwhile (its change
     * refused this one in words without "already enabled": "modified multiple times within a fixed interval", and the
     * command failed while TTL was on its way), off when the table says so, unknown when it cannot be asked either.
     */
    private static Ttl afterRefusal(DynamoDbClient client, String table, DynamoDbLedger.Names names,
                                    RuntimeException e) {
        if (String.valueOf(e.getMessage()).contains("already enabled")) {
            return Ttl.ON; // on, not to be asked
        }
        String refused = "TTL could not be turned on: " + e.getMessage();
        Ttl asItIs;
        try {
            asItIs = described(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription(), names);
        } catch (RuntimeException cannotAsk) {
            return Ttl.unknown(refused + "; nor could it be asked about: " + cannotAsk.getMessage() + ". Check by "
                    + "hand that TTL is on for attribute '" + names.ttl() + "' (aws dynamodb describe-time-to-live "
                    + "--table-name " + table + "), and turn it on if not", e);
        }
        if (asItIs == null) {
            return Ttl.off(refused + "; turn it on by hand for attribute '" + names.ttl() + "'", e);
        }
        return asItIs.on() ? asItIs : Ttl.off(asItIs.why(), e);
    }

    /**
     * TTL as the table has it, when it is on (or being turned on, or off): on the ledger's attribute, or why not — on
     * another attribute it is left as it is, as nothing the ledger writes then expires. Null when it is off, or cannot
     * be asked about: to be turned on.
     */
    private static Ttl ttlAsItIs(DynamoDbClient client, String table, DynamoDbLedger.Names names) {
        try {
            return described(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription(), names);
        } catch (RuntimeException e) {
            // not allowed to ask (DescribeTimeToLive is an action of its own, which a role may lack): turned on all the
            // same — taken for on, TTL stayed off on every table made by hand or by a first run refused it, for good
            return null;
        }
    }

    /** TTL as {@code ttl} describes it (see {@link #ttlAsItIs}): null when it is off. */
    private static Ttl described(TimeToLiveDescription ttl, DynamoDbLedger.Names names) {
        var status = ttl.timeToLiveStatusAsString();
        if ("DISABLED".equals(status)) {
            return null;
        }
        if ("DISABLING".equals(status)) { // DynamoDB takes no change to it until it is off
            return Ttl.off("TTL is being turned off; once it is off, turn it on by hand for attribute '"
                    + names.ttl() + "'");
        }
        if (ttl.attributeName() != null && !ttl.attributeName().equals(names.ttl())) {
            return Ttl.off("TTL is on '" + ttl.attributeName() + "', not on '" + names.ttl() + "' (a table has "
                    + "TTL on one attribute at most: turn it off, and once it is off turn it on for '" + names.ttl()
                    + "', or use another table)");
        }
        return Ttl.ON;
    }
}
