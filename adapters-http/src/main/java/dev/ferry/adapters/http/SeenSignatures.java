package dev.ferry.adapters.http;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.TreeMap;

/**
 * The signatures the ingest endpoint has accepted and must refuse if they come again: each is
 * remembered until its timestamp leaves the signature window (after which the window refuses it
 * anyway), and at most {@code max} at once. Only verified signatures are remembered, so nobody
 * without the secret can fill it. Keeps the first 128 bits of each HMAC. Thread-safe.
 */
final class SeenSignatures {

    enum Verdict {
        /** Not seen before; now remembered. */
        FIRST,
        /** Seen before, within the window. */
        REPLAYED,
        /** Not seen, but {@code max} signatures are remembered already: refuse for now. */
        FULL
    }

    private record Key(long high, long low) {
    }

    private final int max;
    private final HashSet<Key> seen = new HashSet<>();
    private final TreeMap<Long, List<Key>> byExpiry = new TreeMap<>();

    SeenSignatures(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1, was " + max);
        }
        this.max = max;
    }

    /**
     * Remembers {@code mac} (at least 16 bytes) until {@code forgetAfter} (unix seconds, inclusive)
     * unless it is remembered already; first forgets what expired before {@code now}.
     */
    synchronized Verdict remember(byte[] mac, long forgetAfter, long now) {
        var expired = byExpiry.headMap(now, false);
        for (var keys : expired.values()) {
            for (var key : keys) {
                seen.remove(key);
            }
        }
        expired.clear();
        var buffer = ByteBuffer.wrap(mac);
        var key = new Key(buffer.getLong(0), buffer.getLong(8));
        if (seen.contains(key)) {
            return Verdict.REPLAYED;
        }
        if (seen.size() >= max) {
            return Verdict.FULL;
        }
        seen.add(key);
        byExpiry.computeIfAbsent(forgetAfter, t -> new ArrayList<>()).add(key);
        return Verdict.FIRST;
    }

    /**
     * Forgets {@code mac}, remembered until {@code forgetAfter}: its request was refused with nothing taken, and sent
     * again as it was it must be heard. Gone from both maps: left in the expiries, refused requests grew them past
     * {@code max} for the window.
     */
    synchronized void forget(byte[] mac, long forgetAfter) {
        var buffer = ByteBuffer.wrap(mac);
        var key = new Key(buffer.getLong(0), buffer.getLong(8));
        if (seen.remove(key)) {
            var keys = byExpiry.get(forgetAfter);
            if (keys != null) {
                keys.remove(key);
                if (keys.isEmpty()) {
                    byExpiry.remove(forgetAfter);
                }
            }
        }
    }

    /** The unix second from which a place is free again (the earliest remembered forgotten); {@code now} when none is. */
    synchronized long placeFreeAt(long now) {
        return byExpiry.isEmpty() ? now : Math.max(now, byExpiry.firstKey() + 1);
    }

    /** Signatures waiting to expire, for a test: never more than those remembered. */
    synchronized int expiring() {
        return byExpiry.values().stream().mapToInt(List::size).sum();
    }

    synchronized int size() {
        return seen.size();
    }
}
