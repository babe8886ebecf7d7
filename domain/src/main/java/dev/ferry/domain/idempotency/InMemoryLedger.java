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
import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@link IdempotencyLedger} in this process's memory: for tests, a single instance, or a
 * first run. It forgets everything on restart.
 *
 * <p>Memory is bounded by {@code maxEntries}: completed keys are dropped when their TTL runs out,
 * and when the ledger is full the oldest completed keys go first (a duplicate of an evicted key
 * would be handled again, so size it above the number of distinct keys seen per TTL).
 * In-progress claims are never evicted. Per-key atomic updates; no global lock. It keeps parked
 * groups too ({@link GroupParking}), for the listeners of this process, and an event journal
 * ({@link EventJournal}) of at most a tenth as many entries (at least 1,000), the oldest going first.
 */
public final class InMemoryLedger implements IdempotencyLedger, GroupParking, EventJournal {

    private record Entry(long token, Instant leaseUntil, Instant completedAt, Instant expiresAt) {
        boolean completed() {
            return completedAt != null;
        }
    }

    private record Expiry(String key, long token, Instant expiresAt) {
    }

    private final Clock clock;
    private final int maxEntries;
    private final ConcurrentHashMap<String, Entry> entries;
    private final ConcurrentLinkedQueue<Expiry> completionOrder = new ConcurrentLinkedQueue<>();
    private final AtomicLong tokens = new AtomicLong();
    private final ConcurrentHashMap<List<String>, ParkedGroup> parked = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Journal> journals = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> journalOrder = new ConcurrentLinkedQueue<>();

    private InMemoryLedger(Clock clock, int maxEntries) {
        this.clock = Objects.requireNonNull(clock, "clock");
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be >= 1, was " + maxEntries);
        }
        this.maxEntries = maxEntries;
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
        var leaseUntil = now.plus(lease);
        if (!entries.containsKey(key)) {
            // a key never seen (the common case): one insert, no lock held while deciding
            long token = tokens.incrementAndGet();
            if (entries.putIfAbsent(key, new Entry(token, leaseUntil, null, null)) == null) {
                evictIfNeeded(now);
                return new Claim.Acquired(key, token, leaseUntil);
            }
        }
        var result = new Claim[1];
        entries.compute(key, (k, old) -> {
            if (old != null && old.completed() && old.expiresAt.isAfter(now)) {
                result[0] = new Claim.Completed(k, old.completedAt);
                return old;
            }
            if (old != null && !old.completed() && old.leaseUntil.isAfter(now)) {
                result[0] = new Claim.InProgress(k, old.leaseUntil);
                return old;
            }
            long token = tokens.incrementAndGet();
            result[0] = new Claim.Acquired(k, token, leaseUntil);
            return new Entry(token, leaseUntil, null, null);
        });
        if (result[0] instanceof Claim.Acquired) {
            evictIfNeeded(now);
        }
        return result[0];
    }

    @Override
    public boolean complete(String key, long token, Duration ttl) {
        var now = clock.instant();
        var done = new boolean[1];
        entries.computeIfPresent(key, (k, old) -> {
            if (old.token != token || old.completed()) {
                return old;
            }
            done[0] = true;
            return new Entry(token, null, now, now.plus(ttl));
        });
        if (done[0]) {
            completionOrder.add(new Expiry(key, token, now.plus(ttl)));
            evictIfNeeded(now);
        }
        return done[0];
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
        var now = clock.instant();
        var extended = new boolean[1];
        entries.computeIfPresent(key, (k, old) -> {
            if (old.token != token || old.completed() || !old.leaseUntil.isAfter(now)) {
                return old;
            }
            extended[0] = true;
            return new Entry(token, now.plus(lease), null, null);
        });
        return extended[0];
    }

    /** Number of keys held (in progress or completed and not yet evicted). */
    public int size() {
        return entries.size();
    }

    private void evictIfNeeded(Instant now) {
        // Oldest completions first: expired ones always, live ones only while over the bound.
        Expiry head;
        while ((head = completionOrder.peek()) != null) {
            if (head.expiresAt.isAfter(now) && entries.size() <= maxEntries) {
                break; // the oldest completion is live and there is room: nothing to evict
            }
            var entry = entries.get(head.key);
            boolean stale = entry == null || entry.token != head.token || !entry.completed();
            boolean expired = !stale && !entry.expiresAt.isAfter(now);
            boolean over = entries.size() > maxEntries;
            if (!stale && !expired && !over) {
                break;
            }
            if (!completionOrder.remove(head)) {
                continue;
            }
            if (!stale) {
                entries.remove(head.key, entry);
            }
        }
        if (entries.size() > maxEntries) {
            // Claims of crashed workers that nobody reclaimed: their leases ran out long ago.
            entries.values().removeIf(e -> !e.completed() && !e.leaseUntil.isAfter(now));
        }
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
        var now = clock.instant();
        if (entry == null) {
            return Optional.empty();
        }
        if (entry.completed()) {
            return entry.expiresAt.isAfter(now) ? Optional.of(new Claim.Completed(key, entry.completedAt)) : Optional.empty();
        }
        return entry.leaseUntil.isAfter(now) ? Optional.of(new Claim.InProgress(key, entry.leaseUntil)) : Optional.empty();
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
