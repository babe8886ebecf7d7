package dev.ferry.domain.idempotency;

import java.util.Arrays;

/**
 * The keys an {@link InMemoryLedger} holds and their state, kept in arrays of primitives: a held key costs the
 * collector nothing to trace or copy, however long it is kept (as objects, every held key outlived the young
 * collections and was copied by each: most of the engine's collector time). Not thread-safe: the ledger holds its lock
 * around every call.
 *
 * <p>A key has an id, the same while it is held, indexing its fields; the ids of keys dropped are reused. An
 * open-addressing index (linear probing, deletion by shifting back, so no tombstones) finds a key's id from its hash;
 * its characters live in one array, compacted when it fills with dropped keys'. Completions are kept in the order they
 * were made, as (id, token) pairs: a pair whose key was dropped or claimed again since has a token that no longer
 * matches, and is skipped.
 */
final class KeyTable {

    static final int NONE = -1;
    private static final java.security.SecureRandom SEEDS = new java.security.SecureRandom();
    /** {@link #completedAt} of a key whose claim is held. */
    static final long IN_PROGRESS = Long.MIN_VALUE;
    /** {@link #token} of a free id: tokens start at 1. */
    private static final long FREE = 0;

    private long[] token = new long[64];
    private long[] leaseUntil = new long[64];
    private long[] completedAt = new long[64];
    private long[] expiresAt = new long[64];
    private int[] hash = new int[64];
    private int[] keyStart = new int[64];
    private int[] keyLength = new int[64];
    private int nextId;
    private int[] freeIds = new int[16];
    private int freeCount;
    private int size;
    private final long seed = SEEDS.nextLong();

    /** Each slot: the key's hash in the high half, its id + 1 in the low half, 0 when empty; at most half full. */
    private long[] index = new long[128];
    /** The characters of the key being looked for, to compare with a stored one in one vectorized call. */
    private char[] probe = new char[64];

    private static final int FIRST_CHARS = 4096;
    static final int MAX_ARRAY = Integer.MAX_VALUE - 16;
    private final int maxArray; // the largest the characters' array grows to: MAX_ARRAY, or a test's less
    private int compactions;
    /** A key longer than this is compared through an array of its own, not kept for the next one. */
    private static final int PROBE_KEPT = 4096;
    private char[] chars = new char[FIRST_CHARS];
    private int charsUsed;
    private int charsDropped;

    private int[] orderIds = new int[64];
    private long[] orderTokens = new long[64];
    private int orderHead;
    private int orderCount;

    KeyTable(int maxArray) {
        this.maxArray = maxArray;
    }

    int size() {
        return size;
    }

    int compactions() {
        return compactions;
    }

    /** The characters of the keys held: at most {@link #MAX_ARRAY}, or {@link #add} throws. */
    long charsHeld() {
        return (long) charsUsed - charsDropped;
    }

    /** The key's id, or {@link #NONE} when it is not held; {@code h} is its {@link #hashOf}. */
    int find(String key, int h) {
        int mask = index.length - 1;
        char[] copied = null;
        for (int slot = h & mask; ; slot = (slot + 1) & mask) {
            long v = index[slot];
            if (v == 0) {
                return NONE;
            }
            if ((int) (v >>> 32) == h) {
                int id = (int) v - 1;
                if (keyLength[id] == key.length()) {
                    if (copied == null) {
                        copied = copyForCompare(key);
                    }
                    int start = keyStart[id];
                    if (Arrays.equals(chars, start, start + keyLength[id], copied, 0, keyLength[id])) {
                        return id;
                    }
                }
            }
        }
    }

    private char[] copyForCompare(String key) {
        var into = probe;
        if (into.length < key.length()) {
            into = new char[key.length()];
            if (key.length() <= PROBE_KEPT) {
                probe = into;
            }
        }
        key.getChars(0, key.length(), into, 0);
        return into;
    }

