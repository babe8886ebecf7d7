package dev.ferry.codecs;

import java.nio.charset.StandardCharsets;

/**
 * An event's attributes as spans of the body they were read from: a value becomes a
 * {@code String} only when someone asks for it, so decoding a message costs one small object and
 * a share of one {@code int[]} instead of a string per attribute. Immutable and thread-safe (it
 * keeps nothing it makes). Equal to any map with the same entries; names whose value was absent or
 * null are left out, as {@link FlatMap} does.
 */
final class SpanMap extends SlotMap {

    /** How a span becomes a value. */
    enum Kind {
        /** The content of a JSON string (escapes resolved). */
        STRING,
        /** A JSON number's text as it stands. */
        NUMBER,
        /** A JSON string holding an S3 object key, URL-decoded. */
        OBJECT_KEY
    }

    /** The names of one format's attributes, in order, and how each is read. */
    record Shape(String[] names, Kind[] kinds) {
        static Shape of(Object... nameKindPairs) {
            var names = new String[nameKindPairs.length / 2];
            var kinds = new Kind[names.length];
            for (int i = 0; i < names.length; i++) {
                names[i] = (String) nameKindPairs[2 * i];
                kinds[i] = (Kind) nameKindPairs[2 * i + 1];
            }
            return new Shape(names, kinds);
        }

        int size() {
            return names.length;
        }
    }

    private final Shape shape;
    private final byte[] body;
    /** From {@code base}: per name, the span's start and end in {@code body}; start -1 when absent. */
    private final int[] spans;
    private final int base;

    SpanMap(Shape shape, byte[] body, int[] spans, int base) {
        this.shape = shape;
        this.body = body;
        this.spans = spans;
        this.base = base;
    }

    @Override
    int slots() {
        return shape.names.length;
    }

    @Override
    String name(int slot) {
        return shape.names[slot];
    }

    @Override
    String value(int i) {
        int start = spans[base + 2 * i];
        if (start < 0) {
            return null;
        }
        int end = spans[base + 2 * i + 1];
        return switch (shape.kinds[i]) {
            case STRING -> Scan.string(body, start, end);
            case NUMBER -> new String(body, start, end - start, StandardCharsets.ISO_8859_1);
            case OBJECT_KEY -> S3Decoder.objectKeyOrRaw(Scan.string(body, start, end));
        };
    }

    @Override
    boolean present(int i) {
        return spans[base + 2 * i] >= 0;
    }
}
