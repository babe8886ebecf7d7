package dev.ferry.codecs;

import dev.ferry.codecs.JsonSupport.Failure;
import java.net.URLDecoder;
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

    /** S3 URL-encodes keys in notifications (a space arrives as '+'). */
    static String decode(String raw, int index) throws Failure {
        if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) {
            return raw;
        }
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Failure(JsonSupport.path("Records", index, "s3.object.key") + ": not a URL-encoded key: \""
                    + JsonSupport.clip(raw) + "\" (" + e.getMessage() + ")");
        }
    }
}
