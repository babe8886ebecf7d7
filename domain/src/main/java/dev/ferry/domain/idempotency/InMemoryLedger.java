package dev.ferry.domain.idempotency;

import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.ParkedGroup;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@link IdempotencyLedger} in this process's memory: for tests, a single instance, or a
 * first run. It forgets everything on restart.
 *
 * <p>Memory is bounded by {@code maxEntries}: completed keys are dropped when their TTL runs out,
 * and when the ledger is full the oldest completed keys go first (a duplicate of an evicted key
 * would be handled again, so size it above the number of distinct keys seen per TTL).
 * In-progress claims are never evicted. Per-key atomic updates; a completion takes one short lock (the
 * order in which completions expire), and so does a claim while the ledger is full or its oldest completion is due. It keeps parked
 * groups too ({@link GroupParking}), for the listeners of this process, and an event journal
 * ({@link EventJournal}) of at most a tenth as many entries (at least 1,000), the oldest going first.
 */
public final class InMemoryLedger implements IdempotencyLedger, GroupParking, EventJournal {

    /**
     * One key: times as nanoseconds from the ledger's creation ({@link #base}; exact within 292 years of it), so a held key is one small object (it lives as
     * long as its TTL, and every object it kept would be copied by the collector as long).
     * {@code completedAt} is {@link #IN_PROGRESS} while the claim is held.
     */
    private record Entry(String key, long token, long leaseUntil, long completedAt, long expiresAt) {
        boolean completed() {
            return completedAt != IN_PROGRESS;
        }
    }

    private static final long IN_PROGRESS = Long.MIN_VALUE;
    /** A claim made after a walk for abandoned claims may have a lease shorter than any it saw: walk again by then. */
    private static final Duration SWEEP_AT_LEAST_EVERY = Duration.ofSeconds(1);

    private final Clock clock;
    /** The epoch second the entries' times count from: the ledger's creation, so any realistic clock fits a long. */
    private final long base;
    private final int maxEntries;
    private final ConcurrentHashMap<String, Entry> entries;
    /** Completed entries, oldest first; an entry no longer in {@link #entries} is skipped when it comes up. */
    private final ArrayDeque<Entry> completionOrder = new ArrayDeque<>();
    /** When the oldest completion in {@link #completionOrder} expires (read without its lock, to skip it). */
    private volatile long oldestExpiry = Long.MAX_VALUE;
    private final AtomicLong tokens = new AtomicLong();
    /** When the next walk for abandoned claims may find one (guarded by {@link #completionOrder}'s lock). */
    private long nextSweep = Long.MIN_VALUE;
    private final AtomicLong sweeps = new AtomicLong();
    private final ConcurrentHashMap<List<String>, ParkedGroup> parked = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Journal> journals = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> journalOrder = new ConcurrentLinkedQueue<>();

    private InMemoryLedger(Clock clock, int maxEntries) {
        this.clock = Objects.requireNonNull(clock, "clock");
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be >= 1, was " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.base = clock.instant().getEpochSecond();
        // sized for a busy minute up front, so a new ledger does not spend its first 50,000 claims rehashing
        this.entries = new ConcurrentHashMap<>(Math.min(maxEntries, 1 << 16));
    }

    public static InMemoryLedger create() {
        return new InMemoryLedger(Clock.systemUTC(), 1_000_000);
    }

    public static InMemoryLedger of(Clock clock, int maxEntries) {
        return new InMemoryLedger(clock, maxEntries);
    }

    @Override
    public Claim claim(String key, Duration lease) {
        Objects.requireNonNull(key, "key");
        var now = clock.instant();
        long nowNanos = nanos(now);
        var leaseUntil = now.plus(lease);
        long leaseUntilNanos = nanos(leaseUntil);
        // a key never seen (the common case): one insert, no lock held while deciding
        var fresh = new Entry(key, tokens.incrementAndGet(), leaseUntilNanos, IN_PROGRESS, 0);
        var old = entries.putIfAbsent(key, fresh);
        if (old == null) {
            evictIfNeeded(nowNanos);
            return new Claim.Acquired(key, fresh.token, leaseUntil);
        }
        var result = new Claim[1];
        entries.compute(key, (k, current) -> {
            if (current != null && current.completed() && current.expiresAt > nowNanos) {
                result[0] = new Claim.Completed(k, instant(current.completedAt));
                return current;
            }
            if (current != null && !current.completed() && current.leaseUntil > nowNanos) {
                result[0] = new Claim.InProgress(k, instant(current.leaseUntil));
                return current;
            }
            long token = tokens.incrementAndGet();
            result[0] = new Claim.Acquired(k, token, leaseUntil);
            return new Entry(k, token, leaseUntilNanos, IN_PROGRESS, 0);
        });
        if (result[0] instanceof Claim.Acquired) {
            evictIfNeeded(nowNanos);
        }
        return result[0];
    }

