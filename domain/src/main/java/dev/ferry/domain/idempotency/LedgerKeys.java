package dev.ferry.domain.idempotency;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The keys Ferry writes to an {@link IdempotencyLedger}, made so that they cannot collide by
 * accident and every ledger accepts them.
 *
 * <ul>
 *   <li>An event's key lives in its <em>scope</em>: by default the source it came from, so id
 *       1001 of {@code orders} and id 1001 of {@code refunds} are two events. Sources that really
 *       carry the same events share a scope; identities unique by nature (an S3 sequencer, an MTurk
 *       EventDocId) can use {@link #SHARED}.</li>
 *   <li>A per-sink mark ("this event reached sink X") has a key space of its own: no event id,
 *       whatever its characters, can equal a mark.</li>
 *   <li>Each part is written with its length, so no choice of characters in a scope, an id or a
 *       sink name makes two different triples look alike.</li>
 *   <li>A key longer than {@link #MAX_LENGTH} UTF-8 bytes is replaced by the SHA-256 of the whole,
 *       so a 256 KiB JSON id still fits DynamoDB's 2 KiB key.</li>
 * </ul>
 * Pure functions; thread-safe.
 */
public final class LedgerKeys {

    /** The scope shared by every source. */
    public static final String SHARED = "";

    /** The longest key written as it is, in UTF-8 bytes; longer ones are hashed. */
    public static final int MAX_LENGTH = 1024;

    private LedgerKeys() {
    }

    /** The ledger key of an event with key {@code eventKey} in {@code scope}. */
    public static String event(String scope, String eventKey) {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(eventKey, "eventKey");
        return bounded("e:" + scope.length() + ':' + scope + ':' + eventKey);
    }

    /** The ledger key that marks an event of {@code scope} as written to {@code sink}. */
    public static String target(String scope, String eventKey, String sink) {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(eventKey, "eventKey");
        Objects.requireNonNull(sink, "sink");
        return bounded("t:" + scope.length() + ':' + scope + ':' + eventKey.length() + ':' + eventKey + ':' + sink);
    }

    /** {@code key}, or when it is longer than a store takes, its start and a hash of the whole (same key, same result). */
    public static String bounded(String key) {
        if (key.length() * 3 <= MAX_LENGTH) {
            return key; // short enough in any encoding: the common case, without counting bytes
        }
        var bytes = key.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_LENGTH) {
            return key;
        }
        try {
            return "h:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
