package dev.ferry.codecs;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * An immutable attribute map over numbered slots, each a name and a value that may be absent:
 * lookup, size and iteration in slot order, written once for {@link FlatMap} and {@link SpanMap}.
 */
abstract class SlotMap extends AbstractMap<String, String> {

    abstract int slots();

    abstract String name(int slot);

    /** The slot's value, null when absent. */
    abstract String value(int slot);

    /** Whether the slot has a value (cheaper than {@link #value} where values are made on demand). */
    boolean present(int slot) {
        return value(slot) != null;
    }

    @Override
    public String get(Object key) {
        for (int i = 0; i < slots(); i++) {
            if (name(i).equals(key)) {
                return value(i);
            }
        }
        return null;
    }

    @Override
    public boolean containsKey(Object key) {
        for (int i = 0; i < slots(); i++) {
            if (name(i).equals(key)) {
                return present(i);
            }
        }
        return false;
    }

    @Override
    public int size() {
        int n = 0;
        for (int i = 0; i < slots(); i++) {
            if (present(i)) {
                n++;
            }
        }
        return n;
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, String>> iterator() {
                return new Iterator<>() {
                    private int next = advance(0);

                    private int advance(int from) {
                        int i = from;
                        while (i < slots() && !present(i)) {
                            i++;
                        }
                        return i;
                    }

                    @Override
                    public boolean hasNext() {
                        return next < slots();
                    }

                    @Override
                    public Entry<String, String> next() {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        int i = next;
                        next = advance(i + 1);
                        return Map.entry(name(i), value(i));
                    }
                };
            }

            @Override
            public int size() {
                return SlotMap.this.size();
            }
        };
    }
}
