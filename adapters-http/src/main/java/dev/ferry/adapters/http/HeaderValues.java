package dev.ferry.adapters.http;

import dev.ferry.domain.idempotency.LedgerKeys;
import java.nio.charset.StandardCharsets;

/**
 * Carries any string in an HTTP header value. Event keys come from outside (an S3 object key is
 * URL-decoded, so {@code 文件.pdf} or a newline arrive as they are), and the JDK client refuses a
 * value with characters above Latin-1 or control characters: without this the request could never
 * be built and the message would burn its attempts on a failure no retry can cure.
 *
 * <p>The scheme ({@code X-Ferry-Header-Encoding: percent}): a value of visible ASCII and inner
 * spaces is sent as it is; any other value is sent as the percent-encoded bytes of its UTF-8 form,
 * where only visible ASCII other than {@code %} and {@code +} stays as it is, so any
 * percent-decoder ({@code decodeURIComponent}, {@code urllib.parse.unquote}, {@code URLDecoder})
 * gives the original back.
 */
final class HeaderValues {

    /** Sent, with the value {@link #PERCENT}, when the event's headers are percent-encoded. */
    static final String ENCODING_HEADER = "X-Ferry-Header-Encoding";
    static final String PERCENT = "percent";

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private HeaderValues() {
    }

    /**
     * True when {@code value} cannot go out as it is: characters outside printable ASCII, or a
     * space at either end (which servers strip as optional white space).
     */
    static boolean needsEncoding(String value) {
        if (value.isEmpty()) {
            return false;
        }
        if (value.charAt(0) == ' ' || value.charAt(value.length() - 1) == ' ') {
            return true;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when an {@code Idempotency-Key} must go encoded: it {@link #needsEncoding needs it}, or it holds a
     * {@code %XX} that an encoded key could hold too — {@code "%C3%BC-1"} sent as it is and {@code "ü-1"} sent
     * encoded were one key to every receiver, which dropped the second event as a duplicate of the first. An
     * encoded key holds such a sequence, so a key sent as it is never does; the sink's own form without one
     * ({@code ferry-sha256:}) is kept apart by {@link #boundedKey}.
     */
    static boolean keyNeedsEncoding(String key) {
        if (needsEncoding(key)) {
            return true;
        }
        for (int i = key.indexOf('%'); i >= 0 && i + 2 < key.length(); i = key.indexOf('%', i + 1)) {
            if (upperHex(key.charAt(i + 1)) && upperHex(key.charAt(i + 2))) {
                return true;
            }
        }
        return false;
    }

    private static boolean upperHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }

    /** The longest {@code Idempotency-Key} sent as it is: what Ferry's own ingest (and many servers) take. */
    static final int MAX_KEY_CHARS = 1024;

    /**
     * {@code header}, the key as it would go (encoded or not), or the sink's own form, {@link #OWN_PREFIX} and the
     * hex SHA-256 of the key: when longer than {@link #MAX_KEY_CHARS} (a long id, or an S3 key of a hundred CJK
     * characters, nine characters each encoded, was refused with a 400 by every receiver that bounds its headers,
     * and dead-lettered for it), and when it holds half a surrogate pair (no UTF-8 form). One value per key.
     *
     * <p>A key whose text is that form itself ({@link #OWN_FORM}) is hashed too, so no key sent as it is equals
     * another's hash. The prefix is the sink's own, not a natural one: as {@code u:} and {@code sha256:}, the forms
     * before it, a key such as an image digest ({@code sha256:} and 64 hex) had to be hashed to stay apart.
     */
    static String boundedKey(String key, String header) {
        boolean wellFormed = LedgerKeys.wellFormed(key);
        if (header.length() <= MAX_KEY_CHARS && wellFormed && !OWN_FORM.matcher(key).matches()) {
            return header;
        }
        try {
            var digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((wellFormed ? key : LedgerKeys.bounded(key)).getBytes(StandardCharsets.UTF_8));
            return OWN_PREFIX + java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * An event type's header, cut to {@link #MAX_KEY_CHARS} (never inside a {@code %XX}): a type is not bounded by the
     * decoders (a JSON pointer's, S3's eventName), and 45,000 CJK characters, 405 KB encoded, passed the JDK server's
     * header limit — it closed the connection unanswered, and the event waited out a whole outage-patience for it.
     */
    static String boundedType(String header) {
        if (header.length() <= MAX_KEY_CHARS) {
            return header;
        }
        int end = MAX_KEY_CHARS;
        int percent = header.lastIndexOf('%', end - 1);
        if (percent >= 0 && percent > end - 3) {
            end = percent; // not inside an escape
        }
        int lead = end; // nor inside a character's UTF-8 bytes: back to the lead byte of the last one, kept if whole
        while (escapedByte(header, lead - 3) >= 0x80 && escapedByte(header, lead - 3) < 0xC0) {
            lead -= 3;
        }
        int first = escapedByte(header, lead - 3);
        if (first >= 0xC0) {
            int length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2;
            if ((end - (lead - 3)) / 3 < length) {
                end = lead - 3;
            }
        }
        return header.substring(0, end);
    }

    /** The byte {@code %XX} at {@code at} stands for, or -1 when there is none there. */
    private static int escapedByte(String text, int at) {
        if (at < 0 || at + 3 > text.length() || text.charAt(at) != '%') {
            return -1;
        }
        int high = Character.digit(text.charAt(at + 1), 16);
        int low = Character.digit(text.charAt(at + 2), 16);
        return high < 0 || low < 0 ? -1 : high * 16 + low;
    }

    /** What the sink's own form of a key begins with. */
    static final String OWN_PREFIX = "ferry-sha256:";
    /** The sink's own form of a key ({@link #boundedKey}'s), which holds no {@code %XX}. */
    static final java.util.regex.Pattern OWN_FORM = java.util.regex.Pattern.compile("ferry-sha256:[0-9a-f]{64}");

    /**
     * The percent-encoded UTF-8 bytes of {@code value}. A value with a lone surrogate has no UTF-8 form
     * (String.getBytes writes {@code ?} for it, so {@code "a\uD800"}, {@code "a\uD801"} and {@code "a?"}
     * were one Idempotency-Key, and a deduplicating endpoint dropped all but the first): it goes as
     * {@code u:} and the SHA-256 of its UTF-16 code units instead, one value per key.
     */
    static String percentEncode(String value) {
        byte[] bytes = (LedgerKeys.wellFormed(value) ? value : LedgerKeys.bounded(value)).getBytes(StandardCharsets.UTF_8);
        var sb = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c > 0x20 && c < 0x7F && c != '%' && c != '+') {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return sb.toString();
    }
}
