package dev.ferry.adapters.http;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;

/**
 * The deduplication ids of a batch's events sent with an {@code Idempotency-Key}: the key, then what
 * the event says — not where it stands in the request. A client that sends the events answered
 * {@code retry} again under the same key, alone or in another order, sends each under the id it had:
 * one that was done is dropped as a duplicate, one that was not is handled. By position, the first
 * of them would have taken the id of the batch's first event, been found done, and been dropped
 * unhandled while the answer said done. Two equal events in one request are refused: sent again
 * alone, the second could not be told from the first (by their count, it took the first's id, was
 * found done and dropped).
 */
final class BatchItemIds {

    /** Hex digits of the content's SHA-256 kept in an id: 96 bits, no collision in practice. */
    private static final int DIGEST_BYTES = 12;

    private BatchItemIds() {
    }

    /**
     * The deduplication ids of a request's events; null when it has none (no key, unsigned). With an
     * {@code Idempotency-Key} ({@code key}, null when absent or blank): the key for a single event, by
     * content for a batch ({@link #of}); signed without one, its signature ({@code mac}) stands for the
     * key and a batch's events are named by their place (a replay is the same body, byte for byte). An
     * empty key is none — taken for a key, every client's empty-key requests shared one id space (a later
     * equal batch answered done, unhandled), and a signed batch replayed with an empty key added was a new id.
     *
     * @throws IllegalArgumentException naming two equal events of a batch under a key
     */
    static String[] ofRequest(String key, byte[] mac, JsonItems.Split.Items items) {
        String idempotencyKey = key != null || mac == null ? key : "hmac:" + HexFormat.of().formatHex(mac, 0, 16);
        if (idempotencyKey == null) {
            return null;
        }
        return !items.batch() ? new String[] {idempotencyKey}
                : key != null ? of(idempotencyKey, items.items())
                : byPlace(idempotencyKey, items.items().size());
    }

    /**
     * {@code key#<digest of the item>} for each item.
     *
     * @throws IllegalArgumentException naming the first two equal items, when there are any
     */
    static String[] of(String key, List<byte[]> items) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        var ids = new String[items.size()];
        var seen = new HashMap<String, Integer>();
        for (int i = 0; i < ids.length; i++) {
            String digest = HexFormat.of().formatHex(sha256.digest(items.get(i)), 0, DIGEST_BYTES);
            Integer first = seen.putIfAbsent(digest, i);
            if (first != null) {
                throw new IllegalArgumentException("events " + first + " and " + i + " are identical: under one "
                        + "Idempotency-Key, identical events cannot be told apart when one is sent again; make them "
                        + "differ (an id of their own) or send them in separate requests. Nothing was handled");
            }
            ids[i] = key + "#" + digest;
        }
        return ids;
    }

    /**
     * {@code id#<place>} for each of {@code count} items: for a signed request without a key, whose id is
     * its signature — only a replay of the very same body has it, so each item's place names it, and equal
     * items are not refused as they are under a key the client chose.
     */
    static String[] byPlace(String id, int count) {
        var ids = new String[count];
        for (int i = 0; i < count; i++) {
            ids[i] = id + "#" + i;
        }
        return ids;
    }
}
