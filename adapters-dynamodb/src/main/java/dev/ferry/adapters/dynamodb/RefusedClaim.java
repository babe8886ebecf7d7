package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.idempotency.Claim;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * What a claim whose condition failed answers, from the item it found; and the nonce by which a claim knows its own
 * write there. Each claim call writes a nonce of its own with the item (a completion's and a release's call too, for
 * {@link OwnWrite}; read here only while the item is in progress, a claim's). The SDK sends a call again when its answer is
 * lost (a read timeout, a connection dropped after DynamoDB wrote): the write had landed, the call sent again found the
 * key held, by itself, and answered InProgress. The event then waited out its own claim's lease, and a receive limit's
 * decoding mark dead-lettered its message "not decoded", never handled. The nonce is made once per call, before its
 * request is built: every attempt the SDK makes of that request sends the same one. An item without one (written
 * before, or by an older Ferry) is nobody's.
 */
final class RefusedClaim {

    /** The item's attribute: one name, as the layout stamp's, not among {@link DynamoDbLedger.Names}. */
    static final String NONCE = "claimNonce";

    private RefusedClaim() {
    }

    /** A claim call's own nonce: 122 random bits, no two calls' alike. */
    static String nonce() {
        return UUID.randomUUID().toString();
    }

    /**
     * The answer to the claim of {@code key} that sent {@code nonce} for a lease until {@code leaseUntil}, refused at
     * {@code now} on {@code item} (as DynamoDB returned it, or read after). Its own write (the nonce, in progress until
     * the lease it asked for) is Acquired, at the item's token. The lease is matched too: an older Ferry's claim, taken
     * once this one's lease ran out, leaves the nonce as it was.
     */
    static Claim of(String key, Map<String, AttributeValue> item, String nonce, long leaseUntil, long now,
                    DynamoDbLedger.Names n) {
        if (item == null || item.isEmpty() || DynamoDbLedger.RELEASED.equals(item.get(n.state()).s())) {
            // gone or released between the write and the read: claimable now; let the caller try again
            return new Claim.InProgress(key, Instant.ofEpochMilli(now));
        }
        if (DynamoDbLedger.COMPLETED.equals(item.get(n.state()).s())) {
            return new Claim.Completed(key, Instant.ofEpochMilli(Long.parseLong(item.get(n.completedAt()).n())));
        }
        long until = Long.parseLong(item.get(n.leaseUntil()).n());
        var written = item.get(NONCE);
        if (written != null && nonce.equals(written.s()) && until == leaseUntil
                && DynamoDbLedger.IN_PROGRESS.equals(item.get(n.state()).s()) && item.get(n.token()) != null) {
            return new Claim.Acquired(key, Long.parseLong(item.get(n.token()).n()), Instant.ofEpochMilli(until));
        }
        return new Claim.InProgress(key, Instant.ofEpochMilli(until));
    }
}
