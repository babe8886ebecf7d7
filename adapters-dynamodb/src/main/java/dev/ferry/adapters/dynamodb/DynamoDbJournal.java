package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.idempotency.EventJournal.Journal;
import dev.ferry.domain.idempotency.EventJournal.Note;
import dev.ferry.domain.model.FerryException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * {@link DynamoDbLedger}'s event journal, in the ledger's own table: an item per journal (key
 * {@code j:} + the ledger or message key), each note one {@code UpdateItem} that adds to its
 * counts and sets its times, so notes from many instances add up without a read. Kept a week after
 * the last note by the table's TTL.
 */
final class DynamoDbJournal {

    static final Duration KEPT = Duration.ofDays(7);

    private final DynamoDbClient client;
    private final String table;
    private final String keyName;
    private final String ttlName;
    private final java.util.function.Consumer<software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration.Builder> bounds;

    DynamoDbJournal(DynamoDbClient client, String table, String keyName, String ttlName,
            java.util.function.Consumer<software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration.Builder> bounds) {
        this.client = client;
        this.bounds = bounds;
        this.table = table;
        this.keyName = keyName;
        this.ttlName = ttlName;
    }

    void note(String key, Note note) {
        var names = new HashMap<String, String>(Map.of("#ttl", ttlName));
        var values = new HashMap<String, AttributeValue>();
        values.put(":at", num(note.at().toEpochMilli()));
        values.put(":ttl", num(note.at().plus(KEPT).getEpochSecond()));
        var set = new StringBuilder("#ttl = :ttl");
        if (note.messageId() != null) {
            set.append(", messageId = :m");
            values.put(":m", s(note.messageId()));
        }
        if (note.eventKey() != null) {
            set.append(", eventKey = :k");
            values.put(":k", s(note.eventKey()));
        }
        String add;
        switch (note) {
            case Note.Failed f -> {
                set.append(", firstFailure = if_not_exists(firstFailure, :at), lastFailure = :at, lastReason = :r");
                values.put(":r", s(f.reason()));
                add = " ADD failures :one";
            }
            case Note.Duplicate d -> {
                set.append(", lastDuplicate = :at");
                add = " ADD duplicates :one";
            }
            case Note.DeadLettered x -> {
                set.append(", deadLetteredAt = :at, deadLetterReason = :r");
                values.put(":r", s(x.reason()));
                add = "";
            }
        }
        if (!add.isEmpty()) {
            values.put(":one", num(1));
        }
        String expression = "SET " + set + add;
        try {
            client.updateItem(b -> b.overrideConfiguration(bounds).tableName(table).key(Map.of(keyName, s("j:" + key)))
                    .updateExpression(expression)
                    .expressionAttributeNames(names).expressionAttributeValues(values));
        } catch (RuntimeException e) {
            throw new FerryException("DynamoDB ledger '" + table + "': journal note of " + key + " failed: " + e.getMessage(),
                    e, true);
        }
    }

    Optional<Journal> journal(String key) {
        Map<String, AttributeValue> item;
        try {
            item = client.getItem(b -> b.overrideConfiguration(bounds).tableName(table).key(Map.of(keyName, s("j:" + key)))
                    .consistentRead(true)).item();
        } catch (RuntimeException e) {
            throw new FerryException("DynamoDB ledger '" + table + "': journal read of " + key + " failed: " + e.getMessage(),
                    e, true);
        }
        if (item == null || item.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Journal(n(item, "failures"), at(item, "firstFailure"), at(item, "lastFailure"),
                str(item, "lastReason"), n(item, "duplicates"), at(item, "lastDuplicate"), str(item, "deadLetterReason"),
                at(item, "deadLetteredAt"), str(item, "messageId"), str(item, "eventKey")));
    }

    private static long n(Map<String, AttributeValue> item, String name) {
        var v = item.get(name);
        return v == null ? 0 : Long.parseLong(v.n());
    }

    private static Instant at(Map<String, AttributeValue> item, String name) {
        var v = item.get(name);
        return v == null ? null : Instant.ofEpochMilli(Long.parseLong(v.n()));
    }

    private static String str(Map<String, AttributeValue> item, String name) {
        var v = item.get(name);
        return v == null ? null : v.s();
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue num(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }
}
