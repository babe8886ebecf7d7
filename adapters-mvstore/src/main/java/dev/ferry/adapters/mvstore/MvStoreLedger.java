package dev.ferry.adapters.mvstore;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.ParkedGroup;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable {@link IdempotencyLedger} in one file on local disk, for a single Ferry instance: the
 * packaged app's default. Built on H2's MVStore (a log-structured, copy-on-write key-value store
 * that recovers to its last complete commit after a crash).
 *
 * <p>Claims are lock-free compare-and-set updates and are not forced to disk: a claim lost in a
 * crash is a lease that ended with its worker, which is what a lease is for. A completion is
 * written to the file before {@link #complete} returns (concurrent completions share one commit),
 * so a completed key survives {@code kill -9}; with {@code fsync} on it also survives a power cut.
 * Completed keys expire after their TTL and are swept from an expiry index, so the file does not
 * grow without bound; claims abandoned for a day are swept too. Fencing tokens keep growing across
 * restarts. One process per file: a second one gets a clear error. Parked groups
 * ({@link GroupParking}) are kept in the same file, each change on disk before it returns, and so
 * is the event journal ({@link EventJournal}: written with the next commit, kept for a week after
 * an event's last note).
 */
public final class MvStoreLedger implements IdempotencyLedger, GroupParking, EventJournal, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MvStoreLedger.class);
    private static final long TOKEN_BLOCK = 1_000_000;
    private static final Duration ABANDONED = Duration.ofDays(1);
    private static final String IN_PROGRESS = "I";
    private static final String COMPLETED = "C";

    private final Path file;
    /**
     * The file's maps: {@code entries} (key to {@link Entry}), {@code expiries} ({@code <expiresAt millis,
     * 20 digits>|<key>} of completed keys, in expiry order), {@code meta}, {@code parked} ({@link
     * ParkedGroups#key} to {@link ParkedGroups#encode}) and the journal; opened again after a failed write.
     */
    private final LedgerFile files;
    private final Clock clock;
    private final boolean fsync;
    private final AtomicLong tokens;
    private volatile long tokensReserved;
    private final Thread sweeper;
    private volatile boolean closed;
    private final AtomicLong sweeps = new AtomicLong();
    /** Completions written to the map; those up to {@link #committedWrites} are on disk. */
    private final AtomicLong writes = new AtomicLong();
    private final java.util.concurrent.locks.ReentrantLock commitLock = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.locks.Condition committed = commitLock.newCondition();
    private long committedWrites;
    private boolean committing;

    /** A decoded entry: state, token, and leaseUntil (in progress) or completedAt + expiresAt. */
    private record Entry(String state, long token, long first, long second) {
        static Entry parse(String value) {
            var p = value.split("\\|");
            return new Entry(p[0], Long.parseLong(p[1]), Long.parseLong(p[2]), p.length > 3 ? Long.parseLong(p[3]) : 0);
        }

        static String inProgress(long token, long leaseUntil) {
            return IN_PROGRESS + "|" + token + "|" + leaseUntil;
        }

        static String completed(long token, long completedAt, long expiresAt) {
            return COMPLETED + "|" + token + "|" + completedAt + "|" + expiresAt;
        }

        boolean completed() {
            return state.equals(COMPLETED);
        }
    }

    private MvStoreLedger(Builder b) {
        this.file = b.file;
        this.clock = b.clock;
        this.fsync = b.fsync;
        this.files = new LedgerFile(file, this::reopened);
        long reserved = files.maps().meta().getOrDefault("tokensReserved", 0L);
        this.tokens = new AtomicLong(reserved);
        this.tokensReserved = reserved;
        reserveTokens(reserved + 1);
        this.sweeper = Thread.ofPlatform().daemon().name("ferry-ledger-sweeper").start(() -> sweepLoop(b.sweepEvery));
    }

    /** A ledger in {@code file} (created if absent) with the defaults: sweep every minute, no fsync. */
    public static MvStoreLedger open(Path file) {
        return builder(file).build();
    }

    public static Builder builder(Path file) {
        return new Builder(file);
    }

    @Override
    public Claim claim(String key, Duration lease) {
        Objects.requireNonNull(key, "key");
        ensureOpen();
        var m = files.maps();
        long now = clock.millis();
        long leaseUntil = now + lease.toMillis();
        for (;;) {
            String old = m.entries().get(key);
            if (old != null) {
                var e = Entry.parse(old);
                if (e.completed() && e.second() > now) {
                    return new Claim.Completed(key, Instant.ofEpochMilli(e.first()));
                }
                if (!e.completed() && e.first() > now) {
                    return new Claim.InProgress(key, Instant.ofEpochMilli(e.first()));
                }
            }
            long token = nextToken();
            String claimed = Entry.inProgress(token, leaseUntil);
            if (old == null ? m.entries().putIfAbsent(key, claimed) == null : m.entries().replace(key, old, claimed)) {
                return new Claim.Acquired(key, token, Instant.ofEpochMilli(leaseUntil));
            }
        }
    }

    /** A completion waits for its commit to reach the file: the listener records it off its workers. */
    @Override
    public boolean completionWaits() {
        return true;
    }

    @Override
    public boolean complete(String key, long token, Duration ttl) {
        ensureOpen();
        var m = files.maps();
        long now = clock.millis();
        long expiresAt = now + ttl.toMillis();
        for (;;) {
            String old = m.entries().get(key);
            if (old == null) {
                return false;
            }
            var e = Entry.parse(old);
            if (e.token() != token || e.completed()) {
                return false;
            }
            if (m.entries().replace(key, old, Entry.completed(token, now, expiresAt))) {
                m.expiries().put(expiryKey(expiresAt, key), "");
                awaitDurable(writes.incrementAndGet(), m);
                return true;
            }
        }
    }

    @Override
    public boolean release(String key, long token) {
        ensureOpen();
        var m = files.maps();
        for (;;) { // as extend and complete do: an extension landing between the read and the remove is no refusal
            String old = m.entries().get(key);
            if (old == null) {
                return false;
            }
            var e = Entry.parse(old);
            if (e.token() != token || e.completed()) {
                return false;
            }
            if (m.entries().remove(key, old)) {
                return true;
            }
        }
    }

    @Override
    public boolean extend(String key, long token, Duration lease) {
        ensureOpen();
        var m = files.maps();
        long now = clock.millis();
        for (;;) {
            String old = m.entries().get(key);
            if (old == null) {
                return false;
            }
            var e = Entry.parse(old);
            if (e.token() != token || e.completed() || e.first() <= now) {
                return false;
            }
            if (m.entries().replace(key, old, Entry.inProgress(token, now + lease.toMillis()))) {
                return true;
            }
        }
    }

    /** Keys held: in progress, or completed and not yet swept. */
    public long size() {
        return files.maps().entries().sizeAsLong();
    }

    public Path file() {
        return file;
    }

    private long nextToken() {
        long token = tokens.incrementAndGet();
        if (token >= tokensReserved) {
            reserveTokens(token);
        }
        return token;
    }

    /** Tokens are handed out from a block recorded on disk first, so they keep growing after a crash. */
    private synchronized void reserveTokens(long needed) {
        while (needed >= tokensReserved) {
            long next = tokensReserved + TOKEN_BLOCK;
            var m = files.maps();
            m.meta().put("tokensReserved", next);
            m.store().commit();
            tokensReserved = next;
        }
    }

    /**
     * The file was opened again after a failed write: the reservation this process hands tokens out
     * of is written again (the last one may not have reached the file), so tokens keep growing.
     */
    private synchronized void reopened(LedgerFile.Maps m) {
        m.meta().put("tokensReserved", Math.max(tokensReserved, m.meta().getOrDefault("tokensReserved", 0L)));
        m.store().commit();
    }

    /**
     * Group commit: returns once a commit covering write {@code seq} is done. One caller commits
     * everything written so far while the others wait for it (or for the next one), so concurrent
     * completions share commits instead of queueing for one each.
     */
    private void awaitDurable(long seq, LedgerFile.Maps m) {
        commitLock.lock();
        try {
            while (committedWrites < seq) {
                if (committing) {
                    committed.awaitUninterruptibly();
                    continue;
                }
                committing = true;
                long target = writes.get();
                commitLock.unlock();
                boolean ok = false;
                try {
                    m.store().commit();
                    if (fsync) {
                        m.store().sync();
                    }
                    ok = true;
                } finally {
                    commitLock.lock();
                    committing = false;
                    if (ok) {
                        committedWrites = Math.max(committedWrites, target);
                    }
                    committed.signalAll();
                }
            }
        } finally {
            commitLock.unlock();
        }
        if (files.current() != m) {
            // written to a store that broke and was opened again: the commit that counted it may not have had it
            throw new FerryException("ledger " + file + " was opened again after a failed write; this change may be lost", true);
        }
    }

    static String expiryKey(long expiresAt, String key) {
        return String.format("%020d|%s", expiresAt, key);
    }

    /** Removes completed keys whose TTL ran out and claims abandoned for a day; returns how many. */
    public int sweep() {
        var m = files.maps();
        long now = clock.millis();
        int removed = 0;
        var cursor = m.expiries().keyIterator(null);
        var done = new java.util.ArrayList<String>();
        while (cursor.hasNext()) {
            String index = cursor.next();
            long expiresAt = Long.parseLong(index.substring(0, 20));
            if (expiresAt > now) {
                break;
            }
            done.add(index);
        }
        for (String index : done) {
            String key = index.substring(21);
            String value = m.entries().get(key);
            if (value != null) {
                var e = Entry.parse(value);
                if (e.completed() && e.second() <= now && m.entries().remove(key, value)) {
                    removed++;
                }
            }
            m.expiries().remove(index);
        }
        removed += m.journal().sweep(now);
        if (sweeps.getAndIncrement() % 60 != 0) {
            // abandoned claims are rare and reclaimable anyway: look for them once in 60 sweeps
            if (removed > 0) {
                m.store().commit();
            }
            return removed;
        }
        long abandonedBefore = now - ABANDONED.toMillis();
        for (var entry : m.entries().entrySet()) {
            var e = Entry.parse(entry.getValue());
            if (!e.completed() && e.first() < abandonedBefore && m.entries().remove(entry.getKey(), entry.getValue())) {
                removed++;
            }
        }
        if (removed > 0) {
            m.store().commit();
        }
        return removed;
    }

    private void sweepLoop(Duration every) {
        while (!closed) {
            try {
                Thread.sleep(every.toMillis());
                if (!closed) {
                    int removed = sweep();
                    LOG.debug("ledger {}: swept {} expired key(s)", file, removed);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("ledger " + file + ": sweep failed; will try again", e);
            }
        }
    }

    @Override
    public Optional<Claim> peek(String key) {
        ensureOpen();
        var m = files.maps();
        String value = m.entries().get(key);
        if (value == null) {
            return Optional.empty();
        }
        var e = Entry.parse(value);
        long now = clock.millis();
        if (e.completed()) {
            return e.second() > now ? Optional.of(new Claim.Completed(key, Instant.ofEpochMilli(e.first()))) : Optional.empty();
        }
        return e.first() > now ? Optional.of(new Claim.InProgress(key, Instant.ofEpochMilli(e.first()))) : Optional.empty();
    }

    @Override
    public void note(String key, Note note) {
        ensureOpen();
        var m = files.maps();
        m.journal().note(key, note, clock.millis());
    }

    @Override
    public Optional<Journal> journal(String key) {
        ensureOpen();
        var m = files.maps();
        return m.journal().journal(key);
    }

    @Override
    public Optional<ParkedGroup> parkedGroup(String source, String group) {
        ensureOpen();
        var m = files.maps();
        return Optional.ofNullable(m.parked().get(ParkedGroups.key(source, group))).map(ParkedGroups::decode);
    }

    @Override
    public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
        ensureOpen();
        var m = files.maps();
        var of = next != null ? next : Objects.requireNonNull(expected, "expected or next");
        String key = ParkedGroups.key(of.source(), of.group());
        boolean replaced;
        if (expected == null) {
            replaced = m.parked().putIfAbsent(key, ParkedGroups.encode(next)) == null;
        } else {
            String old = m.parked().get(key);
            if (old == null || ParkedGroups.decode(old).version() != expected.version()) {
                return false;
            }
            replaced = next == null ? m.parked().remove(key, old) : m.parked().replace(key, old, ParkedGroups.encode(next));
        }
        if (replaced) {
            awaitDurable(writes.incrementAndGet(), m); // a park lost in a crash would let the group overtake its head
        }
        return replaced;
    }

    @Override
    public List<ParkedGroup> parkedGroups() {
        ensureOpen();
        var m = files.maps();
        return m.parked().values().stream().map(ParkedGroups::decode).toList();
    }

    private void ensureOpen() {
        if (closed) {
            throw new FerryException("ledger " + file + " is closed", false);
        }
    }

    /** Commits and closes the file. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sweeper.interrupt();
        try {
            sweeper.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        files.close();
    }

    /** Breaks the store as H2 does when a write fails under it: for tests of what follows. */
    void breakForTest(MVStoreException failure) {
        files.current().store().panic(failure);
    }

    /** Builds an {@link MvStoreLedger}. */
    public static final class Builder {
        private final Path file;
        private Clock clock = Clock.systemUTC();
        private Duration sweepEvery = Duration.ofMinutes(1);
        private boolean fsync;

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How often expired keys are swept (every minute by default). */
        public Builder sweepEvery(Duration every) {
            if (every == null || every.isNegative() || every.isZero()) {
                throw new IllegalArgumentException("sweepEvery must be > 0, was " + every);
            }
            this.sweepEvery = every;
            return this;
        }

        /** Force each completion to the disk itself (survives a power cut; slower). Off by default. */
        public Builder fsync(boolean fsync) {
            this.fsync = fsync;
            return this;
        }

        public MvStoreLedger build() {
            return new MvStoreLedger(this);
        }
    }
}
