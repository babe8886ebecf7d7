package dev.ferry.codecs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A byte-level JSON scanner for the decoders' fast paths: it walks a UTF-8 body (already checked
 * by {@link JsonSupport#precheck}) without tokenizing what it skips and without making a
 * {@code String} of anything it does not keep. The members of an object are read by
 * {@link Members}; what a kept string's bytes mean, by {@link JsonStrings}.
 *
 * <p>It is strict where it must be and timid everywhere else: every value it skips is checked
 * against the JSON grammar, and whenever anything is unusual — a syntax error, an escaped field
 * name, a limit approached, a duplicate field — it answers {@link #BAIL} (a negative position) and
 * the decoder hands the body to its Jackson path, which decides and words the reason. So the fast
 * path never has to produce a {@code Malformed}, and it can never accept what Jackson refuses
 * ({@code FastPathEquivalenceTest} checks the two agree on every sample, corpus body and mutation).
 *
 * <p>Positions are indexes into the body; methods take the position to start at and return the
 * position after what they read, or {@code BAIL}.
 */
final class Scan {

    /** The answer that sends a body to the Jackson path. */
    static final int BAIL = -1;

    /** The fast paths read documents up to this deep themselves; with a lower limit, Jackson reads everything. */
    static final int LEAST_DEPTH = 8;

    /** What {@link #stringOrNull} answers for a JSON {@code null}. */
    static final int NULL_VALUE = -2;

    /** Containers deeper than this go to the Jackson path (which enforces and words the configured limit). */
    final int maxDepth;
    /** Longest string, in bytes, the fast path reads (the limit counts characters: bytes >= characters). */
    final int maxString;
    /** Longest number literal the fast path reads. */
    final int maxNumber;

    Scan(JsonLimits limits) {
        this.maxDepth = Math.min(48, limits.maxDepth() - 1);
        this.maxString = limits.maxStringLength();
        this.maxNumber = Math.min(40, limits.maxNumberLength());
    }

    /** The closing quote's position of the name starting at {@code p} (a quote), or BAIL (also for escapes). */
    int nameEnd(byte[] b, int p) {
        if (p >= b.length || b[p] != '"') {
            return BAIL;
        }
        int start = ++p;
        int n = b.length;
        while (p + 8 <= n) {
            long special = specials((long) LONGS.get(b, p));
            if (special != 0) {
                p += Long.numberOfTrailingZeros(special) >>> 3;
                break;
            }
            p += 8;
        }
        while (p < n) {
            byte c = b[p];
            if (c == '"') {
                return p - start > 1024 || p - start > maxString ? BAIL : p;
            }
            if (c == '\\' || (c >= 0 && c < 0x20)) {
                return BAIL; // an escaped name (rare): the Jackson path reads it
            }
            p++;
        }
        return BAIL;
    }

    /** At a value: the closing quote's position if it is a string, {@link #NULL_VALUE} for null, else BAIL. */
    int stringOrNull(byte[] b, int p) {
        if (b[p] == '"') {
            return stringEnd(b, p + 1, maxString);
        }
        return isNull(b, p) ? NULL_VALUE : BAIL;
    }

    /**
     * At a member's value that must be a string or null: a string's content span goes into
     * {@code spans[at]} and {@code spans[at + 1]} (null leaves them); the position after the value,
     * or BAIL for anything else.
     */
    int stringInto(byte[] b, int p, int[] spans, int at) {
        int q = stringOrNull(b, p);
        if (q == NULL_VALUE) {
            return p + 4;
        }
        if (q < 0) {
            return BAIL;
        }
        spans[at] = p + 1;
        spans[at + 1] = q;
        return q + 1;
    }

    /** The first non-whitespace position at or after {@code p} (may be {@code b.length}). */
    static int ws(byte[] b, int p) {
        while (p < b.length) {
            byte c = b[p];
            if (c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t')) {
                return p;
            }
            p++;
        }
        return p;
    }

    /** True when only whitespace follows {@code p}. */
    static boolean atEnd(byte[] b, int p) {
        return ws(b, p) == b.length;
    }

    /**
     * The position of the closing quote of the string whose content starts at {@code p}, checking
     * escapes and refusing raw control characters; BAIL when the string is not clean JSON or is
     * longer than {@code maxLength} bytes.
     */
    static int stringEnd(byte[] b, int p, int maxLength) {
        int start = p;
        int n = b.length;
        while (true) {
            if (p + 8 <= n) {
                // eight bytes at a time; land right on the first quote, backslash or control character
                long special = specials((long) LONGS.get(b, p));
                if (special == 0) {
                    p += 8;
                    continue;
                }
                p += Long.numberOfTrailingZeros(special) >>> 3;
            } else if (p >= n) {
                return BAIL;
            }
            byte c = b[p];
            if (c == '"') {
                return p - start > maxLength ? BAIL : p;
            }
            if (c == '\\') {
                if (p + 1 >= n) {
                    return BAIL;
                }
                switch (b[p + 1]) {
                    case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> p += 2;
                    case 'u' -> {
                        if (p + 5 >= n || hex(b[p + 2]) < 0 || hex(b[p + 3]) < 0 || hex(b[p + 4]) < 0 || hex(b[p + 5]) < 0) {
                            return BAIL;
                        }
                        p += 6;
                    }
                    default -> {
                        return BAIL;
                    }
                }
            } else if (c >= 0 && c < 0x20) {
                return BAIL;
            } else {
                p++;
            }
        }
    }

    /** Eight bytes of a body at once, little-endian (shared with {@link JsonStrings}). */
    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final long ONES = 0x0101010101010101L;
    static final long HIGHS = 0x8080808080808080L;

    /**
     * The high bit of each of the eight bytes (little-endian) that is '"', '\\' or below 0x20
     * (bytes >= 0x80 are fine); bits above the lowest may be false alarms, the lowest is exact.
     */
    private static long specials(long v) {
        long quote = v ^ (ONES * '"');
        long backslash = v ^ (ONES * '\\');
        return (((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | ((v - ONES * 0x20) & ~v)) & HIGHS;
    }

    static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** Skips one value starting at {@code p} (whitespace before it allowed); the position after it, or BAIL. */
    int skipValue(byte[] b, int p, int depth) {
        p = ws(b, p);
        if (p >= b.length) {
            return BAIL;
        }
        return switch (b[p]) {
            case '"' -> {
                int end = stringEnd(b, p + 1, maxString);
                yield end < 0 ? BAIL : end + 1;
            }
            case '{' -> skipObject(b, p, depth + 1);
            case '[' -> skipArray(b, p, depth + 1);
            case 't' -> literal(b, p, TRUE);
            case 'f' -> literal(b, p, FALSE);
            case 'n' -> literal(b, p, NULL);
            default -> numberEnd(b, p);
        };
    }

    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    /** The position after {@code word} at {@code p}, if it is there and not followed by a letter or digit. */
    static int literal(byte[] b, int p, byte[] word) {
        int end = p + word.length;
        if (end > b.length || !Arrays.equals(b, p, end, word, 0, word.length)) {
            return BAIL;
        }
        return end < b.length && isWordByte(b[end]) ? BAIL : end;
    }

    static boolean isNull(byte[] b, int p) {
        return literal(b, p, NULL) > 0;
    }

    private static boolean isWordByte(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
                || c == '-' || c == '+' || c < 0;
    }

    /** The position after the JSON number at {@code p} (full grammar, no leading zeros), or BAIL. */
    int numberEnd(byte[] b, int p) {
        int start = p;
        int n = b.length;
        if (p < n && b[p] == '-') {
            p++;
        }
        if (p >= n) {
            return BAIL;
        }
        if (b[p] == '0') {
            p++;
        } else if (b[p] >= '1' && b[p] <= '9') {
            while (p < n && b[p] >= '0' && b[p] <= '9') {
                p++;
            }
        } else {
            return BAIL;
        }
        if (p < n && b[p] == '.') {
            p++;
            int digits = p;
            while (p < n && b[p] >= '0' && b[p] <= '9') {
                p++;
            }
            if (p == digits) {
                return BAIL;
            }
        }
        if (p < n && (b[p] == 'e' || b[p] == 'E')) {
            p++;
            if (p < n && (b[p] == '+' || b[p] == '-')) {
                p++;
            }
            int digits = p;
            while (p < n && b[p] >= '0' && b[p] <= '9') {
                p++;
            }
            if (p == digits) {
                return BAIL;
            }
        }
        if (p - start > maxNumber || (p < n && isWordByte(b[p]))) {
            return BAIL;
        }
        return p;
    }

    /**
     * A whole number >= 0 without sign, fraction or exponent at {@code [p, end)}, or -1 (then the
     * Jackson path words the problem).
     */
    static long nonNegativeLong(byte[] b, int p, int end) {
        int digits = end - p;
        if (digits < 1 || digits > 18) {
            return -1;
        }
        long v = 0;
        for (int i = p; i < end; i++) {
            byte c = b[i];
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    int skipObject(byte[] b, int p, int depth) {
        if (depth > maxDepth) {
            return BAIL;
        }
        p = ws(b, p + 1);
        if (p < b.length && b[p] == '}') {
            return p + 1;
        }
        while (true) {
            if (p >= b.length || b[p] != '"') {
                return BAIL;
            }
            int nameEnd = stringEnd(b, p + 1, Math.min(maxString, 1024));
            if (nameEnd < 0) {
                return BAIL;
            }
            p = ws(b, nameEnd + 1);
            if (p >= b.length || b[p] != ':') {
                return BAIL;
            }
            p = skipValue(b, p + 1, depth);
            if (p < 0) {
                return BAIL;
            }
            p = ws(b, p);
            if (p >= b.length) {
                return BAIL;
            }
            if (b[p] == '}') {
                return p + 1;
            }
            if (b[p] != ',') {
                return BAIL;
            }
            p = ws(b, p + 1);
        }
    }

    int skipArray(byte[] b, int p, int depth) {
        if (depth > maxDepth) {
            return BAIL;
        }
        p = ws(b, p + 1);
        if (p < b.length && b[p] == ']') {
            return p + 1;
        }
        while (true) {
            p = skipValue(b, p, depth);
            if (p < 0) {
                return BAIL;
            }
            p = ws(b, p);
            if (p >= b.length) {
                return BAIL;
            }
            if (b[p] == ']') {
                return p + 1;
            }
            if (b[p] != ',') {
                return BAIL;
            }
            p++;
        }
    }

    /** True when the string content {@code [start, end)} is exactly {@code name} (ASCII, unescaped). */
    static boolean is(byte[] b, int start, int end, byte[] name) {
        if (end - start != name.length) {
            return false;
        }
        for (int i = 0; i < name.length; i++) {
            if (b[start + i] != name[i]) {
                return false;
            }
        }
        return true;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
