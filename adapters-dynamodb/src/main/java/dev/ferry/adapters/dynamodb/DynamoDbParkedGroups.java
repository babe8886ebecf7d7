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
 * and one index item whose string set names them all, so listing them reads two items, not the
 * table. Every change is a transaction of the group's item (conditional on its version) and, when
 * a group is parked or unparked, the index: the two never disagree.
 */
final class DynamoDbParkedGroups {

    private static final String INDEX = "p-index";
    private static final String MEMBERS = "parkedGroups";

    private final DynamoDbClient client;
    private final String table;
    private final String keyName;

    DynamoDbParkedGroups(DynamoDbClient client, String table, String keyName) {
        this.client = client;
        this.table = table;
        this.keyName = keyName;
    }

    private static String itemKey(String source, String group) {
        return dev.ferry.domain.idempotency.LedgerKeys.bounded("p:" + source.length() + ":" + source + ":" + group);
    }

    Optional<ParkedGroup> get(String source, String group) {
        String key = itemKey(source, group);
        try {
            var item = client.getItem(b -> b.tableName(table).key(Map.of(keyName, s(key))).consistentRead(true)).item();
            return item == null || item.isEmpty() ? Optional.empty() : Optional.of(decode(item));
        } catch (RuntimeException e) {
            throw failure("read", key, e);
        }
    }

    boolean replace(ParkedGroup expected, ParkedGroup next) {
        var of = next != null ? next : expected;
        String key = itemKey(of.source(), of.group());
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
        if (expected == null || next == null) {
            var members = Map.of(":m", AttributeValue.fromSs(List.of(key)));
            writes.add(TransactWriteItem.builder().update(u -> u.tableName(table).key(Map.of(keyName, s(INDEX)))
                    .updateExpression((expected == null ? "ADD" : "DELETE") + " #m :m")
                    .expressionAttributeNames(Map.of("#m", MEMBERS)).expressionAttributeValues(members)).build());
        }
        try {
            client.transactWriteItems(b -> b.transactItems(writes));
            return true;
        } catch (TransactionCanceledException e) {
            // a condition that failed, or another transaction on the same item: someone changed it first, try again
            boolean conditionFailed = e.cancellationReasons().stream()
                    .anyMatch(r -> "ConditionalCheckFailed".equals(r.code()) || "TransactionConflict".equals(r.code()));
            if (conditionFailed) {
                return false;
            }
            throw failure("write", key, e);
        } catch (RuntimeException e) {
            throw failure("write", key, e);
        }
    }

    List<ParkedGroup> all() {
        try {
            var index = client.getItem(b -> b.tableName(table).key(Map.of(keyName, s(INDEX))).consistentRead(true)).item();
            if (index == null || !index.containsKey(MEMBERS)) {
                return List.of();
            }
            var keys = index.get(MEMBERS).ss();
            var found = new ArrayList<ParkedGroup>(keys.size());
            for (int from = 0; from < keys.size(); from += 100) {
                var chunk = keys.subList(from, Math.min(keys.size(), from + 100)).stream()
                        .map(k -> Map.of(keyName, s(k))).toList();
                Map<String, KeysAndAttributes> request = Map.of(table, KeysAndAttributes.builder().keys(chunk)
                        .consistentRead(true).build());
                while (request != null && !request.isEmpty()) {
                    var requested = request;
                    var answer = client.batchGetItem(b -> b.requestItems(requested));
                    answer.responses().getOrDefault(table, List.of()).forEach(item -> found.add(decode(item)));
                    request = answer.unprocessedKeys();
                }
            }
            return found;
        } catch (RuntimeException e) {
            throw failure("list", INDEX, e);
        }
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
