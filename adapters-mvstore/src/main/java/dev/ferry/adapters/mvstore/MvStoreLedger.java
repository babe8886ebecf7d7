package dev.ferry.adapters.mvstore;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.model.Durations;
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
import org.h2.mvstore.MVStoreException;

/**
 * A durable {@link IdempotencyLedger} in one file on local disk, for a single Ferry instance: the packaged app's
 * default. Built on H2's MVStore (a log-structured, copy-on-write key-value store that recovers to its last complete
 * commit after a crash).
 *
 * <p>Claims are lock-free compare-and-set updates and are not forced to disk: a claim lost in a crash is a lease that
 * ended with its worker, which is what a lease is for. A completion is written to the file before {@link #complete}
 * returns (concurrent completions share one commit), so a completed key survives {@code kill -9}; with {@code fsync}
 * on it also survives a power cut. Completed keys expire after their TTL and are swept from an expiry index, so the
 * file does not grow without bound; claims abandoned for a day are swept too. Fencing tokens keep growing across
 * restarts. One process per file: a second one gets a clear error. Parked groups ({@link GroupParking}) are kept in
 * the same file, each change on disk before it returns, and so is the event journal ({@link EventJournal}: written
 * with the next commit — an owed dead letter's mark committed at once, and written again should that commit fail —
 * kept for a week after its last note).
 */
public final class MvStoreLedger implements IdempotencyLedger, GroupParking, EventJournal, AutoCloseable {

    private final Path file;
    /**
     * The file's maps: {@code entries} (key to {@link LedgerEntry}), {@code expiries} ({@code <expiresAt millis, 20
     * digits>|<key>} of completed keys, in expiry order), {@code meta}, {@code parked} ({@link ParkedGroups#key} to
     * {@link ParkedGroups#encode}) and the journal; opened again after a failed write.
     */
    private final LedgerFile files;
    private final Clock clock;
    private final LedgerCommits commits; // the group commit of completions and parks, and others, on a thread nothing interrupts
    private final LedgerTokens tokens;
    private final LedgerSweeper sweeper;
    private final OwedMarks owed; // writes the journal's notes; keeps the owed marks no commit has covered yet
    private volatile boolean closed;

    private MvStoreLedger(Builder b) {
        this.file = b.file;
        this.clock = b.clock;
        this.files = new LedgerFile(file, b.names, this::reopened);
        this.commits = new LedgerCommits(file, files, b.fsync, b.commitBound); // its thread starts with its first commit
        try {
            this.owed = new OwedMarks(file, files, commits);
            this.tokens = LedgerFile.uninterrupted(file, () -> new LedgerTokens(files, commits));
            this.sweeper = new LedgerSweeper(file, files, clock, commits, owed, b.sweepEvery);
        } catch (RuntimeException | Error e) { // neither the file (its lock) nor a thread outlives a ledger never made
            commits.close();
            files.close();
            throw e;
        }
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
        return LedgerFile.uninterrupted(file, () -> claimNow(key, lease));
    }

