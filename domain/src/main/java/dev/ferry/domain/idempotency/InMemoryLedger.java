package dev.ferry.domain.idempotency;

import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.ParkedGroup;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * An {@link IdempotencyLedger} in this process's memory: for tests, a single instance, or a first run. It forgets
 * everything on restart.
 *
 * <p>Memory is bounded by {@code maxEntries}: completed keys are dropped when their TTL runs out, and when the ledger
 * is full the expired ones go first (those with a shorter TTL behind a live one too), then the oldest completed keys (a
 * duplicate of an evicted key would be handled again, so size it above the number of distinct keys seen per TTL).
 * In-progress claims are never evicted. Every call on keys takes one lock, held briefly — and for a walk of every key
 * when its table doubles, its keys' characters are compacted, or (over the bound with nothing completed left to evict)
 * claims whose lease ran out are looked for, only once one of them can have run out since the last look. The keys are
 * held in arrays of primitives (a {@code KeyTable}), so a million held keys cost the collector nothing to trace or
 * copy; the arrays keep the size of the largest burst of keys held. A key's hash is seeded per ledger, so keys written
 * to collide cannot slow it. It keeps parked groups too ({@link GroupParking}), for the listeners of this process, and
 * an event journal ({@link EventJournal}) of at most a tenth as many entries (at least 1,000), the oldest going first.
 */
public final class InMemoryLedger implements IdempotencyLedger, GroupParking, EventJournal {

    /** The claims and completions held, in arrays the collector does not trace; guarded by its own lock. */
    private final KeyTable keys;
    private final Clock clock;
    /** The epoch second the keys' times count from: the ledger's creation, so any realistic clock fits a long. */
    private final long base;
    private final int maxEntries;
    private final long maxChars; // the characters all keys may take together
    /** The last token handed out (guarded by {@link #keys}' lock). */
    private long tokens;
    /** When the next walk for abandoned claims may find one (guarded by {@link #keys}' lock). */
    private long nextSweep = Long.MIN_VALUE;
    /** When a completion behind the oldest may have expired (TTLs differ): over the bound, a walk drops those first. */
    private long nextExpiryWalk = Long.MIN_VALUE;
    private long sweeps;
    /** Completions forgotten within their TTL, and when that was last said (guarded by {@link #keys}' lock). */
    private long forgottenLive;
    private long lastForgotWarning;
    private static final long WARN_EVERY_NANOS = 60_000_000_000L;
    private static final System.Logger LOG = System.getLogger(InMemoryLedger.class.getName());
    private final ConcurrentHashMap<List<String>, ParkedGroup> parked = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Journal> journals = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> journalOrder = new ConcurrentLinkedQueue<>();

    /** A claim made after a walk for abandoned claims may have a lease shorter than any it saw: walk again by then. */
    private static final Duration SWEEP_AT_LEAST_EVERY = Duration.ofSeconds(1);

    /**
     * Keys whose characters take 7/8 of the largest array at most ({@code maxArray}: a test's less than Java's). At the
     * largest array's size itself, each new key past the bound compacted the whole array (4 GiB, copied under the lock)
     * to gain one key's room; with an eighth kept free, a compaction comes once per eighth of an array of new keys.
     */
    static InMemoryLedger withLargestArray(Clock clock, int maxEntries, int maxArray) {
        return new InMemoryLedger(clock, maxEntries, new KeyTable(maxArray), maxArray / 8 * 7);
    }

    /** With {@code maxChars} for all keys' characters (a test's fewer than the largest array's). */
    InMemoryLedger(Clock clock, int maxEntries, long maxChars) {
        this(clock, maxEntries, new KeyTable(KeyTable.MAX_ARRAY), maxChars);
    }

    private InMemoryLedger(Clock clock, int maxEntries, KeyTable keys, long maxChars) {
        this.keys = keys;
        this.maxChars = maxChars;
        this.clock = Objects.requireNonNull(clock, "clock");
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be >= 1, was " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.base = clock.instant().getEpochSecond();
    }

    public static InMemoryLedger create() {
        return withLargestArray(Clock.systemUTC(), 1_000_000, KeyTable.MAX_ARRAY);
    }

    public static InMemoryLedger of(Clock clock, int maxEntries) {
        return withLargestArray(clock, maxEntries, KeyTable.MAX_ARRAY);
    }

    @Override
    public Claim claim(String key, Duration lease) {
        Objects.requireNonNull(key, "key");
        var now = clock.instant();
        long nowNanos = nanos(now);
        var leaseUntil = now.plus(lease);
        long leaseUntilNanos = nanos(leaseUntil);
        int h = keys.hashOf(key);
        synchronized (keys) {
            int id = keys.find(key, h);
            if (id == KeyTable.NONE) {
                roomForKey(key.length(), nowNanos);
                long token = ++tokens;
                keys.add(key, h, token, leaseUntilNanos);
                evictIfNeeded(nowNanos);
                return new Claim.Acquired(key, token, leaseUntil);
            }
            if (keys.completed(id) && keys.expiresAt(id) > nowNanos) {
                return new Claim.Completed(key, instant(keys.completedAt(id)));
            }
            if (!keys.completed(id) && keys.leaseUntil(id) > nowNanos) {
                return new Claim.InProgress(key, instant(keys.leaseUntil(id)));
            }
            long token = ++tokens;
            keys.claim(id, token, leaseUntilNanos); // its completion, if one is still in the order, is skipped
            evictIfNeeded(nowNanos);
            return new Claim.Acquired(key, token, leaseUntil);
        }
    }

