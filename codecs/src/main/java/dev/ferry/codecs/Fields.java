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

    private Fields(String... names) {
        if (names.length > 31) {
            throw new IllegalArgumentException("at most 31 fields in one table, got " + names.length);
        }
        this.names = names.clone();
        this.bytes = Arrays.stream(names).map(n -> n.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
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
        for (int i = 0; i < bytes.length; i++) {
            if (Scan.is(b, start, end, bytes[i])) {
                return i;
            }
        }
        return -1;
    }

    String name(int field) {
        return names[field];
    }
}
