package dev.ferry.domain.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.contract.LedgerContract;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InMemoryLedgerTest extends LedgerContract {

    /** Its event journal and peek. */
    @org.junit.jupiter.api.Nested
    class Journal extends dev.ferry.domain.contract.EventJournalContract {
        @Override
        protected IdempotencyLedger newLedger(MutableClock clock) {
            return InMemoryLedger.of(clock, 10_000);
        }
    }

    @Test
    void theJournal_isBounded_oldestFirst() {
        var ledger = InMemoryLedger.of(new MutableClock(java.time.Instant.parse("2026-11-30T10:00:00Z")), 10_000);
        for (int i = 0; i < 1_500; i++) {
            ledger.note("k" + i, new EventJournal.Note.Duplicate("k" + i, "m", java.time.Instant.EPOCH));
        }
        assertThat(ledger.journal("k0")).as("the oldest went first").isEmpty();
        assertThat(ledger.journal("k1499")).isPresent();
        assertThat(ledger.journal("k499")).isEmpty();
        assertThat(ledger.journal("k500")).isPresent();
    }

    @Override
    protected IdempotencyLedger newLedger(MutableClock clock) {
        return InMemoryLedger.of(clock, 1_000);
    }

    @Test
    void memory_isBounded_byEvictingOldestCompletedKeys() {
        var small = InMemoryLedger.of(clock, 100);
        for (int i = 0; i < 1_000; i++) {
            var a = (Claim.Acquired) small.claim("k" + i, LEASE);
            small.complete("k" + i, a.token(), TTL);
        }
        assertThat(small.size()).isLessThanOrEqualTo(101);
        assertThat(small.claim("k999", LEASE)).as("the newest completion is kept").isInstanceOf(Claim.Completed.class);
        assertThat(small.claim("k0", LEASE)).as("the oldest was evicted").isInstanceOf(Claim.Acquired.class);
    }

    @Test // a review: a ledger too small for the keys seen per TTL forgot live completions without a word
    void completionsForgottenWithinTheirTtl_areCounted_andSaid() throws Exception {
        var warnings = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var logger = java.util.logging.Logger.getLogger(InMemoryLedger.class.getName());
        var level = logger.getLevel();
        logger.setLevel(java.util.logging.Level.WARNING); // the tests' logging keeps SEVERE only
        var capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                warnings.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            var small = InMemoryLedger.of(clock, 10);
            for (int i = 0; i < 25; i++) {
                var a = (Claim.Acquired) small.claim("k" + i, LEASE);
                small.complete("k" + i, a.token(), TTL);
            }
            assertThat(small.forgottenWithinTtl()).isEqualTo(15);
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(5), () -> !warnings.isEmpty())).isTrue();
            Thread.sleep(100); // any more would have been said by now
            assertThat(warnings).as("said once, not for each").hasSize(1);
            assertThat(warnings.getFirst()).contains("full (10 keys)").contains("handled again");
            clock.advance(TTL.plusSeconds(1));
            var a = (Claim.Acquired) small.claim("later", LEASE);
            small.complete("later", a.token(), TTL);
            assertThat(small.forgottenWithinTtl()).as("expired ones make room without counting").isEqualTo(15);
        } finally {
            logger.removeHandler(capture);
            logger.setLevel(level);
        }
    }

    @Test // mixed TTLs: the expired short ones behind a live long one go first, not the live one (it would run again)
    void whenFull_completionsThatExpiredBehindALiveOne_goFirst_notTheLiveOne() {
        var l = InMemoryLedger.of(clock, 3);
        var kept = (Claim.Acquired) l.claim("long", LEASE);
        l.complete("long", kept.token(), Duration.ofDays(7));
        for (var key : new String[] {"short1", "short2"}) {
            var a = (Claim.Acquired) l.claim(key, LEASE);
            l.complete(key, a.token(), Duration.ofSeconds(1));
        }
        clock.advance(Duration.ofSeconds(5));
        for (var key : new String[] {"new1", "new2"}) {
            var a = (Claim.Acquired) l.claim(key, LEASE);
            l.complete(key, a.token(), Duration.ofDays(7));
        }
        assertThat(l.size()).isLessThanOrEqualTo(3);
        assertThat(l.claim("long", LEASE)).as("live for days: still done").isInstanceOf(Claim.Completed.class);
        assertThat(l.claim("new2", LEASE)).isInstanceOf(Claim.Completed.class);
    }

    @Test // a review: behind a head a long TTL kept, the order of completions grew by one for every completion made
    void completionsThatExpiredBehindALiveOne_doNotPileUpInTheOrder() {
        var l = InMemoryLedger.of(clock, 1_000);
        var kept = (Claim.Acquired) l.claim("forever", LEASE);
        l.complete("forever", kept.token(), Duration.ofDays(36_500));
        for (int i = 0; i < 200_000; i++) {
            var a = (Claim.Acquired) l.claim("k" + i, LEASE);
            l.complete("k" + i, a.token(), Duration.ofMillis(1));
            clock.advance(Duration.ofMillis(2));
        }
        assertThat(l.completionsInOrder()).as("bounded by the keys held, not by the completions ever made")
                .isLessThanOrEqualTo(4 * 1_000);
        assertThat(l.claim("forever", LEASE)).as("the live one kept").isInstanceOf(Claim.Completed.class);
    }

    @Test
    void expiredCompletions_areDroppedWithoutBeingAskedFor() {
        var l = InMemoryLedger.of(clock, 1_000);
        for (int i = 0; i < 50; i++) {
            var a = (Claim.Acquired) l.claim("old" + i, LEASE);
            l.complete("old" + i, a.token(), Duration.ofMinutes(1));
        }
        clock.advance(Duration.ofMinutes(2));
        var a = (Claim.Acquired) l.claim("new", LEASE);
        l.complete("new", a.token(), TTL);
        assertThat(l.size()).isEqualTo(1);
    }

    @Test
    void inProgressClaims_areNeverEvicted_whileTheirLeaseRuns() {
        var small = InMemoryLedger.of(clock, 10);
        for (int i = 0; i < 20; i++) {
            small.claim("held" + i, LEASE);
        }
        assertThat(small.claim("held0", LEASE)).isInstanceOf(Claim.InProgress.class);
        assertThat(small.size()).isEqualTo(20);
    }

    @Test
    void abandonedClaims_areSweptOnceOverTheBound() {
        var small = InMemoryLedger.of(clock, 10);
        for (int i = 0; i < 10; i++) {
            small.claim("crashed" + i, LEASE);
        }
        clock.advance(LEASE.plusSeconds(1));
        small.claim("fresh", LEASE);
        assertThat(small.size()).isEqualTo(1);
    }

    @Test
    void aFullLedger_evictsItsOldestCompletions_withoutWalkingTheWholeMap() throws Exception {
        // Threads claiming at the bound race: one's insert lands while the other evicts. That must not
        // send either on a walk of every entry for abandoned claims (there are completions to evict): with a
        // million keys, a walk per claim made a full ledger ~3x slower than an empty one.
        var full = InMemoryLedger.of(clock, 1_000);
        for (int i = 0; i < 1_000; i++) {
            var a = (Claim.Acquired) full.claim("old" + i, LEASE);
            full.complete("old" + i, a.token(), TTL);
        }
        together(4, thread -> {
            for (int i = 0; i < 50_000; i++) {
                var key = "new" + thread + "-" + i;
                if (full.claim(key, LEASE) instanceof Claim.Acquired a) {
                    full.complete(key, a.token(), TTL);
                }
            }
        });
        assertThat(full.sweeps()).as("walks of the whole map").isZero();
        assertThat(full.size()).isLessThanOrEqualTo(1_004);
        var last = (Claim.Acquired) full.claim("last", LEASE);
        full.complete("last", last.token(), TTL);
        assertThat(full.claim("last", LEASE)).as("the newest completion is kept").isInstanceOf(Claim.Completed.class);
        assertThat(full.claim("old0", LEASE)).as("the oldest was evicted").isInstanceOf(Claim.Acquired.class);
    }

    @Test
    void manyThreads_neverHoldOneKeyTwice_andACompletedKeyStaysCompleted() throws Exception {
        // 8 threads on 12,000 keys, claiming, completing, releasing and extending at random, on a ledger large
        // enough to keep every key and on one that evicts (its table grows, compacts and reuses ids meanwhile)
        for (int bound : new int[] {100_000, 120}) {
            var ledger = InMemoryLedger.of(clock, bound);
            var holders = new java.util.concurrent.ConcurrentHashMap<String, Long>();
            var completed = java.util.concurrent.ConcurrentHashMap.<String>newKeySet();
            var problems = new java.util.concurrent.ConcurrentLinkedQueue<String>();
            together(8, thread -> {
                var random = new java.util.SplittableRandom(thread);
                for (int i = 0; i < 20_000; i++) {
                    var key = "key-" + random.nextInt(300) + "-" + "x".repeat(random.nextInt(40));
                    if (!(ledger.claim(key, LEASE) instanceof Claim.Acquired a)) {
                        continue;
                    }
                    if (holders.putIfAbsent(key, a.token()) != null) {
                        problems.add("two holders of " + key);
                    }
                    if (bound > 1_000 && completed.contains(key)) {
                        problems.add(key + " acquired again after its completion (nothing is evicted here)");
                    }
                    if (!ledger.extend(key, a.token(), LEASE)) {
                        problems.add("the holder of " + key + " could not extend it");
                    }
                    holders.remove(key); // before letting go: another thread may take it at once
                    if (random.nextInt(3) == 0) {
                        if (!ledger.release(key, a.token())) {
                            problems.add("the holder of " + key + " could not release it");
                        }
                    } else {
                        completed.add(key);
                        if (!ledger.complete(key, a.token(), TTL)) {
                            problems.add("the holder of " + key + " could not complete it");
                        }
                        if (ledger.complete(key, a.token(), TTL)) {
                            problems.add(key + " completed twice");
                        }
                    }
                }
            });
            assertThat(problems).as("with a bound of %d", bound).isEmpty();
            if (bound > 1_000) {
                for (var key : completed) {
                    assertThat(ledger.claim(key, LEASE)).as(key).isInstanceOf(Claim.Completed.class);
                }
            } else {
                assertThat(ledger.size()).isLessThanOrEqualTo(bound + 8);
            }
        }
    }

    @Test
    void claimsHeldOverTheBound_areWalkedOnlyWhenOneCanHaveRunOut() {
        var small = InMemoryLedger.of(clock, 10);
        for (int i = 0; i < 30; i++) {
            small.claim("held" + i, LEASE);
        }
        assertThat(small.sweeps()).as("one walk finds every lease running; the next is due when the first ends")
                .isEqualTo(1);
        clock.advance(LEASE.plusSeconds(1));
        small.claim("fresh", LEASE);
        assertThat(small.sweeps()).isEqualTo(2);
        assertThat(small.size()).as("the run-out claims went").isEqualTo(1);
    }

    @Test
    void aKeyCompletedAgainAfterItsTtl_isNotEvictedByItsFirstCompletion() {
        var l = InMemoryLedger.of(clock, 1_000);
        var first = (Claim.Acquired) l.claim("k", LEASE);
        l.complete("k", first.token(), Duration.ofMinutes(1));
        clock.advance(Duration.ofMinutes(2));
        var second = (Claim.Acquired) l.claim("k", LEASE);
        assertThat(l.complete("k", second.token(), TTL)).isTrue();
        // the first completion's turn to expire comes up: it is no longer the key's entry, so only it goes
        var other = (Claim.Acquired) l.claim("other", LEASE);
        l.complete("other", other.token(), TTL);
        assertThat(l.claim("k", LEASE)).isInstanceOf(Claim.Completed.class);
        assertThat(l.size()).isEqualTo(2);
    }

    @Test
    void timesComeBackExactly_andTtlsOfCenturiesDoNotOverflow() {
        clock.advance(Duration.ofNanos(123_456_789));
        var l = InMemoryLedger.of(clock, 1_000);
        var a = (Claim.Acquired) l.claim("k", Duration.ofSeconds(30));
        assertThat(a.leaseUntil()).isEqualTo(clock.instant().plusSeconds(30));
        assertThat(l.claim("k", LEASE)).isEqualTo(new Claim.InProgress("k", clock.instant().plusSeconds(30)));
        var doneAt = clock.instant();
        assertThat(l.complete("k", a.token(), Duration.ofDays(365L * 1_000_000))).isTrue();
        clock.advance(Duration.ofDays(365L * 250)); // past 2262, where nanoseconds since 1970 no longer fit a long
        assertThat(l.claim("k", LEASE)).isEqualTo(new Claim.Completed("k", doneAt));
        assertThat(l.peek("k")).contains(new Claim.Completed("k", doneAt));
        var later = (Claim.Acquired) l.claim("later", Duration.ofSeconds(30));
        assertThat(l.claim("later", LEASE)).isEqualTo(new Claim.InProgress("later", later.leaseUntil()));
    }
}