    @Override
    public boolean complete(String key, long token, Duration ttl) {
        long now = nanos(clock.instant());
        long expires = plus(now, ttl);
        int h = keys.hashOf(key);
        synchronized (keys) {
            int id = held(key, h, token);
            if (id == KeyTable.NONE) {
                return false;
            }
            keys.complete(id, now, expires);
            nextExpiryWalk = Math.min(nextExpiryWalk, expires);
            evictIfNeeded(now);
            return true;
        }
    }

    /** Completions kept in order for eviction, current or not (for tests: bounded by the keys held). */
    int completionsInOrder() {
        synchronized (keys) {
            return keys.orderLength();
        }
    }

    @Override
    public boolean release(String key, long token) {
        int h = keys.hashOf(key);
        synchronized (keys) {
            int id = held(key, h, token);
            if (id == KeyTable.NONE) {
                return false;
            }
            keys.remove(id);
            return true;
        }
    }

    @Override
    public boolean extend(String key, long token, Duration lease) {
        long now = nanos(clock.instant());
        int h = keys.hashOf(key);
        synchronized (keys) {
            int id = held(key, h, token);
            if (id == KeyTable.NONE || keys.leaseUntil(id) <= now) {
                return false;
            }
            keys.extend(id, plus(now, lease));
            return true;
        }
    }

    /** The id of the key while {@code token}'s claim of it is held (not completed), else {@link KeyTable#NONE}. */
    private int held(String key, int h, long token) {
        int id = keys.find(key, h);
        return id == KeyTable.NONE || keys.token(id) != token || keys.completed(id) ? KeyTable.NONE : id;
    }

    /** Number of keys held (in progress or completed and not yet evicted). */
    public int size() {
        synchronized (keys) {
            return keys.size();
        }
    }

    /** Under the lock: drops expired completions, and the oldest live ones while over the bound of entries. */
    private void evictIfNeeded(long now) {
        makeRoom(now, false, 0);
    }

    /**
     * Room for a key of {@code length} characters beside those held, made as over the bound of entries: completions past
     * their TTL first, then the oldest (counted and said). Keys of 40 characters fill the largest array at about 52
     * million, within the entries the app allows: every new claim then failed — held, retried, intake paused — until a
     * restart, and completions past their TTL were never dropped (only a write that succeeded drops them).
     */
    private void roomForKey(int length, long now) {
        makeRoom(now, true, length);
        if (over(true, length)) {
            throw new IllegalStateException("the in-memory ledger's claims held take " + keys.charsHeld() + " characters: "
                    + "no room for a key of " + length);
        }
    }

    /** Over the bound of characters (with {@code length} more), or of entries. */
    private boolean over(boolean byChars, int length) {
        return byChars ? keys.charsHeld() + length > maxChars : keys.size() > maxEntries;
    }

    /** Under the lock: drops expired completions, and the oldest live ones while over the bound; then run-out claims. */
    private void makeRoom(long now, boolean byChars, int length) {
        int head;
        while ((head = keys.oldestCompletion()) != KeyTable.NONE) {
            boolean live = keys.expiresAt(head) > now;
            if (live && !over(byChars, length)) {
                break; // the oldest completion is live and there is room: nothing to evict
            }
            if (live && now >= nextExpiryWalk) {
                // over the bound with the oldest completion live: completions with shorter TTLs that expired behind
                // it go first (a walk, only when one of them can have expired since the last)
                nextExpiryWalk = keys.dropEnded(now, Long.MAX_VALUE, true);
                continue;
            }
            if (live) {
                forgotLive(now, byChars);
            }
            keys.dropOldestCompletion();
        }
        // Over the bound with no completion left to evict: only claims are held. Those of crashed workers
        // are dropped — a walk of every key, so only when one of them can have run out since the last walk.
        if (over(byChars, length) && now >= nextSweep) {
            sweeps++;
            nextSweep = keys.dropEnded(now, plus(now, SWEEP_AT_LEAST_EVERY), false);
        }
    }