    @Override
    public boolean complete(String key, long token, Duration ttl) {
        long now = nanos(clock.instant());
        long expires = plus(now, ttl);
        var done = new Entry[1];
        entries.computeIfPresent(key, (k, old) -> {
            if (old.token != token || old.completed()) {
                return old;
            }
            done[0] = new Entry(k, token, 0, now, expires);
            return done[0];
        });
        if (done[0] != null) {
            synchronized (completionOrder) {
                completionOrder.addLast(done[0]);
                oldestExpiry = completionOrder.peekFirst().expiresAt;
            }
            evictIfNeeded(now);
        }
        return done[0] != null;
    }

    @Override
    public boolean release(String key, long token) {
        var released = new boolean[1];
        entries.computeIfPresent(key, (k, old) -> {
            if (old.token != token || old.completed()) {
                return old;
            }
            released[0] = true;
            return null;
        });
        return released[0];
    }

    @Override
    public boolean extend(String key, long token, Duration lease) {
        long now = nanos(clock.instant());
        var extended = new boolean[1];
        entries.computeIfPresent(key, (k, old) -> {
            if (old.token != token || old.completed() || old.leaseUntil <= now) {
                return old;
            }
            extended[0] = true;
            return new Entry(k, token, plus(now, lease), IN_PROGRESS, 0);
        });
        return extended[0];
    }

    /** Number of keys held (in progress or completed and not yet evicted). */
    public int size() {
        return entries.size();
    }

    private void evictIfNeeded(long now) {
        // Oldest completions first: expired ones always, live ones only while over the bound. An entry
        // that left the map or was claimed again since (a new entry under its key) is only dropped from the order.
        if (now < oldestExpiry && entries.size() <= maxEntries) {
            return;
        }
        boolean sweep;
        synchronized (completionOrder) {
            Entry head;
            while ((head = completionOrder.peekFirst()) != null) {
                boolean current = entries.get(head.key) == head;
                if (current && head.expiresAt > now && entries.size() <= maxEntries) {
                    break; // the oldest completion is live and there is room: nothing to evict
                }
                completionOrder.pollFirst();
                if (current) {
                    entries.remove(head.key, head);
                }
            }
            oldestExpiry = head == null ? Long.MAX_VALUE : head.expiresAt;
            // Over the bound with no completion left to evict: only claims are held. Those of crashed workers
            // are swept — a walk of the whole map, so only when one of them can have run out since the last
            // walk. (Over the bound with completions still queued is another claim's insert racing this one's
            // eviction: that claim evicts for itself; a walk here made every claim of a full ledger O(size).)
            sweep = head == null && entries.size() > maxEntries && now >= nextSweep;
            if (sweep) {
                nextSweep = Long.MAX_VALUE; // one walk at a time; set when it ends
            }
        }
        if (sweep) {
            sweepAbandonedClaims(now);
        }
    }

    /** Drops claims whose lease ran out (crashed workers'); the next walk is due when the earliest left runs out. */
    private void sweepAbandonedClaims(long now) {
        long[] earliest = {plus(now, SWEEP_AT_LEAST_EVERY)};
        try {
            sweeps.incrementAndGet();
            entries.values().removeIf(e -> {
                if (e.completed()) {
                    return false;
                }
                if (e.leaseUntil <= now) {
                    return true;
                }
                earliest[0] = Math.min(earliest[0], e.leaseUntil);
                return false;
            });
        } finally {
            synchronized (completionOrder) {
                nextSweep = earliest[0];
            }
        }
    }

    /** How many times the whole map was walked for abandoned claims (for tests). */
    long sweeps() {
        return sweeps.get();
    }

    /** Nanoseconds since {@link #base}, saturating (a TTL of millennia stays in the far future). */
    private long nanos(Instant t) {
        long seconds = t.getEpochSecond() - base;
        if (seconds >= Long.MAX_VALUE / 1_000_000_000L) {
            return Long.MAX_VALUE;
        }
        if (seconds <= Long.MIN_VALUE / 1_000_000_000L + 1) {
            return Long.MIN_VALUE + 1; // never IN_PROGRESS
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
    public Optional<Claim> peek(String key) {
        var entry = entries.get(key);
        if (entry == null) {
            return Optional.empty();
        }
        long now = nanos(clock.instant());
        if (entry.completed()) {
            return entry.expiresAt > now ? Optional.of(new Claim.Completed(key, instant(entry.completedAt))) : Optional.empty();
        }
        return entry.leaseUntil > now ? Optional.of(new Claim.InProgress(key, instant(entry.leaseUntil))) : Optional.empty();
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
