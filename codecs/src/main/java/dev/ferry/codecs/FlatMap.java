package dev.ferry.codecs;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/** A small immutable map over one flat array: one object and one array per event, linear lookup. */
final class FlatMap extends AbstractMap<String, String> {

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
    public String get(Object key) {
        for (int i = 0; i < size; i++) {
            if (pairs[i * 2].equals(key)) {
                return pairs[i * 2 + 1];
            }
        }
        return null;
    }

    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, String>> iterator() {
                return new Iterator<>() {
                    int i;

                    @Override
                    public boolean hasNext() {
                        return i < size;
                    }

                    @Override
                    public Entry<String, String> next() {
                        if (i >= size) {
                            throw new NoSuchElementException();
                        }
                        var e = Map.entry(pairs[i * 2], pairs[i * 2 + 1]);
                        i++;
                        return e;
                    }
                };
            }

            @Override
            public int size() {
                return size;
            }
        };
    }
}