    /**
     * Under the lock: a completion still within its TTL is forgotten to make room — a duplicate of it would
     * be handled again. Counted, and said at most once a minute: a bound too small for the keys seen per TTL
     * shows in the log, not only in a sink written twice.
     */
    private void forgotLive(long now, boolean byChars) {
        forgottenLive++;
        if (now - lastForgotWarning >= WARN_EVERY_NANOS || forgottenLive == 1) {
            lastForgotWarning = now;
            long forgotten = forgottenLive;
            String bound = byChars ? maxChars + " characters of keys" : maxEntries + " keys";
            Runnable warn = () -> LOG.log(System.Logger.Level.WARNING, "the in-memory ledger is full ({0}): completed "
                    + "keys still within their TTL are forgotten ({1} so far), and a duplicate of one is handled again — "
                    + "give it more entries, or a ledger kept on disk", bound, forgotten);
            try {
                Thread.ofVirtual().name("ferry-ledger-full").start(warn); // not under the lock: a log that blocks holds no claim
            } catch (Throwable e) { // no thread to be had: said next time
                lastForgotWarning = now - WARN_EVERY_NANOS;
            }
        }
    }

    /** Completions forgotten within their TTL to make room (a duplicate of one is handled again). */
    public long forgottenWithinTtl() {
        synchronized (keys) {
            return forgottenLive;
        }
    }

    /** How many times every key was walked for abandoned claims (for tests). */
    long sweeps() {
        synchronized (keys) {
            return sweeps;
        }
    }

    /** How many times the keys' characters were compacted (for tests). */
    int compactions() {
        synchronized (keys) {
            return keys.compactions();
        }
    }

    /** Nanoseconds since {@link #base}, saturating (a TTL of millennia stays in the far future). */
    private long nanos(Instant t) {
        long seconds = t.getEpochSecond() - base;
        if (seconds >= Long.MAX_VALUE / 1_000_000_000L) {
            return Long.MAX_VALUE;
        }
        if (seconds <= Long.MIN_VALUE / 1_000_000_000L + 1) {
            return Long.MIN_VALUE + 1; // never KeyTable.IN_PROGRESS
        }
        return seconds * 1_000_000_000L + t.getNano();
    }

    private static long plus(long nanos, Duration d) {
        long add;
        try {
            add = d.toNanos();
        } catch (ArithmeticException tooLong) {
            return d.isNegative() ? Long.MIN_VALUE + 1 : Long.MAX_VALUE;
        }
        long sum = nanos + add;
        if (((nanos ^ sum) & (add ^ sum)) < 0) { // overflowed
            return add > 0 ? Long.MAX_VALUE : Long.MIN_VALUE + 1;
        }
        return sum;
    }

    private Instant instant(long nanos) {
        return Instant.ofEpochSecond(base + Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    @Override
    public Optional<ParkedGroup> parkedGroup(String source, String group) {
        return Optional.ofNullable(parked.get(List.of(source, group)));
    }

    @Override
    public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
        var of = next != null ? next : Objects.requireNonNull(expected, "expected or next");
        var key = List.of(of.source(), of.group());
        if (expected == null) {
            return parked.putIfAbsent(key, next) == null;
        }
        var replaced = new boolean[1];
        parked.computeIfPresent(key, (k, current) -> {
            if (current.version() != expected.version()) {
                return current;
            }
            replaced[0] = true;
            return next;
        });
        return replaced[0];
    }

    @Override
    public List<ParkedGroup> parkedGroups() {
        return List.copyOf(parked.values());
    }

    @Override
    public dev.ferry.domain.parking.ParkedGroupListing parkedGroups(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        var some = new java.util.ArrayList<ParkedGroup>(Math.min(limit, 1_024));
        long total = parked.size();
        for (var group : parked.values()) {
            if (some.size() >= limit) {
                break;
            }
            some.add(group);
        }
        return new dev.ferry.domain.parking.ParkedGroupListing(some, Math.max(total, some.size()));
    }

    @Override
    public Optional<Claim> peek(String key) {
        Objects.requireNonNull(key, "key");
        long now = nanos(clock.instant());
        int h = keys.hashOf(key);
        synchronized (keys) {
            int id = keys.find(key, h);
            if (id == KeyTable.NONE) {
                return Optional.empty();
            }
            if (keys.completed(id)) {
                return keys.expiresAt(id) > now
                        ? Optional.of(new Claim.Completed(key, instant(keys.completedAt(id)))) : Optional.empty();
            }
            return keys.leaseUntil(id) > now
                    ? Optional.of(new Claim.InProgress(key, instant(keys.leaseUntil(id)))) : Optional.empty();
        }
    }

    @Override
    public void note(String key, Note note) {
        boolean[] added = new boolean[1];
        journals.compute(key, (k, old) -> {
            added[0] = old == null;
            return (old == null ? Journal.EMPTY : old).with(note);
        });
        if (added[0]) {
            journalOrder.add(key);
            int bound = Math.max(1_000, maxEntries / 10);
            while (journals.size() > bound) {
                var oldest = journalOrder.poll();
                if (oldest == null) {
                    break;
                }
                journals.remove(oldest);
            }
        }
    }

    @Override
    public Optional<Journal> journal(String key) {
        return Optional.ofNullable(journals.get(key));
    }
}
