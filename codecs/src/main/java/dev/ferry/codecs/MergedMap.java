package dev.ferry.codecs;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Two attribute maps seen as one, without copying: {@code first}'s entries, then those of
 * {@code second} whose names {@code first} does not have (so {@code first} wins). Neither may hold
 * null values. Used for an SNS envelope's attributes under each inner event's own.
 */
final class MergedMap extends AbstractMap<String, String> {

    private final Map<String, String> first;
    private final Map<String, String> second;

    private MergedMap(Map<String, String> first, Map<String, String> second) {
        this.first = first;
        this.second = second;
    }

    static Map<String, String> of(Map<String, String> first, Map<String, String> second) {
        if (second.isEmpty()) {
            return first;
        }
        return first.isEmpty() ? second : new MergedMap(first, second);
    }

    @Override
    public String get(Object key) {
        var value = first.get(key);
        return value != null ? value : second.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return first.containsKey(key) || second.containsKey(key);
    }

    @Override
    public int size() {
        int n = first.size();
        for (var name : second.keySet()) {
            if (!first.containsKey(name)) {
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
                    private final Iterator<Entry<String, String>> a = first.entrySet().iterator();
                    private final Iterator<Entry<String, String>> b = second.entrySet().iterator();
                    private Entry<String, String> pending = advance();

                    private Entry<String, String> advance() {
                        if (a.hasNext()) {
                            return a.next();
                        }
                        while (b.hasNext()) {
                            var e = b.next();
                            if (!first.containsKey(e.getKey())) {
                                return e;
                            }
                        }
                        return null;
                    }

                    @Override
                    public boolean hasNext() {
                        return pending != null;
                    }

                    @Override
                    public Entry<String, String> next() {
                        if (pending == null) {
                            throw new NoSuchElementException();
                        }
                        var e = pending;
                        pending = advance();
                        return e;
                    }
                };
            }

            @Override
            public int size() {
                return MergedMap.this.size();
            }
        };
    }
}
