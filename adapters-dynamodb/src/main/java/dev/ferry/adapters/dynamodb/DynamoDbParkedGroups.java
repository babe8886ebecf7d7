package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.ParkedGroup;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * {@link DynamoDbLedger}'s parked groups, in the ledger's own table: one item per group (key
 * {@code p:<source length>:<source>:<group>}, beside the ledger's {@code e:} and {@code t:} keys)
 * and an index whose string sets name them all, so listing them reads a few items, not the table.
 * Every change is a transaction of the group's item (conditional on its version) and, when a group
 * is parked or unparked, its index item: the two never disagree.
 *
 * <p>The index is {@value #SHARDS} items ({@code p-index:NN}, a group's by its key's hash): one item
 * holds 400 KB, and the single {@code p-index} of earlier versions (still read, and unparked from)
 * was full at ~400 groups of long keys — every later park then failed as a ledger outage, and the
 * source waited for ever. A shard that is full all the same (~25,000 groups of keys of a kilobyte,
 * hundreds of thousands of short ones) parks the group without listing it, and says so with the
 * command that releases it: its state, which every instance reads, is in its own item.
 */
final class DynamoDbParkedGroups {

    private static final System.Logger LOG = System.getLogger(DynamoDbLedger.class.getName());
    /** The index item of versions before the shards: read when listing, unparked from. */
    private static final String LEGACY_INDEX = "p-index";
    static final int SHARDS = 64;
    private static final String MEMBERS = "parkedGroups";

    private final DynamoDbClient client;
    private final String table;
    private final String keyName;
    private final int shards;
    private final java.util.function.Consumer<software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration.Builder> bounds;
    private final java.util.concurrent.atomic.LongAdder unlisted = new java.util.concurrent.atomic.LongAdder();

    /** {@code shards}: a test's, to fill one; {@code bounds}: the ledger's, for each call ({@link CallBounds}). */
    DynamoDbParkedGroups(DynamoDbClient client, String table, String keyName, int shards,
            java.util.function.Consumer<software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration.Builder> bounds) {
        this.client = client;
        this.bounds = bounds;
        this.table = table;
        this.keyName = keyName;
        this.shards = shards;
    }

    private String shardOf(String key) {
        return LEGACY_INDEX + ":" + Math.floorMod(key.hashCode(), shards);
    }

    /** Groups parked without a place in the index (their shard was full) since this ledger was made. */
    long unlisted() {
        return unlisted.sum();
    }

    private static String itemKey(String source, String group) {
        return dev.ferry.domain.idempotency.LedgerKeys.bounded("p:" + source.length() + ":" + source + ":" + group);
    }

    Optional<ParkedGroup> get(String source, String group) {
        String key = itemKey(source, group);
        try {
            var item = client.getItem(b -> b.overrideConfiguration(bounds).tableName(table).key(Map.of(keyName, s(key)))
                    .consistentRead(true)).item();
            return item == null || item.isEmpty() ? Optional.empty() : Optional.of(decode(item));
        } catch (RuntimeException e) {
            throw failure("read", key, e);
        }
    }

    boolean replace(ParkedGroup expected, ParkedGroup next) {
        var of = next != null ? next : expected;
        String key = itemKey(of.source(), of.group());
        try {
            client.transactWriteItems(b -> b.overrideConfiguration(bounds).transactItems(writes(key, expected, next, true)));
            if (next == null) {
                forgetInLegacy(key);
            }
            return true;
        } catch (TransactionCanceledException e) {
            if (conflict(e)) {
                return false; // a condition that failed, or another transaction on the same item: someone changed it first
            }
            if (expected == null && next != null && indexFull(e)) {
                return parkUnlisted(key, next);
            }
            throw failure("write", key, e);
        } catch (software.amazon.awssdk.services.dynamodb.model.DynamoDbException e) {
            if (expected == null && next != null && tooLarge(e)) {
                return parkUnlisted(key, next); // refused whole, not per item: the group's own item is small
            }
            throw failure("write", key, e);
        } catch (RuntimeException e) {
            throw failure("write", key, e);
        }
    }

    private static boolean tooLarge(software.amazon.awssdk.services.dynamodb.model.DynamoDbException e) {
        var details = e.awsErrorDetails();
        return details != null && "ValidationException".equals(details.errorCode()) && details.errorMessage() != null
                && details.errorMessage().toLowerCase(java.util.Locale.ROOT).contains("size");
    }

    private static boolean conflict(TransactionCanceledException e) {
        return e.cancellationReasons().stream()
                .anyMatch(r -> "ConditionalCheckFailed".equals(r.code()) || "TransactionConflict".equals(r.code()));
    }

    /** The index item's write refused for its size (the group's own item is small and checked first). */
    private static boolean indexFull(TransactionCanceledException e) {
        var reasons = e.cancellationReasons();
        return reasons.size() == 2 && "ValidationError".equals(reasons.get(1).code())
                && !"ValidationError".equals(reasons.get(0).code());
    }

    /** Parks the group without its index entry: listed nowhere, but in force for every instance. */
    private boolean parkUnlisted(String key, ParkedGroup next) {
        try {
            client.transactWriteItems(b -> b.overrideConfiguration(bounds).transactItems(writes(key, null, next, false)));
        } catch (TransactionCanceledException e) {
            if (conflict(e)) {
                return false;
            }
            throw failure("write", key, e);
        } catch (RuntimeException e) {
            throw failure("write", key, e);
        }
        unlisted.increment();
        LOG.log(System.Logger.Level.WARNING, "DynamoDB ledger ''{0}'': its index item of parked groups {1} is full (400 KB); "
                + "group {2} of ''{3}'' is parked, for every instance, but `ferry groups list` does not show it — release it "
                + "by name: ferry groups release ''{2}'' --source ''{3}'' (its head: ''{4}'', for --skip-head --head)", table,
                shardOf(key), next.group(), next.source(), next.head());
        return true;
    }

    private List<TransactWriteItem> writes(String key, ParkedGroup expected, ParkedGroup next, boolean indexed) {
        var writes = new ArrayList<TransactWriteItem>(2);
        if (next != null) {
            var item = encode(next);
            item.put(keyName, s(key));
            writes.add(TransactWriteItem.builder().put(p -> {
                p.tableName(table).item(item);
                if (expected == null) {
                    p.conditionExpression("attribute_not_exists(#k)").expressionAttributeNames(Map.of("#k", keyName));
                } else {
                    p.conditionExpression("#v = :v").expressionAttributeNames(Map.of("#v", "version"))
                            .expressionAttributeValues(Map.of(":v", num(expected.version())));
                }
            }).build());
        } else {
            writes.add(TransactWriteItem.builder().delete(d -> d.tableName(table).key(Map.of(keyName, s(key)))
                    .conditionExpression("#v = :v").expressionAttributeNames(Map.of("#v", "version"))
                    .expressionAttributeValues(Map.of(":v", num(expected.version())))).build());
        }
        if (indexed && (expected == null || next == null)) {
            var members = Map.of(":m", AttributeValue.fromSs(List.of(key)));
            writes.add(TransactWriteItem.builder().update(u -> u.tableName(table).key(Map.of(keyName, s(shardOf(key))))
                    .updateExpression((next != null ? "ADD" : "DELETE") + " #m :m")
                    .expressionAttributeNames(Map.of("#m", MEMBERS)).expressionAttributeValues(members)).build());
        }
        return writes;
    }

    /**
     * Whether the index of earlier versions ({@code p-index}) may still name groups: until a listing or an
     * unpark finds it empty. Only then is it written: every unpark writing that one item made them all
     * contend for it again (and made it, empty, on a table that never had it).
     */
    private volatile boolean legacyMayHold = true;

    /**
     * After an unpark, the group's name out of the earlier versions' index too, if it may be there: outside the
     * transaction, and a failure only logged — a name whose group's item is gone is listed nowhere.
     */
    private void forgetInLegacy(String key) {
        if (!legacyMayHold) {
            return;
        }
        try {
            var left = client.updateItem(u -> u.overrideConfiguration(bounds).tableName(table).key(Map.of(keyName, s(LEGACY_INDEX)))
                    .updateExpression("DELETE #m :m").conditionExpression("attribute_exists(#m)")
                    .expressionAttributeNames(Map.of("#m", MEMBERS))
                    .expressionAttributeValues(Map.of(":m", AttributeValue.fromSs(List.of(key))))
                    .returnValues(software.amazon.awssdk.services.dynamodb.model.ReturnValue.UPDATED_NEW)).attributes();
            legacyMayHold = left != null && left.containsKey(MEMBERS);
        } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException none) {
            legacyMayHold = false;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "unparking {0} from the index of earlier versions failed: {1}", key, e);
        }
    }

    List<ParkedGroup> all() {
        return some(Integer.MAX_VALUE).groups();
    }

    /** The index read whole (its items, not the groups'), counted; then at most {@code limit} groups' items. */
    dev.ferry.domain.parking.ParkedGroupListing some(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        try {
            var indexes = new ArrayList<String>(shards + 1);
            indexes.add(LEGACY_INDEX);
            for (int shard = 0; shard < shards; shard++) {
                indexes.add(LEGACY_INDEX + ":" + shard);
            }
            var items = batchGet(indexes);
            legacyMayHold = items.stream().anyMatch(item -> LEGACY_INDEX.equals(item.get(keyName).s()) && item.containsKey(MEMBERS));
            var keys = new ArrayList<>(new java.util.LinkedHashSet<>(items.stream()
                    .filter(item -> item.containsKey(MEMBERS)).flatMap(item -> item.get(MEMBERS).ss().stream()).toList()));
            var read = batchGet(keys.size() <= limit ? keys : keys.subList(0, limit)).stream()
                    .map(DynamoDbParkedGroups::decode).toList();
            // a group unparked between the two reads is gone from the second: counted as what is left
            return new dev.ferry.domain.parking.ParkedGroupListing(read, Math.max(read.size(),
                    keys.size() - (long) (Math.min(keys.size(), limit) - read.size())));
        } catch (RuntimeException e) {
            throw failure("list", LEGACY_INDEX, e);
        }
    }

    /** The items of {@code keys} that exist, read consistently, 100 a call (and what a call left unread, again). */
    private List<Map<String, AttributeValue>> batchGet(List<String> keys) {
        var found = new ArrayList<Map<String, AttributeValue>>(keys.size());
        for (int from = 0; from < keys.size(); from += 100) {
            var chunk = keys.subList(from, Math.min(keys.size(), from + 100)).stream().map(k -> Map.of(keyName, s(k))).toList();
            Map<String, KeysAndAttributes> request = Map.of(table, KeysAndAttributes.builder().keys(chunk).consistentRead(true).build());
            while (request != null && !request.isEmpty()) {
                var requested = request;
                var answer = client.batchGetItem(b -> b.overrideConfiguration(bounds).requestItems(requested));
                found.addAll(answer.responses().getOrDefault(table, List.of()));
                request = answer.unprocessedKeys();
            }
        }
        return found;
    }

    private static Map<String, AttributeValue> encode(ParkedGroup p) {
        var item = new HashMap<String, AttributeValue>();
        item.put("source", s(p.source()));
        item.put("group", s(p.group()));
        item.put("head", s(p.head()));
        if (p.headMessageId() != null) {
            item.put("headMessageId", s(p.headMessageId()));
        }
        item.put("reason", s(p.reason()));
        item.put("since", num(p.since().toEpochMilli()));
        item.put("lastParked", num(p.lastParked().toEpochMilli()));
        item.put("parked", num(p.parked()));
        item.put("moved", num(p.moved()));
        if (p.releaseToken() != null) {
            item.put("releaseToken", s(p.releaseToken()));
        }
        item.put("redriven", num(p.redriven()));
        item.put("passed", num(p.passed()));
        item.put("closing", AttributeValue.fromBool(p.closing()));
        item.put("version", num(p.version()));
        return item;
    }

    private static ParkedGroup decode(Map<String, AttributeValue> item) {
        return new ParkedGroup(item.get("source").s(), item.get("group").s(), item.get("head").s(),
                item.containsKey("headMessageId") ? item.get("headMessageId").s() : null, item.get("reason").s(),
                Instant.ofEpochMilli(n(item, "since")),
                Instant.ofEpochMilli(item.containsKey("lastParked") ? n(item, "lastParked") : n(item, "since")),
                n(item, "parked"), n(item, "moved"),
                item.containsKey("releaseToken") ? item.get("releaseToken").s() : null, n(item, "redriven"),
                n(item, "passed"), item.get("closing").bool(), n(item, "version"));
    }

    private static long n(Map<String, AttributeValue> item, String name) {
        return Long.parseLong(item.get(name).n());
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue num(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }

    private FerryException failure(String operation, String key, RuntimeException e) {
        boolean retryable = !(e instanceof software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException);
        return new FerryException("DynamoDB ledger '" + table + "': parked group " + operation + " of " + key + " failed: "
                + e.getMessage(), e, retryable);
    }
}
