package dev.ferry.adapters.mvstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.contract.EventJournalContract;
import dev.ferry.domain.contract.GroupParkingContract;
import dev.ferry.domain.contract.LedgerContract;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MvStoreLedgerTest {

    @TempDir
    Path dir;

    private final List<MvStoreLedger> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(MvStoreLedger::close);
    }

    private MvStoreLedger open(Path file, MutableClock clock) {
        var ledger = MvStoreLedger.builder(file).clock(clock).build();
        opened.add(ledger);
        return ledger;
    }

    /** The promises every ledger keeps. */
    @Nested
    class Contract extends LedgerContract {
        @Override
        protected IdempotencyLedger newLedger(MutableClock clock) {
            return open(dir.resolve("contract-" + System.nanoTime() + ".db"), clock);
        }
    }

    /** The promises every parked-group store keeps. */
    @Nested
    class Parking extends GroupParkingContract {
        @Override
        protected GroupParking newStore(MutableClock clock) {
            return open(dir.resolve("parking-" + System.nanoTime() + ".db"), clock);
        }
    }

    /** The event journal and peek. */
    @Nested
    class Journal extends EventJournalContract {
        @Override
        protected IdempotencyLedger newLedger(MutableClock clock) {
            return open(dir.resolve("journal-" + System.nanoTime() + ".db"), clock);
        }
    }

    @Test // a review: under a millisecond the sweeper waited 0 ms between sweeps, spinning a core against the claims
    void aSweepOfUnderAMillisecond_isRefused() {
        assertThatThrownBy(() -> MvStoreLedger.builder(dir.resolve("spin.db")).sweepEvery(Duration.ofNanos(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 ms to 36500 days");
        // "never": its milliseconds overflowed at every pass, a warning and a stack trace each, spinning too
        assertThatThrownBy(() -> MvStoreLedger.builder(dir.resolve("spin.db"))
                .sweepEvery(java.time.temporal.ChronoUnit.FOREVER.getDuration())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void journals_surviveReopen_andGoAWeekAfterTheirLastNote() {
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var file = dir.resolve("journal.db");
        var first = open(file, clock);
        first.note("e:1:s:k", new dev.ferry.domain.idempotency.EventJournal.Note.Failed("e:1:s:k", "HTTP 503", "m1", clock.instant()));
        first.close();
        opened.remove(first);

        var second = open(file, clock);
        assertThat(second.journal("e:1:s:k")).hasValueSatisfying(j -> assertThat(j.lastReason()).isEqualTo("HTTP 503"));
        clock.advance(Duration.ofDays(6));
        second.note("e:1:s:k", new dev.ferry.domain.idempotency.EventJournal.Note.Duplicate("e:1:s:k", "m2", clock.instant()));
        clock.advance(Duration.ofDays(2));
        second.sweep();
        assertThat(second.journal("e:1:s:k")).as("a week from its last note, not its first").isPresent();
        clock.advance(Duration.ofDays(6));
        second.sweep();
        assertThat(second.journal("e:1:s:k")).isEmpty();
    }

    @Test
    void parkedGroups_surviveCloseAndReopen() {
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var file = dir.resolve("parked.db");
        var first = open(file, clock);
        var parker = new GroupParker(first, clock);
        parker.park("orders", "A", "a2", "m-2", "a2 fails: line 1\nwith | and ; and 12:colons", null, false);
        parker.park("orders", "A", "a3", "m-3", "behind", null, true);
        var before = first.parkedGroup("orders", "A").orElseThrow();
        first.close();
        opened.remove(first);

        var second = open(file, clock);
        assertThat(second.parkedGroup("orders", "A")).contains(before);
        assertThat(before.parked()).isEqualTo(2);
        assertThat(before.reason()).isEqualTo("a2 fails: line 1\nwith | and ; and 12:colons");
        assertThat(second.parkedGroups()).containsExactly(before);
    }

    @Test // a review: an owed dead letter's mark was written with the next autocommit; a write failing within that second
          // (or a kill -9) lost it, and the copy that came back ran again, after its group's later messages
    void anOwedDeadLettersMark_isCommittedAtOnce_notWithTheNextAutocommit() throws Exception {
        var clock = new MutableClock(java.time.Instant.parse("2026-12-05T10:00:00Z"));
        var ledger = open(dir.resolve("owed.db"), clock);
        String key = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-1");
        ledger.note(key, new dev.ferry.domain.idempotency.EventJournal.Note.DeadLettered(null,
                dev.ferry.domain.idempotency.EventLookup.OWED + "poison", "m-1", clock.instant()));
        Thread.sleep(300); // within the autocommit's second: a commit asked at once has run by now
        breakStore(ledger, "disk full (injected)");
        java.util.Optional<dev.ferry.domain.idempotency.EventJournal.Journal> after = null;
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (after == null && System.nanoTime() < end) {
            try {
                after = ledger.journal(key);
            } catch (FerryException e) {
                Thread.sleep(100); // opened again a second after the failure
            }
        }
        assertThat(after).as("the owed mark outlived the failed write").hasValueSatisfying(j ->
                assertThat(j.deadLetterReason()).startsWith(dev.ferry.domain.idempotency.EventLookup.OWED));
    }

    @Test // a review: the mark's note had returned (committed soon, not waited for), so the journal's writer kept nothing;
          // its own commit failed (an I/O error: H2 broke the store), the file opened again without it, and nothing wrote
          // it again — the copy that came back found no mark and ran after its group's later messages
    void anOwedDeadLettersMark_whoseOwnCommitFails_isWrittenAgainIntoTheFileOpenedAfterIt() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var file = dir.resolve("owed-failed.db");
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        opened.add(ledger);
        String key = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-1");
        try {
            LedgerCommitsTest.HeldFilePath.entered = new CountDownLatch(1);
            LedgerCommitsTest.HeldFilePath.held = new CountDownLatch(1); // the next write, the mark's commit's, waits
            ledger.note(key, new dev.ferry.domain.idempotency.EventJournal.Note.DeadLettered(null,
                    dev.ferry.domain.idempotency.EventLookup.OWED + " (a stop)", "m-1",
                    java.time.Instant.parse("2026-12-07T10:00:00Z")));
            assertThat(LedgerCommitsTest.HeldFilePath.entered.await(10, TimeUnit.SECONDS)).as("the mark's commit under way")
                    .isTrue();
            LedgerCommitsTest.HeldFilePath.failHeldWrite = true;
            LedgerCommitsTest.HeldFilePath.held.countDown(); // the disk answers: an I/O error, and H2 breaks the store
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!panicked(ledger) && System.nanoTime() < end) {
                Thread.sleep(10); // asked before, the store still open answered from memory
            }
            assertThat(panicked(ledger)).as("the store broken by the failed write").isTrue();
        } finally {
            LedgerCommitsTest.HeldFilePath.held.countDown();
            LedgerCommitsTest.HeldFilePath.failHeldWrite = false;
        }

        java.util.Optional<dev.ferry.domain.idempotency.EventJournal.Journal> after = null;
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (after == null && System.nanoTime() < end) {
            try {
                after = ledger.journal(key); // opened again from the file
            } catch (FerryException e) {
                Thread.sleep(100); // opened again a second after the last try
            }
        }
        assertThat(after).as("the owed mark, in the file opened again").isNotNull().hasValueSatisfying(j ->
                assertThat(dev.ferry.domain.idempotency.EventLookup.owed(j.deadLetterReason())).isTrue());
    }

    @Test // a review of that: the marks were written into the file opened anew once, by whoever reopened it; a throw
          // between (a log handler's Error at the reopening's warning) skipped it for good, and a restart lost the mark
    void anOwedMarkWhoseReopeningsTellingThrew_isWrittenIntoTheFileOpenedAnew_byTheSweeper() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var file = dir.resolve("owed-untold.db");
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).sweepEvery(Duration.ofMillis(100)).build();
        opened.add(ledger);
        String key = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-2");
        var logger = java.util.logging.Logger.getLogger(LedgerFile.class.getName());
        var throwsOnce = new java.util.logging.Handler() {
            final java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean(true);

            @Override
            public void publish(java.util.logging.LogRecord record) {
                String message = String.valueOf(record.getMessage());
                if (message.contains("opened again after a failed write") && armed.compareAndSet(true, false)) {
                    throw new OutOfMemoryError("injected at the reopening's warning");
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        var level = logger.getLevel();
        logger.setLevel(java.util.logging.Level.ALL); // the tests' logging.properties keeps only SEVERE: a warning unheard
        logger.addHandler(throwsOnce);
        try {
            try {
                LedgerCommitsTest.HeldFilePath.entered = new CountDownLatch(1);
                LedgerCommitsTest.HeldFilePath.held = new CountDownLatch(1);
                ledger.note(key, new dev.ferry.domain.idempotency.EventJournal.Note.DeadLettered(null,
                        dev.ferry.domain.idempotency.EventLookup.OWED + " (a stop)", "m-2",
                        java.time.Instant.parse("2026-12-07T10:00:00Z")));
                assertThat(LedgerCommitsTest.HeldFilePath.entered.await(10, TimeUnit.SECONDS)).isTrue();
                LedgerCommitsTest.HeldFilePath.failHeldWrite = true;
                LedgerCommitsTest.HeldFilePath.held.countDown();
                long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!panicked(ledger) && System.nanoTime() < end) {
                    Thread.sleep(10);
                }
                assertThat(panicked(ledger)).isTrue();
            } finally {
                LedgerCommitsTest.HeldFilePath.held.countDown();
                LedgerCommitsTest.HeldFilePath.failHeldWrite = false;
            }
            boolean owed = false;
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!owed && System.nanoTime() < end) {
                try {
                    owed = ledger.journal(key).map(j -> dev.ferry.domain.idempotency.EventLookup.owed(j.deadLetterReason()))
                            .orElse(false);
                } catch (FerryException | OutOfMemoryError e) { // the reopening's, once
                }
                Thread.sleep(50);
            }
            assertThat(throwsOnce.armed.get()).as("the reopening's warning threw").isFalse();
            assertThat(owed).as("the owed mark, in the file opened anew, though its reopening's telling threw").isTrue();
        } finally {
            logger.removeHandler(throwsOnce);
            logger.setLevel(level);
        }
    }

    /** H2 closes its store for good when a write fails under it (a full disk): the ledger opens the file again. */
    @Test
    void aWriteThatFailedUnderTheStore_isOutlived_theFileOpensAgain_withWhatWasCommitted() throws Exception {
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var ledger = open(dir.resolve("broken.db"), clock);
        var before = (Claim.Acquired) ledger.claim("done-before", Duration.ofMinutes(5));
        assertThat(ledger.complete("done-before", before.token(), Duration.ofHours(1))).isTrue();
        breakStore(ledger, "disk full (injected)");

        Claim after = null;
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (after == null && System.nanoTime() < end) {
            try {
                after = ledger.claim("after", Duration.ofMinutes(5));
            } catch (FerryException e) {
                assertThat(e.retryable()).as("a store that broke is worth asking again: " + e).isTrue();
                Thread.sleep(100);
            }
        }

        assertThat(after).as("claims work again").isInstanceOf(Claim.Acquired.class);
        assertThat(((Claim.Acquired) after).token()).as("tokens keep growing").isGreaterThan(before.token());
        assertThat(ledger.claim("done-before", Duration.ofMinutes(5))).as("committed before the failure")
                .isInstanceOf(Claim.Completed.class);
        var done = (Claim.Acquired) after;
        assertThat(ledger.complete("after", done.token(), Duration.ofHours(1))).isTrue();
    }

    @Test // a review: opened again while the disk still failed, H2 took the newest chunk it could not read for one not
          // there and opened at an older one, unsaid; its next commit was written over the newer: a completion that had
          // returned was lost for good, and a later copy of the acked message ran again
    void aReopenThatReadsTheFileBackOlderThanACommit_isRefused_untilItsReadsWork() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var clock = new MutableClock(java.time.Instant.parse("2026-12-05T10:00:00Z"));
        var file = dir.resolve("older.db");
        var ledger = MvStoreLedger.builder(file).clock(clock).names(p -> "ferry-held:" + p).build();
        opened.add(ledger);
        var a = (Claim.Acquired) ledger.claim("A", Duration.ofMinutes(5));
        assertThat(ledger.persist()).isTrue(); // the claim on disk: what the chunks before A's completion hold of A
        long newest = java.nio.file.Files.size(file); // H2 writes its next chunks past here (it appends them)
        assertThat(ledger.complete("A", a.token(), Duration.ofHours(1))).as("durably committed").isTrue();
        breakStore(ledger, "disk full (injected)");
        try {
            LedgerCommitsTest.HeldFilePath.failReadsPast = newest; // the disk fails where the newest chunks are
            // opened again at once: it opened at the chunk before A's completion, and answered A in progress
            assertThatThrownBy(() -> ledger.peek("A")).isInstanceOf(FerryException.class)
                    .hasMessageContaining("older than what was committed")
                    .satisfies(e -> assertThat(((FerryException) e).retryable()).as("it may pass").isTrue());
        } finally {
            LedgerCommitsTest.HeldFilePath.failReadsPast = Long.MAX_VALUE;
        }

        var after = peekOnceOpened(ledger, "A", Duration.ofSeconds(10));
        assertThat(after).as("the completion that returned, once the disk reads again")
                .hasValueSatisfying(c -> assertThat(c).isInstanceOf(Claim.Completed.class));
    }

    @Test // a review: an owed dead letter's mark is committed soon, not waited for, and that commit was not counted: a
          // reopening that read the file back older opened without it, unsaid, and the copy that came back ran after
          // its group's later messages
    void anOwedMarksCommit_countsAsCommitted_soAReopenThatReadsTheFileBackOlderIsRefused() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var at = java.time.Instant.parse("2026-12-05T10:00:00Z");
        var file = dir.resolve("owed-older.db");
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        opened.add(ledger);
        ledger.claim("A", Duration.ofMinutes(5));
        assertThat(ledger.persist()).isTrue();
        long newest = java.nio.file.Files.size(file); // H2 writes its next chunks past here (it appends them)
        long before = committed(ledger);
        String key = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-1");
        ledger.note(key, new dev.ferry.domain.idempotency.EventJournal.Note.DeadLettered(null,
                dev.ferry.domain.idempotency.EventLookup.OWED + " (a stop)", "m-1", at));
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (committed(ledger) <= before && System.nanoTime() < end) {
            Thread.sleep(10); // the mark's commit, soon, and counted: not merely its chunk under way (a break then lost it)
        }
        assertThat(committed(ledger)).as("the mark's commit counted").isGreaterThan(before);
        assertThat(java.nio.file.Files.size(file)).as("the mark's chunk written").isGreaterThan(newest);
        breakStore(ledger, "disk full (injected)");
        try {
            LedgerCommitsTest.HeldFilePath.failReadsPast = newest; // the disk fails where the mark's chunk is
            assertThatThrownBy(() -> ledger.journal(key)).as("opened older than the mark's commit: refused")
                    .isInstanceOf(FerryException.class).hasMessageContaining("older than what was committed");
        } finally {
            LedgerCommitsTest.HeldFilePath.failReadsPast = Long.MAX_VALUE;
        }

        java.util.Optional<dev.ferry.domain.idempotency.EventJournal.Journal> after = null;
        end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (after == null && System.nanoTime() < end) {
            try {
                after = ledger.journal(key);
            } catch (FerryException e) {
                assertThat(e.retryable()).as("worth asking again: " + e).isTrue();
                Thread.sleep(100); // opened again a second after the last try
            }
        }
        assertThat(after).as("the mark, once the disk reads again").hasValueSatisfying(j ->
                assertThat(dev.ferry.domain.idempotency.EventLookup.owed(j.deadLetterReason())).isTrue());
    }

    @Test // a second look: with fsync on, the owed mark's commit counted a chunk never synced — its write-back failed, the
          // file read back older at every reopen, each refused: the ledger wedged on a healthy disk until a restart
    void withFsync_anOwedMarksCommitWhoseSyncFails_isNotCounted_soTheLedgerOpensAgainFromWhatTheDiskHas() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var file = dir.resolve("owed-unsynced.db");
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).fsync(true).build();
        opened.add(ledger);
        ledger.claim("A", Duration.ofMinutes(5));
        assertThat(ledger.persist()).isTrue();
        long newest = java.nio.file.Files.size(file);
        long before = committed(ledger);
        String key = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-2");
        try {
            LedgerCommitsTest.HeldFilePath.failForce = true; // the mark's chunk written to the page cache, never synced
            ledger.note(key, new dev.ferry.domain.idempotency.EventJournal.Note.DeadLettered(null,
                    dev.ferry.domain.idempotency.EventLookup.OWED + " (a stop)", "m-2",
                    java.time.Instant.parse("2026-12-07T10:00:00Z")));
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (committed(ledger) <= before && !broken(ledger) && System.nanoTime() < end) {
                Thread.sleep(10); // the mark's commit, soon: counted, or its store broken by the failed sync
            }
            LedgerCommitsTest.HeldFilePath.failForce = false;
            if (!broken(ledger)) {
                breakStore(ledger, "write-back failed (injected)");
            }
            LedgerCommitsTest.HeldFilePath.failReadsPast = newest; // the chunk never reached the disk: gone for good

            java.util.Optional<Claim> a = null;
            end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (a == null && System.nanoTime() < end) {
                try {
                    a = ledger.peek("A");
                } catch (FerryException e) {
                    Thread.sleep(100); // opened again a second after the last try
                }
            }
            assertThat(a).as("opened again from what the disk has, the claim before the mark in it").isNotNull()
                    .hasValueSatisfying(c -> assertThat(c).isInstanceOf(Claim.InProgress.class));
        } finally {
            LedgerCommitsTest.HeldFilePath.failForce = false;
            LedgerCommitsTest.HeldFilePath.failReadsPast = Long.MAX_VALUE;
        }
    }

    @Test // a review of the fix above: a sweep's commit (not synced, fsync or not) was counted all the same — its
          // write-back failed, every reopen read the file back older and was refused: wedged until a restart
    void withFsync_aSweepsCommit_isNotCounted_soTheLedgerOpensAgainFromWhatTheDiskHas() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var clock = new MutableClock(java.time.Instant.parse("2026-12-07T10:00:00Z"));
        var file = dir.resolve("swept-unsynced.db");
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).fsync(true).clock(clock).build();
        opened.add(ledger);
        var a = (Claim.Acquired) ledger.claim("A", Duration.ofMinutes(5));
        assertThat(ledger.complete("A", a.token(), Duration.ofMinutes(1))).isTrue(); // committed and synced
        ledger.claim("B", Duration.ofMinutes(5));
        assertThat(ledger.persist()).isTrue();
        long synced = java.nio.file.Files.size(file);
        long before = committed(ledger);
        clock.advance(Duration.ofMinutes(2));
        assertThat(ledger.sweep()).as("A's completion expired: swept, committed, not synced").isEqualTo(1);
        assertThat(java.nio.file.Files.size(file)).as("the sweep's chunk written").isGreaterThan(synced);
        breakStore(ledger, "write-back failed (injected)");
        try {
            LedgerCommitsTest.HeldFilePath.failReadsPast = synced; // the sweep's chunk never reached the disk
            var b = peekOnceOpened(ledger, "B", Duration.ofSeconds(10));
            assertThat(b).as("opened again from what the disk has; counted " + before + " before the sweep, "
                    + committed(ledger) + " after").isNotNull()
                    .hasValueSatisfying(c -> assertThat(c).isInstanceOf(Claim.InProgress.class));
        } finally {
            LedgerCommitsTest.HeldFilePath.failReadsPast = Long.MAX_VALUE;
        }
    }

    @Test // a review of the fix above: with fsync off (the default) a sweep's commit is counted, though in the page
          // cache only — its write-back failed, every reopen read the file back older and was refused, every call
          // failing until a restart, which opened that older file anyway. Read back the same past the bound: opened
    void withoutFsync_aFileReadBackOlderForLongerThanTheBound_isOpenedAsItIs_andWhatIsLostSaid() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var clock = new MutableClock(java.time.Instant.parse("2026-12-07T10:00:00Z"));
        var file = dir.resolve("swept-unwritten.db");
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).clock(clock)
                .commitBound(Duration.ofSeconds(2)).build(); // fsync off
        opened.add(ledger);
        var a = (Claim.Acquired) ledger.claim("A", Duration.ofMinutes(5));
        assertThat(ledger.complete("A", a.token(), Duration.ofMinutes(1))).isTrue();
        ledger.claim("B", Duration.ofMinutes(5));
        assertThat(ledger.persist()).isTrue();
        long written = java.nio.file.Files.size(file);
        long before = committed(ledger);
        clock.advance(Duration.ofMinutes(2));
        assertThat(ledger.sweep()).as("A's completion expired: swept, committed").isEqualTo(1);
        assertThat(java.nio.file.Files.size(file)).as("the sweep's chunk written").isGreaterThan(written);
        long swept = committed(ledger);
        assertThat(swept).as("fsync off: the sweep's commit counted").isGreaterThan(before);
        breakStore(ledger, "write-back failed (injected)");
        var errors = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) {
                    errors.add(String.valueOf(r.getMessage())); // slf4j hands its lines over formatted
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        var log = java.util.logging.Logger.getLogger(MvStoreLedger.class.getPackageName()); // the ledger's classes'
        log.addHandler(handler);
        try {
            // the sweep's chunk never reached the disk: the file reads through, older (a disk that fails reads where
            // the newer chunks are is waited for: the next test)
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.truncate(written);
            }
            var b = peekOnceOpened(ledger, "B", Duration.ofSeconds(15));
            assertThat(b).as("read back older for the bound's 2 s: opened as it is, as a restart would (counted "
                    + swept + ")").isNotNull()
                    .hasValueSatisfying(c -> assertThat(c).isInstanceOf(Claim.InProgress.class));
            assertThat(errors).as("what is lost said").anySatisfy(line -> assertThat(line)
                    .contains("as a restart would").contains("is lost").contains(String.valueOf(swept)));
        } finally {
            log.removeHandler(handler);
            LedgerCommitsTest.HeldFilePath.failReadsPast = Long.MAX_VALUE;
        }
    }

    @Test // a review of the fix above: a disk that failed its reads where the newest chunks are, for longer than the
          // bound, read back the same older version each time: opened older, and the completion that had returned was
          // lost once the disk healed. A file that does not read through is waited for, whatever the bound
    void withoutFsync_aFileThatFailsItsReadsPastTheBound_isStillRefused_andOpenedWhole_onceItsReadsWork()
            throws Exception {
        var broken = completedThenBroken("failing-long.db");
        var ledger = broken.ledger();
        long newest = broken.newest();
        var writerRanBeside = new java.util.concurrent.atomic.AtomicReference<String>();
        // the broken opening's own writer may still be ending (H2 does not wait for it as it closes a store that broke,
        // and a busy machine schedules it late): its file is closed, it writes nothing more — only a writer of a new
        // opening could write over the newer chunks (a CI run counted the old one as one)
        var ofTheBrokenOpening = java.util.Set.copyOf(Thread.getAllStackTraces().keySet());
        try {
            LedgerCommitsTest.HeldFilePath.failReadsPast = newest; // the disk fails where the newest chunks are
            // a last look: H2's background writer ran while the file was read through, free to commit on the older
            // version over the newer chunks' blocks (or to cut the file)
            LedgerCommitsTest.HeldFilePath.onFailedRead = () -> Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("MVStore background writer") && t.getName().contains("failing-long"))
                    .filter(t -> !ofTheBrokenOpening.contains(t))
                    .findAny().ifPresent(t -> writerRanBeside.set(t.getName()));
            long end = System.nanoTime() + Duration.ofSeconds(3).toNanos(); // three times the bound
            var refusals = new java.util.ArrayList<String>();
            while (System.nanoTime() < end) {
                try {
                    ledger.peek("A");
                    org.junit.jupiter.api.Assertions.fail("answered while its reads fail, opened older");
                } catch (FerryException refused) {
                    refusals.add(refused.getMessage()); // the store that broke between openings (one a second)
                }
                Thread.sleep(200);
            }
            assertThat(refusals).as("an opening past the bound refused, saying where the file fails to read")
                    .anySatisfy(m -> assertThat(m).contains("older than what was committed")
                            .contains("fails to read at byte"));
            assertThat(writerRanBeside.get()).as("no writer of the file while it was read through").isNull();
        } finally {
            LedgerCommitsTest.HeldFilePath.failReadsPast = Long.MAX_VALUE;
            LedgerCommitsTest.HeldFilePath.onFailedRead = null;
        }
        var after = peekOnceOpened(ledger, "A", Duration.ofSeconds(10));
        assertThat(after).as("the completion that returned, once the disk reads again")
                .hasValueSatisfying(c -> assertThat(c).isInstanceOf(Claim.Completed.class));
    }

    @Test // a review of the fix above: H2 opened at an older version on reads that failed (it takes a read that fails for
          // a chunk not there), and the ledger's read of the file through after it passed — a disk that fails at times,
          // or healed meanwhile: past the bound the file was opened older on evidence from a read other than H2's, the
          // completion that had returned was lost, and a later copy of the acked message ran again
    void withoutFsync_anOpeningWhoseOwnReadsFailed_isNeverOpenedOlder_thoughTheReadThroughAfterItPasses()
            throws Exception {
        var broken = completedThenBroken("failing-at-times.db");
        var ledger = broken.ledger();
        long newest = broken.newest();
        var answered = new ArrayList<java.util.Optional<Claim>>();
        var refusals = new ArrayList<String>();
        try {
            // H2's reads where the newest chunks are fail as it opens the store; the ledger's read-through after it passes
            LedgerCommitsTest.HeldFilePath.failOpeningReadsPast = newest;
            long end = System.nanoTime() + Duration.ofSeconds(3).toNanos(); // three times the bound
            while (System.nanoTime() < end) {
                try {
                    answered.add(ledger.peek("A"));
                } catch (FerryException refused) {
                    refusals.add(refused.getMessage()); // the store that broke between openings (one a second)
                }
                Thread.sleep(200);
            }
        } finally {
            LedgerCommitsTest.HeldFilePath.failOpeningReadsPast = Long.MAX_VALUE;
        }
        assertThat(answered).as("never answered from the older version H2 opened at on reads that failed").isEmpty();
        assertThat(refusals).as("refused, saying the opening's own reads failed")
                .anySatisfy(m -> assertThat(m).contains("older than what was committed").contains("reads failed"));

        var after = peekOnceOpened(ledger, "A", Duration.ofSeconds(10));
        assertThat(after).as("the completion that returned, once an opening reads the file cleanly")
                .hasValueSatisfying(c -> assertThat(c).isInstanceOf(Claim.Completed.class));
    }

    @Test // a review: H2's failures left the ledger as H2 threw them, not as the FerryException the ports say: the
          // listener took a journal read that failed for a moment for a damaged note ("no dead letter owed"), and ran
          // the message again
    void aReadThatFailsUnderTheStore_isARetryableFerryException_withH2sCause_andPassesWithTheDisk() {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var file = dir.resolve("eio.db");
        var at = java.time.Instant.parse("2026-12-05T10:00:00Z");
        var first = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        opened.add(first);
        for (int i = 0; i < 1_000; i++) { // pages enough that a key's is read from the file, not held since the opening
            first.claim("k-" + i, Duration.ofMinutes(5));
            first.note(dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-" + i),
                    new dev.ferry.domain.idempotency.EventJournal.Note.Failed(null, "HTTP 503", "m-" + i, at));
        }
        first.close(); // commits all: the next opening reads its pages from the file as they are asked for
        opened.remove(first);
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        opened.add(ledger);
        String key = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-500");
        try {
            LedgerCommitsTest.HeldFilePath.failReadsOf = Thread.currentThread(); // EIO, for this caller's reads alone
            assertThatThrownBy(() -> ledger.journal(key)).as("a journal read").isInstanceOf(FerryException.class)
                    .hasCauseInstanceOf(org.h2.mvstore.MVStoreException.class)
                    .satisfies(e -> assertThat(((FerryException) e).retryable()).as("it may pass").isTrue());
            assertThatThrownBy(() -> ledger.claim("k-500", Duration.ofMinutes(5))).as("a claim")
                    .isInstanceOf(FerryException.class).hasCauseInstanceOf(org.h2.mvstore.MVStoreException.class)
                    .satisfies(e -> assertThat(((FerryException) e).retryable()).as("it may pass").isTrue());
        } finally {
            LedgerCommitsTest.HeldFilePath.failReadsOf = null;
        }
        assertThat(ledger.journal(key)).as("the disk back").hasValueSatisfying(j ->
                assertThat(j.lastReason()).isEqualTo("HTTP 503"));
        assertThat(ledger.claim("k-500", Duration.ofMinutes(5))).as("still held by its claim")
                .isInstanceOf(Claim.InProgress.class);
    }

    @Test // a review of the fix above: every H2 failure taken as passing, a damaged page held each message whose journal
          // note is on it for ever, said "perhaps for a moment" — a note it cannot read owes nothing
    void aDamagedPageUnderTheStore_isAFerryExceptionNotRetryable() {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var file = dir.resolve("damaged.db");
        var at = java.time.Instant.parse("2026-12-05T10:00:00Z");
        var first = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        opened.add(first);
        for (int i = 0; i < 1_000; i++) {
            first.note(dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-" + i),
                    new dev.ferry.domain.idempotency.EventJournal.Note.Failed(null, "HTTP 503", "m-" + i, at));
        }
        first.close();
        opened.remove(first);
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        opened.add(ledger);
        String key = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-500");
        try {
            LedgerCommitsTest.HeldFilePath.corruptReadsOf = Thread.currentThread(); // zeros, for this caller's reads
            assertThatThrownBy(() -> ledger.journal(key)).isInstanceOf(FerryException.class)
                    .hasCauseInstanceOf(org.h2.mvstore.MVStoreException.class).hasMessageContaining("damaged")
                    .satisfies(e -> assertThat(((FerryException) e).retryable()).as("a retry does not mend it").isFalse());
        } finally {
            LedgerCommitsTest.HeldFilePath.corruptReadsOf = null;
        }
    }

    @Test
    void aLedgerClosedOnPurpose_isNotOpenedAgainBehindItsBack_andFreesItsFile() {
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var file = dir.resolve("closed.db");
        var ledger = MvStoreLedger.builder(file).clock(clock).build();
        ledger.close();

        assertThatThrownBy(ledger::size).isInstanceOf(FerryException.class).hasMessageContaining("closed");
        var again = open(file, clock); // the file is free for the next opener
        assertThat(again.claim("k", Duration.ofMinutes(1))).isInstanceOf(Claim.Acquired.class);
    }

    @Test
    void completedKeys_andGrowingTokens_surviveCloseAndReopen() {
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var file = dir.resolve("ledger.db");
        var first = open(file, clock);
        var a = (Claim.Acquired) first.claim("doc-1#0", Duration.ofSeconds(30));
        assertThat(first.complete("doc-1#0", a.token(), Duration.ofDays(1))).isTrue();
        first.close();
        opened.remove(first);

        var second = open(file, clock);
        assertThat(second.claim("doc-1#0", Duration.ofSeconds(30))).isInstanceOf(Claim.Completed.class);
        var b = (Claim.Acquired) second.claim("doc-2#0", Duration.ofSeconds(30));
        assertThat(b.token()).isGreaterThan(a.token());
    }

    @Test
    void aCallerWithItsInterruptFlagSet_keepsIt_leavesTheFileWorking_andItsCompletionSurvivesAReopen() throws Exception {
        // a handler past the shutdown deadline is interrupted, keeps its flag, and its delivery's completion is then
        // recorded on that thread: an interrupted file channel closes for every listener on the file, and a commit
        // interrupted while it waits returns before its write is done
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var file = dir.resolve("interrupted.db");
        var ledger = open(file, clock);
        var seen = new java.util.concurrent.atomic.AtomicReference<List<Object>>();
        var caller = new Thread(() -> {
            Thread.currentThread().interrupt();
            var a = (Claim.Acquired) ledger.claim("k", Duration.ofSeconds(30));
            boolean done = ledger.complete("k", a.token(), Duration.ofDays(1));
            seen.set(List.of(done, Thread.currentThread().isInterrupted()));
        });
        caller.start();
        caller.join(10_000);
        assertThat(seen.get()).as("completed, and the caller's interrupt flag kept").isEqualTo(List.of(true, true));

        var x = (Claim.Acquired) ledger.claim("x", Duration.ofSeconds(30));
        assertThat(ledger.complete("x", x.token(), Duration.ofDays(1))).as("the file still takes writes").isTrue();
        ledger.close();
        opened.remove(ledger);
        var again = open(file, clock);
        assertThat(again.claim("k", Duration.ofSeconds(30))).isInstanceOf(Claim.Completed.class);
        assertThat(again.claim("x", Duration.ofSeconds(30))).isInstanceOf(Claim.Completed.class);
    }


    @Test
    void aThreadInterruptedWhileItReadsAPageFromTheFile_leavesTheFileOpen() throws Exception {
        // the flag is cleared before each ledger call, but an interrupt can arrive during one: a FileChannel read or
        // written by an interrupted thread closes itself for every thread, H2 gives up the store, and the file opened
        // again has lost its last second's claims (their messages could then run twice)
        var file = dir.resolve("read-interrupted.db");
        var first = new LedgerFile(file, m -> { });
        for (int i = 0; i < 20_000; i++) {
            first.maps().entries().put("key-" + i, "value-" + i);
        }
        first.close();
        var reopened = new java.util.concurrent.atomic.AtomicInteger();
        var ledgerFile = new LedgerFile(file, m -> reopened.incrementAndGet());
        var maps = ledgerFile.maps();
        var read = new java.util.concurrent.atomic.AtomicReference<Object>();
        var reader = new Thread(() -> {
            try {
                Thread.currentThread().interrupt(); // as if it came while the page was being read: the same for the channel
                String last = null;
                for (int i = 0; i < 20_000; i += 97) { // pages H2 has not read yet since the file was opened
                    last = maps.entries().get("key-" + i);
                }
                read.set(List.of(last, Thread.currentThread().isInterrupted()));
            } catch (Throwable e) {
                read.set(e);
            }
        });
        reader.start();
        reader.join(10_000);
        try {
            assertThat(read.get()).as("read through the interrupt, the flag kept").isEqualTo(List.of("value-19982", true));
            assertThat(maps.broken()).as("the store was not given up").isFalse();
            ledgerFile.maps().entries().put("after", "x");
            assertThat(reopened.get()).as("never opened again").isZero();
        } finally {
            ledgerFile.close();
        }
    }
    @Test
    void anErrorInASweep_doesNotEndTheSweeper() throws Exception {
        // the sweeper caught RuntimeException only: one StackOverflowError or OutOfMemoryError ended it for good, and
        // the file grew until the disk was full
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var once = new java.util.concurrent.atomic.AtomicBoolean(true);
        var failingOnce = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return clock.getZone();
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.ofEpochMilli(millis());
            }

            @Override
            public long millis() {
                if (Thread.currentThread().getName().startsWith("ferry-ledger-sweeper") && once.compareAndSet(true, false)) {
                    throw new StackOverflowError("injected");
                }
                return clock.millis();
            }
        };
        var ledger = MvStoreLedger.builder(dir.resolve("sweeper.db")).clock(failingOnce).sweepEvery(Duration.ofMillis(20)).build();
        opened.add(ledger);
        var a = (Claim.Acquired) ledger.claim("k", Duration.ofSeconds(30));
        assertThat(ledger.complete("k", a.token(), Duration.ofMinutes(1))).isTrue();
        clock.advance(Duration.ofMinutes(2));
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ledger.size() > 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(once.get()).as("the Error was thrown").isFalse();
        assertThat(ledger.size()).as("swept after the Error").isZero();
    }

    @Test
    void sweep_removesExpiredCompletions_andKeepsLiveOnes() {
        var clock = new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z"));
        var ledger = open(dir.resolve("sweep.db"), clock);
        for (int i = 0; i < 100; i++) {
            var c = (Claim.Acquired) ledger.claim("k" + i, Duration.ofSeconds(30));
            ledger.complete("k" + i, c.token(), Duration.ofMinutes(i < 60 ? 1 : 60));
        }
        clock.advance(Duration.ofMinutes(2));

        assertThat(ledger.sweep()).isEqualTo(60);

        assertThat(ledger.size()).isEqualTo(40);
        assertThat(ledger.claim("k0", Duration.ofSeconds(30))).isInstanceOf(Claim.Acquired.class);
        assertThat(ledger.claim("k99", Duration.ofSeconds(30))).isInstanceOf(Claim.Completed.class);
    }

    @Test
    void secondProcessOnTheSameFile_getsAClearError() {
        var file = dir.resolve("busy.db");
        open(file, new MutableClock(java.time.Instant.parse("2026-11-23T10:00:00Z")));
        assertThatThrownBy(() -> MvStoreLedger.open(file))
                .isInstanceOf(FerryException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void closedLedger_refusesWork() {
        var ledger = MvStoreLedger.open(dir.resolve("closed.db"));
        ledger.close();
        assertThatThrownBy(() -> ledger.claim("k", Duration.ofSeconds(1))).hasMessageContaining("is closed");
    }

    @Test
    void aPathUnderTheHomeDirectory_isTheFileTheStoreKeeps_forTheCommandsThatOnlyOpenOne() {
        var home = System.getProperty("user.home");
        assertThat(MvStoreModule.ledgerPath("~/ferry/ledger.db")).isEqualTo(java.nio.file.Path.of(home, "ferry", "ledger.db"));
        assertThat(MvStoreModule.ledgerPath("~")).isEqualTo(java.nio.file.Path.of(home));
        assertThat(MvStoreModule.ledgerPath("a~/b.db")).isEqualTo(java.nio.file.Path.of("a~/b.db"));
        assertThat(MvStoreModule.ledgerPath("~other/b.db")).as("another user's home is not guessed")
                .isEqualTo(java.nio.file.Path.of("~other/b.db"));
    }

    /** Breaks the ledger's store as H2 does when a write fails under it. */
    /**
     * {@code key} peeked once the ledger answers again (opened anew at most once a second), within {@code within};
     * null if it never did. Each refusal meanwhile says it is worth asking again.
     */
    private static java.util.Optional<Claim> peekOnceOpened(MvStoreLedger ledger, String key, Duration within)
            throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            try {
                return ledger.peek(key);
            } catch (FerryException e) {
                assertThat(e.retryable()).as("worth asking again: " + e).isTrue();
                Thread.sleep(100); // opened again a second after the last try
            }
        }
        return null;
    }

    /** A ledger without fsync, bound 1 s, on a file whose reads a test may fail: A completed, then its store broken. */
    private record Broken(MvStoreLedger ledger, long newest) { }

    private Broken completedThenBroken(String name) {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var file = dir.resolve(name);
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).commitBound(Duration.ofSeconds(1))
                .build(); // fsync off
        opened.add(ledger);
        var a = (Claim.Acquired) ledger.claim("A", Duration.ofMinutes(5));
        assertThat(ledger.persist()).isTrue();
        long newest; // H2 writes its next chunks past here (it appends them)
        try {
            newest = java.nio.file.Files.size(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(ledger.complete("A", a.token(), Duration.ofHours(1))).as("committed").isTrue();
        breakStore(ledger, "disk full (injected)");
        return new Broken(ledger, newest);
    }

    private static void breakStore(MvStoreLedger ledger, String why) {
        try {
            ledger.breakForTest(org.h2.mvstore.DataUtils.newMVStoreException(
                    org.h2.mvstore.DataUtils.ERROR_WRITING_FAILED, why));
        } catch (org.h2.mvstore.MVStoreException thrown) {
            // H2 throws what broke it
        }
    }

    /** Whether the ledger's store now open was broken (closed by a failed write or sync). */
    private static boolean broken(MvStoreLedger ledger) throws ReflectiveOperationException {
        var files = MvStoreLedger.class.getDeclaredField("files");
        files.setAccessible(true);
        return ((LedgerFile) files.get(ledger)).current().store().isClosed();
    }

    /** Whether H2 has broken the ledger's store now open (a write failed under it), closed by now or not. */
    private static boolean panicked(MvStoreLedger ledger) throws ReflectiveOperationException {
        var files = MvStoreLedger.class.getDeclaredField("files");
        files.setAccessible(true);
        return ((LedgerFile) files.get(ledger)).current().broken();
    }

    /** The newest chunk the ledger has counted as committed (a reopening older than it is refused). */
    private static long committed(MvStoreLedger ledger) throws ReflectiveOperationException {
        var files = MvStoreLedger.class.getDeclaredField("files");
        files.setAccessible(true);
        return ((LedgerFile) files.get(ledger)).committed.get();
    }
}
