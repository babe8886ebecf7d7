package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.model.FerryException;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * The layout of the ledger table's items (what their keys and attributes mean), stamped in an item of
 * its own; a later Ferry that changes it stamps a higher one. A table without a stamp (new, or written
 * before stamps) is stamped with this one's. Checked before the first claim or read of the ledger: a
 * table of a later layout is refused — read by this version (after a rollback) its items would be
 * taken for what they are not, completions unseen and duplicates handled again. Refused as a ledger
 * that is down: every message waits in hand or on the queue, none is lost or dead-lettered, and
 * readiness says why.
 */
final class DynamoDbLayout {

    private static final System.Logger LOG = System.getLogger(DynamoDbLedger.class.getName());
    static final long LAYOUT = 1;
    /** The stamp's item: no key Ferry writes for an event, a mark or a parked group has this form. */
    static final String KEY = "ferry:layout";
    static final String ATTRIBUTE = "layout";

    /** How a failed call becomes the ledger's error (operation, key, cause). */
    interface Failure {
        FerryException of(String operation, String key, RuntimeException e);
    }

    private final DynamoDbClient client;
    private final String table;
    private final String keyName;
    private final Failure failure;
    private volatile boolean known;
    /** The table a run's start was to make and could not (create-table: true, DynamoDB not reachable then), or null. */
    private volatile Runnable owedTable;
    private final java.util.concurrent.atomic.AtomicLong owedTriedAt = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicBoolean making = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.function.Consumer<software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration.Builder> bounds;

    DynamoDbLayout(DynamoDbClient client, String table, String keyName, Failure failure,
            java.util.function.Consumer<software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration.Builder> bounds) {
        this.client = client;
        this.bounds = bounds;
        this.table = table;
        this.keyName = keyName;
        this.failure = failure;
    }

    /**
     * The table a run's start could not make ({@code make}: its CreateTable, and TTL turned on): made by the first check
     * that can. Looked at as it was, the start went on, warned, and when DynamoDB came up without it, nothing made it —
     * every claim refused as an outage until a restart by hand.
     */
    void owe(Runnable make) {
        owedTable = make;
    }

    /** Returns once the table is known to be of this layout (one volatile read after the first time); throws otherwise. */
    void check() {
        if (owedTable != null) { // a table made whose TTL could not be turned on is still owed that, checked or not
            makeOwedTable();
        }
        if (known) {
            return;
        }
        try {
            var stamp = read();
            if (stamp == null || stamp.isEmpty()) {
                try {
                    // UpdateItem, not PutItem: the permissions a ledger needs stay GetItem and UpdateItem
                    client.updateItem(b -> b.overrideConfiguration(bounds).tableName(table).key(Map.of(keyName, AttributeValue.fromS(KEY)))
                            .updateExpression("SET #layout = :layout").conditionExpression("attribute_not_exists(#k)")
                            .expressionAttributeNames(Map.of("#k", keyName, "#layout", ATTRIBUTE))
                            .expressionAttributeValues(Map.of(":layout", AttributeValue.fromN(Long.toString(LAYOUT)))));
                } catch (ConditionalCheckFailedException stampedMeanwhile) { // another instance did: read it
                    stamp = read();
                }
            }
            var stamped = stamp == null || !stamp.containsKey(ATTRIBUTE) ? null : stamp.get(ATTRIBUTE).n();
            if (stamped != null && Long.parseLong(stamped) > LAYOUT) {
                throw new FerryException("DynamoDB ledger '" + table + "' has layout " + stamped + ", written by a later "
                        + "Ferry; this one reads layout " + LAYOUT + " — run that later version, or give this one a table of "
                        + "its own (what the table holds, completions and parked groups, is then not known to it)", true);
            }
        } catch (FerryException e) {
            throw e;
        } catch (RuntimeException e) {
            throw failure.of("the layout check", KEY, e);
        }
        known = true;
    }

    /**
     * Makes the owed table, one caller at a time and once in {@link #OWED_EVERY} at most (a DynamoDB still down is asked
     * by the claims' own checks, not by a CreateTable each). A failure is warned of and the check goes on: a table made
     * meanwhile by someone else (or a role refused CreateTable on one that exists) is read as it is. Made but its TTL
     * not turned on, it is asked once more after the table was read (the TTL then best effort), then left.
     */
    private void makeOwedTable() {
        long now = System.nanoTime() | 1;
        long last = owedTriedAt.get();
        if (last != 0 && now - last < OWED_EVERY.toNanos() || !making.compareAndSet(false, true)) {
            return; // one at a time: a CreateTable in AWS and its wait take 20 s and more
        }
        try {
            var make = owedTable;
            if (make == null) {
                return;
            }
            make.run(); // made again, it is there: its TTL turned on where it is off, best effort
            owedTable = null;
        } catch (RuntimeException e) {
            if (known) { // there and read, a second time refused (CreateTable not allowed on it): left as it is
                owedTable = null;
            }
            LOG.log(System.Logger.Level.WARNING, "DynamoDB ledger table ''{0}'' (create-table: true) could not be made "
                    + "whole: {1}; {2}", table, e.getMessage(), known ? "left as it is (if its TTL is off, nothing in it "
                    + "expires: turn it on by hand)" : "asked again");
        } finally {
            owedTriedAt.set(System.nanoTime() | 1);
            making.set(false);
        }
    }

    /** How often a table owed is asked to be made, at most. */
    static final java.time.Duration OWED_EVERY = java.time.Duration.ofSeconds(5);

    private Map<String, AttributeValue> read() {
        return client.getItem(b -> b.overrideConfiguration(bounds).tableName(table)
                        .key(Map.of(keyName, AttributeValue.fromS(KEY))).consistentRead(true))
                .item();
    }
}
