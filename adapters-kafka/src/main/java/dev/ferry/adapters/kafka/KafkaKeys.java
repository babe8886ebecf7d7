package dev.ferry.adapters.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A record's key as a group key and back. A key of UTF-8 text is that text; any other key (an Avro or
 * a long key, bytes that are not UTF-8) is {@code b64:} and its bytes in Base64 — decoded leniently,
 * two such keys became one ({@code 80 01} and {@code 82 01} both {@code "\uFFFD\u0001"}): their records
 * were ordered as one key, a poison one parked the other, and a sink wrote both under one key (a
 * compacted topic then kept only the last). Text that itself begins {@code b64:} is written the same way,
 * so the two never meet.
 */
final class KafkaKeys {

    static final String BINARY = "b64:";

    private KafkaKeys() {
    }

    /** The key as a group key; null for none. */
    static String text(byte[] key) {
        if (key == null) {
            return null;
        }
        if (ascii(key)) { // most keys: no decoder to make
            var text = new String(key, StandardCharsets.US_ASCII);
            return text.startsWith(BINARY) ? BINARY + Base64.getEncoder().encodeToString(key) : text;
        }
        try {
            var text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(key)).toString();
            if (!text.startsWith(BINARY)) {
                return text;
            }
        } catch (CharacterCodingException notText) {
            // below
        }
        return BINARY + Base64.getEncoder().encodeToString(key);
    }

    private static boolean ascii(byte[] key) {
        for (byte b : key) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    /** The bytes of a group key {@link #text} made (any other text as UTF-8); null for none. */
    static byte[] bytes(String groupKey) {
        if (groupKey == null) {
            return null;
        }
        if (groupKey.startsWith(BINARY)) {
            try {
                var key = Base64.getDecoder().decode(groupKey.substring(BINARY.length()));
                if (groupKey.equals(text(key))) {
                    return key;
                }
                // not what text() makes of any key: a group key from elsewhere (an SQS group, an HTTP header) that only
                // looks like ours — decoded, "b64:QQ==" and "A" became one record key, one tenant's value compacting away
                // the other's
            } catch (IllegalArgumentException notOurs) {
                // the same, not even Base64: its text
            }
        }
        return textBytes(groupKey);
    }

    /** {@code text} in UTF-8, half a surrogate pair in the bytes it would have were it a character (not '?'). */
    static byte[] textBytes(String text) {
        if (!dev.ferry.domain.idempotency.LedgerKeys.wellFormed(text)) {
            return withLoneSurrogates(text);
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A key holding half a surrogate pair (a JSON {@code "\uD800"} a decoder grouped by): each half in
     * the three bytes UTF-8 would give it were it a character. UTF-8 proper turns every such half into
     * {@code ?}, and two keys that differ only there became one record key (compaction kept one of them).
     */
    private static byte[] withLoneSurrogates(String key) {
        var out = new java.io.ByteArrayOutputStream(key.length() * 3);
        for (int i = 0; i < key.length(); ) {
            int c = key.codePointAt(i);
            i += Character.charCount(c);
            if (Character.isSurrogate((char) c) && Character.charCount(c) == 1) {
                out.write(0xE0 | (c >> 12));
                out.write(0x80 | ((c >> 6) & 0x3F));
                out.write(0x80 | (c & 0x3F));
            } else {
                out.writeBytes(new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
