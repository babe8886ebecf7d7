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
        Objects.requireNonNull(eventKey, "eventKey");
        return bounded(eventPrefix(scope) + eventKey);
    }

    /**
     * What every {@link #event} key of {@code scope} begins with: a listener makes it once, not per event (the
     * length written as digits was a good part of each key's cost), and {@link #event(String, String)} of a key is
     * {@link #bounded}{@code (eventPrefix(scope) + eventKey)}.
     */
    public static String eventPrefix(String scope) {
        Objects.requireNonNull(scope, "scope");
        return "e:" + scope.length() + ':' + scope + ':';
    }

    /** The ledger key that marks an event of {@code scope} as written to {@code sink}. */
    public static String target(String scope, String eventKey, String sink) {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(eventKey, "eventKey");
        Objects.requireNonNull(sink, "sink");
        return bounded("t:" + scope.length() + ':' + scope + ':' + eventKey.length() + ':' + eventKey + ':' + sink);
    }

    /**
     * {@code key}, or a hash of it (same key, same result): when it is longer than a store takes, and
     * when it holds half of a UTF-16 surrogate pair, which is no character — UTF-8 (and so DynamoDB,
     * and the hash of a long key) writes it as {@code ?}, and two keys that differ only there became one
     * (the second event dropped as a duplicate of the first). Such a key is hashed over its UTF-16 code
     * units, under a prefix of its own.
     */
    public static String bounded(String key) {
        if (!wellFormed(key)) {
            var units = new byte[key.length() * 2]; // by hand: every charset encoder turns half a pair into '?' as well
            for (int i = 0; i < key.length(); i++) {
                units[2 * i] = (byte) (key.charAt(i) >> 8);
                units[2 * i + 1] = (byte) key.charAt(i);
            }
            return "u:" + sha256(units);
        }
        if (key.length() * 3 <= MAX_LENGTH) {
            return key; // short enough in any encoding: the common case, without counting bytes
        }
        var bytes = key.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_LENGTH) {
            return key;
        }
        return "h:" + sha256(bytes);
    }

    /**
     * Whether every surrogate of {@code key} is half of a pair (a loop over the chars, no allocation):
     * whether it has a UTF-8 form. One that has not is {@link #bounded} to a hash of its code units.
     */
    public static boolean wellFormed(String key) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < key.length() && Character.isLowSurrogate(key.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
