package dev.ferry.domain.memory;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;

/**
 * SQS's deduplication window: a deduplication id sent again within it is swallowed, answered with
 * the first message's id. Guarded by the queue's lock; expired ids are dropped as it grows.
 */
final class DeduplicationWindow {

    private record Seen(String messageId, Instant until) {
    }

    private final Duration window;
    private final HashMap<String, Seen> seen = new HashMap<>();

    DeduplicationWindow(Duration window) {
        this.window = window;
    }

    /** The id of the message first sent with {@code deduplicationId}, while its window lasts; else null. */
    String earlier(String deduplicationId, Instant now) {
        var s = seen.get(deduplicationId);
        return s != null && s.until().isAfter(now) ? s.messageId() : null;
    }

    void remember(String deduplicationId, String messageId, Instant now) {
        seen.put(deduplicationId, new Seen(messageId, now.plus(window)));
        if (seen.size() > 10_000) {
            seen.values().removeIf(v -> !v.until().isAfter(now));
        }
    }

    /** Content-based deduplication: the hex SHA-256 of the body. */
    static String sha256(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
