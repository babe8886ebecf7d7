package dev.ferry.codecs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A small lossy table of strings that repeat from message to message (event types, bucket names):
 * a hit returns the string made before instead of a new one. Thread-safe without locks: a slot
 * holds an immutable entry or null, and a lost race only costs a new string. Only for values with
 * few distinct forms — never for ids.
 */
final class Interned {

    private static final int SLOTS = 256;
    private static final int LONGEST = 64;

    private record Entry(byte[] bytes, String string) {
    }

    private final Entry[] table = new Entry[SLOTS];

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** A slot from the length and the first and last eight bytes (all of a short value). */
    private static int slot(byte[] b, int start, int end) {
        long x;
        if (end - start >= 8) {
            x = (long) LONGS.get(b, start) * 31 + (long) LONGS.get(b, end - 8);
        } else {
            x = 0;
            for (int i = start; i < end; i++) {
                x = x << 8 | (b[i] & 0xFF);
            }
        }
        x = (x + end - start) * 0x9E3779B97F4A7C15L;
        return (int) (x >>> 56);
    }

    /** The string whose JSON content (checked by {@link Scan}) is {@code [start, end)}. */
    String get(byte[] b, int start, int end) {
        int length = end - start;
        if (length == 0 || length > LONGEST) {
            return JsonStrings.string(b, start, end);
        }
        int slot = slot(b, start, end);
        var e = table[slot];
        if (e != null && Arrays.equals(e.bytes, 0, e.bytes.length, b, start, end)) {
            return e.string;
        }
        for (int i = start; i < end; i++) {
            if (b[i] < 0 || b[i] == '\\') {
                return JsonStrings.string(b, start, end); // escaped or non-ASCII: made each time
            }
        }
        var s = new String(b, start, length, StandardCharsets.ISO_8859_1);
        table[slot] = new Entry(Arrays.copyOfRange(b, start, end), s);
        return s;
    }
}
