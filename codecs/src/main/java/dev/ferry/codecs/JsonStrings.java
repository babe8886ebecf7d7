package dev.ferry.codecs;

import static dev.ferry.codecs.Scan.HIGHS;
import static dev.ferry.codecs.Scan.LONGS;
import static dev.ferry.codecs.Scan.ONES;
import static dev.ferry.codecs.Scan.hex;

import java.nio.charset.StandardCharsets;

/**
 * The text of JSON strings the fast paths keep: from a content span that {@link Scan#stringEnd}
 * checked to a {@code String} or to UTF-8 bytes, escapes resolved, eight bytes at a time where
 * there are none.
 */
final class JsonStrings {

    private JsonStrings() {
    }

    /** True when the content {@code [start, end)} has no escape (then its bytes are its UTF-8 text). */
    static boolean plain(byte[] b, int start, int end) {
        for (int i = start; i < end; i++) {
            if (b[i] == '\\') {
                return false;
            }
        }
        return true;
    }

    /** The string whose content (checked by {@link #stringEnd}) is {@code [start, end)}. */
    static String string(byte[] b, int start, int end) {
        int i = start;
        while (i + 8 <= end && (((long) LONGS.get(b, i)) & HIGHS) == 0 && backslashes((long) LONGS.get(b, i)) == 0) {
            i += 8;
        }
        boolean ascii = true;
        for (; i < end; i++) {
            byte c = b[i];
            if (c == '\\') {
                return unescape(b, start, end);
            }
            if (c < 0) {
                ascii = false;
            }
        }
        return new String(b, start, end - start, ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }

    private static long backslashes(long v) {
        long x = v ^ (ONES * '\\');
        return (x - ONES) & ~x & HIGHS;
    }

    private static String unescape(byte[] b, int start, int end) {
        var sb = new StringBuilder(end - start);
        int i = start;
        while (i < end) {
            int run = i;
            while (i < end && b[i] != '\\') {
                i++;
            }
            if (i > run) {
                sb.append(new String(b, run, i - run, StandardCharsets.UTF_8));
            }
            if (i >= end) {
                break;
            }
            byte e = b[i + 1];
            switch (e) {
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    sb.append((char) (hex(b[i + 2]) << 12 | hex(b[i + 3]) << 8 | hex(b[i + 4]) << 4 | hex(b[i + 5])));
                    i += 4;
                }
                default -> sb.append((char) e);
            }
            i += 2;
        }
        return sb.toString();
    }

    /**
     * The UTF-8 bytes of the string whose content is {@code [start, end)}, unescaped straight from
     * the body; null when an escape encodes a lone surrogate (the Jackson path decides those).
     */
    static byte[] utf8(byte[] b, int start, int end) {
        // first pass: the length, jumping from backslash to backslash
        int length = end - start;
        int i = nextBackslash(b, start, end);
        while (i < end) {
            if (b[i + 1] != 'u') {
                length -= 1;
                i = nextBackslash(b, i + 2, end);
                continue;
            }
            int c = codeUnit(b, i);
            if (c >= 0xD800 && c <= 0xDBFF) {
                if (i + 12 > end || b[i + 6] != '\\' || b[i + 7] != 'u') {
                    return null;
                }
                int low = codeUnit(b, i + 6);
                if (low < 0xDC00 || low > 0xDFFF) {
                    return null;
                }
                length -= 12 - 4;
                i = nextBackslash(b, i + 12, end);
            } else if (c >= 0xDC00 && c <= 0xDFFF) {
                return null;
            } else {
                length -= 6 - (c < 0x80 ? 1 : c < 0x800 ? 2 : 3);
                i = nextBackslash(b, i + 6, end);
            }
        }
        // second pass: copy the runs between escapes, decode the escapes
        var out = new byte[length];
        int o = 0;
        i = start;
        while (i < end) {
            int k = nextBackslash(b, i, end);
            System.arraycopy(b, i, out, o, k - i);
            o += k - i;
            if (k >= end) {
                break;
            }
            byte e = b[k + 1];
            i = k + 2;
            switch (e) {
                case 'b' -> out[o++] = '\b';
                case 'f' -> out[o++] = '\f';
                case 'n' -> out[o++] = '\n';
                case 'r' -> out[o++] = '\r';
                case 't' -> out[o++] = '\t';
                case 'u' -> {
                    int cp = codeUnit(b, k);
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        cp = Character.toCodePoint((char) cp, (char) codeUnit(b, k + 6));
                        i += 6;
                    }
                    o = encode(cp, out, o);
                    i += 4;
                }
                default -> out[o++] = e;
            }
        }
        return out;
    }

    /** The first backslash in {@code [from, end)}, or {@code end}. */
    private static int nextBackslash(byte[] b, int from, int end) {
        int i = from;
        while (i + 8 <= end) {
            long found = backslashes((long) LONGS.get(b, i));
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
            i += 8;
        }
        while (i < end && b[i] != '\\') {
            i++;
        }
        return i;
    }

    private static int codeUnit(byte[] b, int backslash) {
        return hex(b[backslash + 2]) << 12 | hex(b[backslash + 3]) << 8 | hex(b[backslash + 4]) << 4 | hex(b[backslash + 5]);
    }

    private static int encode(int cp, byte[] out, int o) {
        if (cp < 0x80) {
            out[o++] = (byte) cp;
        } else if (cp < 0x800) {
            out[o++] = (byte) (0xC0 | cp >> 6);
            out[o++] = (byte) (0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (byte) (0xE0 | cp >> 12);
            out[o++] = (byte) (0x80 | (cp >> 6 & 0x3F));
            out[o++] = (byte) (0x80 | (cp & 0x3F));
        } else {
            out[o++] = (byte) (0xF0 | cp >> 18);
            out[o++] = (byte) (0x80 | (cp >> 12 & 0x3F));
            out[o++] = (byte) (0x80 | (cp >> 6 & 0x3F));
            out[o++] = (byte) (0x80 | (cp & 0x3F));
        }
        return o;
    }
}
