package dev.ferry.domain.memory;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;

/**
 * SQS's deduplication window: a deduplication id sent again within it is swallowed, answered with
 * the first message's id. Guarded by the queue's lock; expired ids are dropped as it grows.
 */
final class DeduplicationWindow {

    private record Seen(String messageId, Instant until) {
    }

    private final Duration window;
    /** In the order remembered, which is the order their windows end (one window for all): expired ones are at the head. */
    private final LinkedHashMap<String, Seen> seen = new LinkedHashMap<>();

    DeduplicationWindow(Duration window) {
        this.window = window;
    }

    /** The id of the message first sent with {@code deduplicationId}, while its window lasts; else null. */
    String earlier(String deduplicationId, Instant now) {
        var s = seen.get(deduplicationId);
        return s != null && s.until().isAfter(now) ? s.messageId() : null;
    }

    /**
     * Remembers an id sent now. Expired ids are dropped from the head, each once: a sweep of the whole map
     * whenever it held many made every send under the queue's lock cost the window's size.
     */
    void remember(String deduplicationId, String messageId, Instant now) {
        seen.remove(deduplicationId); // an expired one sent again goes to the end, with its new window
        seen.put(deduplicationId, new Seen(messageId, now.plus(window)));
        for (var it = seen.values().iterator(); it.hasNext(); ) {
            if (it.next().until().isAfter(now)) {
                break; // a clock set back leaves later ones for later: earlier() checks each one's window itself
            }
            it.remove();
        }
    }

    int size() {
        return seen.size();
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
