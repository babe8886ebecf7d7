package dev.ferry.codecs;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The fields a format reads in one JSON object, numbered in the order given: the table both member
 * readers ({@link Members}) look names up in. At most 31 fields (each has a bit in a seen-mask).
 */
final class Fields {

    private final String[] names;
    private final byte[][] bytes;
    /**
     * The field for each hash of a name's length, first and last byte (a slot holds field + 1, 0
     * for none; two names with one hash share the slot's chain by probing): one comparison of bytes
     * per member in the usual case, however many fields the table has.
     */
    private final byte[] slots = new byte[64];
    /** Per field: its name's first and second eight bytes (little-endian) and masks for its length. */
    private final long[] words;

    private Fields(String... names) {
        if (names.length > 31) {
            throw new IllegalArgumentException("at most 31 fields in one table, got " + names.length);
        }
        this.names = names.clone();
        this.bytes = Arrays.stream(names).map(n -> n.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
        this.words = new long[4 * bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            var name = bytes[i];
            for (int k = 0; k < Math.min(16, name.length); k++) {
                words[4 * i + k / 8] |= (name[k] & 0xFFL) << (8 * (k % 8));
            }
            words[4 * i + 2] = mask(name.length);
            words[4 * i + 3] = mask(name.length - 8);
            int h = name.length == 0 ? 0 : hash(name.length, name[0], name[name.length - 1]);
            while (slots[h] != 0) {
                h = (h + 1) & (slots.length - 1);
            }
            slots[h] = (byte) (i + 1);
        }
    }

    /** The low {@code bytes} bytes of a long (all of them from 8 on, none below 1). */
    private static long mask(int bytes) {
        return bytes >= 8 ? -1L : bytes <= 0 ? 0L : (1L << (8 * bytes)) - 1;
    }

    private static int hash(int length, byte first, byte last) {
        return (length * 7 + first * 31 + last) & 63;
    }

    static Fields of(String... names) {
        return new Fields(names);
    }

    /** The number of the field named {@code name}, or -1 when the object's other members are skipped. */
    int indexOf(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** The number of the field whose unescaped name is the content {@code [start, end)} of {@code b}, or -1. */
    int indexOf(byte[] b, int start, int end) {
        int h = start == end ? 0 : hash(end - start, b[start], b[end - 1]);
        int field;
        while ((field = slots[h]) != 0) {
            if (matches(field - 1, b, start, end)) {
                return field - 1;
            }
            h = (h + 1) & 63;
        }
        return -1;
    }

    /** True when {@code [start, end)} is the name of {@code field}: names up to 16 bytes in two 8-byte compares. */
    private boolean matches(int field, byte[] b, int start, int end) {
        var name = bytes[field];
        int length = end - start;
        if (length != name.length) {
            return false;
        }
        if (length > 16 || start + 16 > b.length) {
            return Scan.is(b, start, end, name);
        }
        int w = 4 * field;
        return (((long) Scan.LONGS.get(b, start)) & words[w + 2]) == words[w]
                && (((long) Scan.LONGS.get(b, start + 8)) & words[w + 3]) == words[w + 1];
    }

    String name(int field) {
        return names[field];
    }
}
