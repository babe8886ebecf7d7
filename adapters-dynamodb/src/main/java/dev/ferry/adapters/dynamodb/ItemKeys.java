package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.idempotency.LedgerKeys;
import java.nio.charset.StandardCharsets;

/**
 * A ledger key as an item's key: as it is, or its hash ({@link LedgerKeys#bounded}) when DynamoDB would refuse it (over
 * 2,048 bytes: every claim of a handler's own step keyed by a long Kafka key failed, its delivery held for good) or store
 * another (half a surrogate pair, stored as '?': two steps one, the second never run). Ferry's own keys are neither,
 * and a key DynamoDB took whole before is stored the same; one with half a pair, stored with '?' before, is looked for
 * under its hash now (such a step of a handler's own runs once more after the upgrade).
 */
final class ItemKeys {

    /** DynamoDB's largest partition key, in UTF-8 bytes. */
    static final int MAX_KEY_BYTES = 2_048;

    private ItemKeys() {
    }

    static String storable(String key) {
        boolean stored = LedgerKeys.wellFormed(key)
                && (key.length() * 3 <= MAX_KEY_BYTES || key.getBytes(StandardCharsets.UTF_8).length <= MAX_KEY_BYTES);
        return stored ? key : LedgerKeys.bounded(key);
    }
}
