package dev.ferry.codecs;

import dev.ferry.codecs.JsonSupport.Failure;
import java.nio.charset.StandardCharsets;

/** S3 object keys as notifications carry them: URL-encoded, a space as {@code +}. */
final class S3ObjectKeys {

    private S3ObjectKeys() {
    }

    /** The {@code objectKey} attribute read from its span: decoded, or as it stands when it is not valid URL encoding. */
    static final SpanMap.Value ATTRIBUTE = (b, start, end) -> keyOrRaw(JsonStrings.string(b, start, end));

    /** The key URL-decoded, or as it stands when it is not valid URL encoding (for attributes read later). */
    static String keyOrRaw(String raw) {
        try {
            return decode(raw, 0);
        } catch (Failure e) {
            return raw;
        }
    }

    /**
     * {@link #decode(String, int)} straight from the JSON content {@code [start, end)}: plain
     * ASCII with {@code +} and {@code %XX} of ASCII bytes is decoded here, without a String in
     * between; anything else (escapes, non-ASCII, bad encoding) the way URLDecoder does it.
     */
    static String decode(byte[] b, int start, int end, int index) throws Failure {
        byte[] out = null;
        int o = 0;
        for (int i = start; i < end; i++) {
            byte c = b[i];
            if (c < 0 || c == '\\') {
                return decode(JsonStrings.string(b, start, end), index);
            }
            if (c == '+' || c == '%') {
                if (out == null) {
                    out = new byte[end - start];
                    System.arraycopy(b, start, out, 0, i - start);
                    o = i - start;
                }
                if (c == '+') {
                    out[o++] = ' ';
                    continue;
                }
                int hi = i + 2 < end ? Scan.hex(b[i + 1]) : -1;
                int lo = hi >= 0 ? Scan.hex(b[i + 2]) : -1;
                if (lo < 0 || hi >= 8) {
                    return decode(JsonStrings.string(b, start, end), index);
                }
                out[o++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (out != null) {
                out[o++] = c;
            }
        }
        return out == null ? JsonStrings.string(b, start, end) : new String(out, 0, o, StandardCharsets.ISO_8859_1);
    }

    /**
     * S3 URL-encodes keys in notifications (a space arrives as '+'). Strictly: each {@code %} takes two
     * hex digits, and the bytes they make must be UTF-8. Decoded leniently (as {@code URLDecoder} does),
     * {@code %FF}, {@code %FE} and a real {@code %EF%BF%BD} were all one key (U+FFFD), and {@code %+1}
     * was {@code %01}: different objects, one event key.
     */
    static String decode(String raw, int index) throws Failure {
        if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) {
            return raw;
        }
        var bytes = new java.io.ByteArrayOutputStream(raw.length());
        var text = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (lo < 0 || !isHexDigit(raw.charAt(i + 1)) || !isHexDigit(raw.charAt(i + 2))) {
                    throw notEncoded(raw, index, "'%' not followed by two hex digits at " + i);
                }
                bytes.write(hi << 4 | lo);
                i += 2;
                continue;
            }
            flush(bytes, text, raw, index);
            text.append(c == '+' ? ' ' : c);
        }
        flush(bytes, text, raw, index);
        return text.toString();
    }

    private static boolean isHexDigit(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    /** The percent-encoded bytes gathered so far, as UTF-8 text (refused when they are not). */
    private static void flush(java.io.ByteArrayOutputStream bytes, StringBuilder text, String raw, int index) throws Failure {
        if (bytes.size() == 0) {
            return;
        }
        try {
            text.append(StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes.toByteArray())));
        } catch (java.nio.charset.CharacterCodingException e) {
            throw notEncoded(raw, index, "its %-encoded bytes are not UTF-8");
        }
        bytes.reset();
    }

    private static Failure notEncoded(String raw, int index, String why) {
        return new Failure(JsonSupport.path("Records", index, "s3.object.key") + ": not a URL-encoded key: \""
                + JsonSupport.clip(raw) + "\" (" + why + ")");
    }
}