    private Claim claimNow(String key, Duration lease) {
        Objects.requireNonNull(key, "key");
        ensureOpen();
        var m = files.maps();
        long now = clock.millis();
        long leaseUntil = Durations.plusMillis(now, lease);
        for (;;) {
            String old = m.entries().get(key);
            if (old != null) {
                var e = LedgerEntry.parse(old);
                if (e.completed() && e.second() > now) {
                    return new Claim.Completed(key, Instant.ofEpochMilli(e.first()));
                }
                if (!e.completed() && e.first() > now) {
                    return new Claim.InProgress(key, Instant.ofEpochMilli(e.first()));
                }
            }
            long token = tokens.next();
            String claimed = LedgerEntry.inProgress(token, leaseUntil);
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
        return LedgerFile.uninterrupted(file, () -> completeNow(key, token, ttl));
    }

    private boolean completeNow(String key, long token, Duration ttl) {
        ensureOpen();
        var m = files.maps();
        long now = clock.millis();
        long expiresAt = Durations.plusMillis(now, ttl); // saturated: a TTL of "for ever" stays one
        for (;;) {
            String old = m.entries().get(key);
            if (old == null) {
                return false;
            }
            var e = LedgerEntry.parse(old);
            if (e.token() == token && e.completed()) {
                // completed by this claim already, by a call whose commit failed or ran out of time: a repeat, answered only
                // once a commit covers it (answered at once, the message was acked, and a disk that then failed lost it)
                commits.awaitDurable(m);
                return false;
            }
            if (e.token() != token || e.completed()) {
                return false;
            }
            if (m.entries().replace(key, old, LedgerEntry.completed(token, now, expiresAt))) {
                m.expiries().put(LedgerEntry.expiryKey(expiresAt, key), "");
                commits.awaitDurable(m);
                return true;
            }
        }
    }

    @Override
    public boolean release(String key, long token) {
        return LedgerFile.uninterrupted(file, () -> releaseNow(key, token));
    }

    private boolean releaseNow(String key, long token) {
        ensureOpen();
        var m = files.maps();
        for (;;) { // as extend and complete do: an extension landing between the read and the remove is no refusal
            String old = m.entries().get(key);
            if (old == null) {
                return false;
            }
            var e = LedgerEntry.parse(old);
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
        return LedgerFile.uninterrupted(file, () -> extendNow(key, token, lease));
    }

    private boolean extendNow(String key, long token, Duration lease) {
        ensureOpen();
        var m = files.maps();
        long now = clock.millis();
        for (;;) {
            String old = m.entries().get(key);
            if (old == null) {
                return false;
            }
            var e = LedgerEntry.parse(old);
            if (e.token() != token || e.completed() || e.first() <= now) {
                return false;
            }
            if (m.entries().replace(key, old, LedgerEntry.inProgress(token, Durations.plusMillis(now, lease)))) {
                return true;
            }
        }
    }

    /** Keys held: in progress, or completed and not yet swept. */
    public long size() {
        return LedgerFile.uninterrupted(file, () -> files.maps().entries().sizeAsLong());
    }

    public Path file() {
        return file;
    }

    /** The file was opened again after a failed write: see {@link OwedMarks#reopened}, {@link LedgerTokens#reopened}. */
    private void reopened(LedgerFile.Maps m) {
        if (tokens != null) { // null only while this ledger is being made: nothing handed out yet (final once made)
            try {
                owed.reopened(m, clock.millis()); // the marks a failed commit lost with the store: written again
            } finally {
                tokens.reopened(m);
            }
        }
    }

    /** Removes completed keys whose TTL ran out and claims abandoned for a day; returns how many. */
    public int sweep() {
        return LedgerFile.uninterrupted(file, sweeper::sweep);
    }

    @Override
    public Optional<Claim> peek(String key) {
        return LedgerFile.uninterrupted(file, () -> peekNow(key));
    }

    private Optional<Claim> peekNow(String key) {
        ensureOpen();
        return LedgerEntry.asClaim(key, files.maps().entries().get(key), clock.millis());
    }

    /** Claims are not forced to disk: this waits for a commit that covers those made so far. */
    @Override
    public boolean persist() {
        return LedgerFile.uninterrupted(file, () -> {
            ensureOpen();
            commits.awaitDurable(files.maps());
            return true;
        });
    }

    @Override
    public void note(String key, Note note) {
        LedgerFile.uninterrupted(file, () -> {
            noteNow(key, note);
            return null;
        });
    }

    private void noteNow(String key, Note note) {
        ensureOpen();
        owed.note(files.maps(), key, note, clock.millis()); // an owed dead letter's mark committed soon, kept until it is
    }

    @Override
    public Optional<Journal> journal(String key) {
        return LedgerFile.uninterrupted(file, () -> journalNow(key));
    }

    private Optional<Journal> journalNow(String key) {
        ensureOpen();
        var m = files.maps();
        return m.journal().journal(key);
    }

    @Override
    public Optional<ParkedGroup> parkedGroup(String source, String group) {
        return LedgerFile.uninterrupted(file, () -> parkedGroupNow(source, group));
    }

    private Optional<ParkedGroup> parkedGroupNow(String source, String group) {
        ensureOpen();
        var m = files.maps();
        if (commits.behind()) { // a change whose commit failed or ran out of time: answered once a commit covers it, as above
            commits.awaitDurable(m); // (from memory, a retry took it for written, and a failed disk lost it: parked for good)
        }
        return Optional.ofNullable(m.parked().get(ParkedGroups.key(source, group))).map(ParkedGroups::decode);
    }

    @Override
    public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
        return LedgerFile.uninterrupted(file, () -> replaceParkedGroupNow(expected, next));
    }

    private boolean replaceParkedGroupNow(ParkedGroup expected, ParkedGroup next) {
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
            commits.awaitDurable(m); // a park lost in a crash would let the group overtake its head
        }
        return replaced;
    }

    @Override
    public List<ParkedGroup> parkedGroups() {
        return parkedGroups(Integer.MAX_VALUE).groups();
    }

    /** Reads at most {@code limit} of the map's entries; counts them all by its size. */
    @Override
    public dev.ferry.domain.parking.ParkedGroupListing parkedGroups(int limit) {
        return LedgerFile.uninterrupted(file, () -> {
            ensureOpen();
            return ParkedGroups.some(files.maps().parked(), limit);
        });
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
        try {
            LedgerFile.uninterrupted(file, () -> {
                boolean interrupted = !sweeper.stop();
                commits.closeWith(files::close); // writes what is not committed yet: after the commits under way
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
        } finally {
            commits.close();
        }
    }

    void breakForTest(MVStoreException failure) { // a test's: breaks the store as H2 does when a write fails under it
        files.current().store().panic(failure);
    }

    /** Whether each commit is forced to the disk itself ({@link Builder#fsync}). */
    public boolean fsync() {
        return commits.fsync();
    }

    /** Builds an {@link MvStoreLedger}. */
    public static final class Builder {
        private final Path file;
        private Clock clock = Clock.systemUTC();
        private Duration sweepEvery = Duration.ofMinutes(1);
        private boolean fsync;
        private java.util.function.Function<Path, String> names = dev.ferry.adapters.mvstore.internal.UninterruptibleFilePath::of;
        private Duration commitBound = LedgerCommits.BOUND;

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How often expired keys are swept (every minute by default). */
        public Builder sweepEvery(Duration every) {
            if (every == null || every.compareTo(Duration.ofMillis(1)) < 0 || every.compareTo(Duration.ofDays(36_500)) > 0) {
                throw new IllegalArgumentException("sweepEvery must be 1 ms to 36500 days, was " + every); // else it spun
            }
            this.sweepEvery = every;
            return this;
        }

        /** Force each completion to the disk itself (survives a power cut; slower). Off by default. */
        public Builder fsync(boolean fsync) {
            this.fsync = fsync;
            return this;
        }

        /** A test's: the name H2 opens the file by (a scheme that holds or fails writes). */
        Builder names(java.util.function.Function<Path, String> names) {
            this.names = Objects.requireNonNull(names, "names");
            return this;
        }

        /** A test's: the longest a caller waits for a commit. */
        Builder commitBound(Duration bound) {
            this.commitBound = Objects.requireNonNull(bound, "bound");
            return this;
        }

        public MvStoreLedger build() {
            return new MvStoreLedger(this);
        }
    }
}
