package dev.ferry.codecs;

import java.util.Map;

/** A small immutable map over one flat array: one object and one array per event, linear lookup. */
final class FlatMap extends SlotMap {

    private final String[] pairs;
    private final int size;

    private FlatMap(String[] pairs, int size) {
        this.pairs = pairs;
        this.size = size;
    }

    /** Collects up to {@code capacity} pairs; null values are left out. */
    static final class Builder {
        private final String[] pairs;
        private int size;

        Builder(int capacity) {
            pairs = new String[capacity * 2];
        }

        Builder put(String key, String value) {
            if (value != null) {
                pairs[size * 2] = key;
                pairs[size * 2 + 1] = value;
                size++;
            }
            return this;
        }

        Map<String, String> build() {
            return new FlatMap(pairs, size);
        }
    }

    @Override
    int slots() {
        return size;
    }

    @Override
    String name(int slot) {
        return pairs[slot * 2];
    }

    @Override
    String value(int slot) {
        return pairs[slot * 2 + 1];
    }

    @Override
    boolean present(int slot) {
        return true;
    }

    @Override
    public int size() {
        return size;
    }
}
