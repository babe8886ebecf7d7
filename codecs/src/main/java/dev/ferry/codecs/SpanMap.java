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

    /** How a span of the body becomes a value. */
    @FunctionalInterface
    interface Value {
        String of(byte[] body, int start, int end);
    }

    /** The content of a JSON string (escapes resolved). */
    static final Value STRING = JsonStrings::string;

    /** A JSON number's text as it stands. */
    static final Value NUMBER = (body, start, end) -> new String(body, start, end - start, StandardCharsets.ISO_8859_1);

    /** The names of one format's attributes, in order, and how each is read. */
    record Shape(String[] names, Value[] values) {
        static Shape of(Object... nameValuePairs) {
            var names = new String[nameValuePairs.length / 2];
            var values = new Value[names.length];
            for (int i = 0; i < names.length; i++) {
                names[i] = (String) nameValuePairs[2 * i];
                values[i] = (Value) nameValuePairs[2 * i + 1];
            }
            return new Shape(names, values);
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
        return shape.values[i].of(body, start, spans[base + 2 * i + 1]);
    }

    @Override
    boolean present(int i) {
        return spans[base + 2 * i] >= 0;
    }
}