    /** Holds a new key (not held now; {@code h} its {@link #hashOf}), claimed with {@code token} until {@code leaseUntil}; its id. */
    int add(String key, int h, long token, long leaseUntil) {
        if ((size + 1) * 2 > index.length) {
            rehash(grown(index.length));
        }
        int start = store(key);
        int id;
        try {
            id = newId();
        } catch (Throwable e) { // out of memory growing: the characters stored are dropped, nothing else changed
            charsDropped += key.length();
            throw e;
        }
        keyStart[id] = start;
        keyLength[id] = key.length();
        hash[id] = h;
        claim(id, token, leaseUntil);
        int mask = index.length - 1;
        int slot = h & mask;
        while (index[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        index[slot] = slotValue(id);
        size++;
        return id;
    }

    /** The key of {@code id} is claimed (again) with a new token. */
    void claim(int id, long token, long leaseUntil) {
        this.token[id] = token;
        this.leaseUntil[id] = leaseUntil;
        this.completedAt[id] = IN_PROGRESS;
        this.expiresAt[id] = 0;
    }

    /** The claim of {@code id} is completed at {@code now} until {@code expiresAt}; it joins the order of completions. */
    void complete(int id, long now, long expiresAt) {
        if (orderCount == orderIds.length) {
            growOrder(); // first: out of memory here leaves the claim held, as it was
        }
        this.leaseUntil[id] = 0;
        this.completedAt[id] = now;
        this.expiresAt[id] = expiresAt;
        int at = (orderHead + orderCount) & (orderIds.length - 1);
        orderIds[at] = id;
        orderTokens[at] = token[id];
        orderCount++;
    }

    void extend(int id, long leaseUntil) {
        this.leaseUntil[id] = leaseUntil;
    }

    long token(int id) {
        return token[id];
    }

    long leaseUntil(int id) {
        return leaseUntil[id];
    }

    long completedAt(int id) {
        return completedAt[id];
    }

    long expiresAt(int id) {
        return expiresAt[id];
    }

    boolean completed(int id) {
        return completedAt[id] != IN_PROGRESS;
    }

    /**
     * The id of the oldest completion still current (its key held and completed by the same claim),
     * or {@link #NONE}; completions no longer current are dropped from the order on the way.
     */
    int oldestCompletion() {
        int mask = orderIds.length - 1;
        while (orderCount > 0) {
            int id = orderIds[orderHead];
            if (current(id, orderTokens[orderHead])) {
                return id;
            }
            orderHead = (orderHead + 1) & mask;
            orderCount--;
        }
        return NONE;
    }

    /** Drops the oldest completion (as {@link #oldestCompletion} found it) from the order and its key from the table. */
    void dropOldestCompletion() {
        int id = orderIds[orderHead];
        orderHead = (orderHead + 1) & (orderIds.length - 1);
        orderCount--;
        remove(id);
    }

    /**
     * Drops every completion whose TTL ended by {@code now} (their places in the order skipped when they come up), or
     * every held claim whose lease did; the earliest end left of those, or {@code orLater}.
     */
    long dropEnded(long now, long orLater, boolean completions) {
        long earliest = orLater;
        for (int id = 0; id < nextId; id++) {
            if (token[id] == FREE || (completedAt[id] != IN_PROGRESS) != completions) {
                continue;
            }
            long end = completions ? expiresAt[id] : leaseUntil[id];
            if (end <= now) {
                remove(id);
            } else {
                earliest = Math.min(earliest, end);
            }
        }
        return earliest;
    }

    /** Stops holding the key of {@code id}; a completion of it still in the order is skipped when it comes up. */
    void remove(int id) {
        if (freeCount == freeIds.length) {
            freeIds = Arrays.copyOf(freeIds, freeIds.length * 2); // first: out of memory here changes nothing
        }
        int mask = index.length - 1;
        long value = slotValue(id);
        int slot = hash[id] & mask;
        while (index[slot] != value) {
            slot = (slot + 1) & mask;
        }
        // shift back the keys after it that probed past it, so every key stays reachable from its hash
        int gap = slot;
        for (int next = (gap + 1) & mask; index[next] != 0; next = (next + 1) & mask) {
            int home = (int) (index[next] >>> 32) & mask;
            boolean between = gap <= next ? gap < home && home <= next : gap < home || home <= next;
            if (!between) {
                index[gap] = index[next];
                gap = next;
            }
        }
        index[gap] = 0;
        charsDropped += keyLength[id];
        token[id] = FREE;
        completedAt[id] = IN_PROGRESS;
        freeIds[freeCount++] = id;
        size--;
    }

    private int newId() {
        if (freeCount > 0) {
            return freeIds[--freeCount];
        }
        if (nextId == token.length) {
            int capacity = grown(token.length);
            // every copy first, then every field: out of memory halfway leaves the table as it was
            var tokens = Arrays.copyOf(token, capacity);
            var leases = Arrays.copyOf(leaseUntil, capacity);
            var completions = Arrays.copyOf(completedAt, capacity);
            var expiries = Arrays.copyOf(expiresAt, capacity);
            var hashes = Arrays.copyOf(hash, capacity);
            var starts = Arrays.copyOf(keyStart, capacity);
            var lengths = Arrays.copyOf(keyLength, capacity);
            token = tokens;
            leaseUntil = leases;
            completedAt = completions;
            expiresAt = expiries;
            hash = hashes;
            keyStart = starts;
            keyLength = lengths;
        }
        return nextId++;
    }

    /** Appends the key's characters; where they start. */
    private int store(String key) {
        int length = key.length();
        if (chars.length - charsUsed < length) {
            makeRoom(length);
        }
        int start = charsUsed;
        key.getChars(0, length, chars, start);
        charsUsed += length;
        return start;
    }

    /** Compacts the characters (dropping dropped keys') into an array with room for {@code length} more. */
    private void makeRoom(int length) {
        long live = (long) charsUsed - charsDropped;
        if (live + length > maxArray) {
            throw new IllegalStateException("the ledger's keys would take more than " + maxArray + " characters");
        }
        compactions++;
        // twice what is live (and at least the first size): shrinks after a burst of long keys, grows as needed
        long wanted = Math.min(maxArray, Math.max(FIRST_CHARS, 2 * (live + length)));
        var compacted = new char[(int) wanted];
        int used = 0;
        for (int id = 0; id < nextId; id++) {
            if (token[id] == FREE) {
                continue;
            }
            System.arraycopy(chars, keyStart[id], compacted, used, keyLength[id]);
            keyStart[id] = used;
            used += keyLength[id];
        }
        chars = compacted;
        charsUsed = used;
        charsDropped = 0;
    }

    /** Twice {@code capacity}, or a clear error where arrays end. */
    private static int grown(int capacity) {
        if (capacity > 1 << 29) {
            throw new IllegalStateException("the ledger holds more than " + (1 << 29) + " keys");
        }
        return capacity * 2;
    }

    private long slotValue(int id) {
        return (long) hash[id] << 32 | (id + 1);
    }

    private void rehash(int capacity) {
        var bigger = new long[capacity];
        int mask = capacity - 1;
        for (long v : index) {
            if (v != 0) {
                int slot = (int) (v >>> 32) & mask;
                while (bigger[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                bigger[slot] = v;
            }
        }
        index = bigger;
    }

    // full: completions no longer current are left out, grown only if more than half are; grown each time, it held
    // every completion behind a head a longer TTL kept (two listeners' TTLs on one ledger), 12 bytes each, for ever
    private void growOrder() {
        int mask = orderIds.length - 1;
        var ids = new int[orderIds.length];
        var tokens = new long[orderIds.length];
        int kept = 0;
        for (int i = 0; i < orderCount; i++) {
            int id = orderIds[(orderHead + i) & mask];
            long t = orderTokens[(orderHead + i) & mask];
            if (current(id, t)) {
                ids[kept] = id;
                tokens[kept++] = t;
            }
        }
        if (kept > ids.length / 2) {
            ids = Arrays.copyOf(ids, grown(ids.length));
            tokens = Arrays.copyOf(tokens, ids.length);
        }
        orderIds = ids;
        orderTokens = tokens;
        orderHead = 0;
        orderCount = kept;
    }

    private boolean current(int id, long orderToken) { // the key held still, completed by the same claim
        return token[id] == orderToken && completedAt[id] != IN_PROGRESS;
    }

    int orderLength() { // completions in the order now, current or not
        return orderCount;
    }

    /**
     * The key's hash, seeded per table and mixed between characters: keys come from what senders
     * write, and {@link String#hashCode} collides on demand ({@code "Aa"} and {@code "BB"}), which
     * would let a sender turn every lookup into a walk of the table. Two characters a step.
     */
    int hashOf(String key) {
        long h = seed;
        int length = key.length();
        int i = 0;
        for (; i + 1 < length; i += 2) {
            h = (h ^ (key.charAt(i) | (long) key.charAt(i + 1) << 16)) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        if (i < length) {
            h = (h ^ key.charAt(i)) * 0x9E3779B97F4A7C15L;
        }
        h = (h ^ length) * 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 31) ^ (h >>> 47));
    }
}
