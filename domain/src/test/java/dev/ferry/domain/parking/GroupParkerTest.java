package dev.ferry.domain.parking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.contract.GroupParkingContract;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The release protocol, step by step, on the in-memory ledger; and the ledger's store against the contract. */
class GroupParkerTest {

    private static final Duration SETTLED = Duration.ofSeconds(30);
    /** The patience of a release answering CLOSING with nothing passing: it watches its copies for as long. */
    private static final Duration WATCHED = Duration.ofSeconds(1);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T10:00:00Z"));
    private final InMemoryLedger ledger = InMemoryLedger.of(clock, 1000);
    private final GroupParker parker = new GroupParker(ledger, clock);

    @Nested
    class Contract extends GroupParkingContract {
        @Override
        protected GroupParking newStore(MutableClock clock) {
            return InMemoryLedger.of(clock, 1000);
        }
    }

    private void parkThree() {
        parker.park("s", "A", "a2", "m2", "a2 fails", null, false);
        parker.park("s", "A", "a3", "m3", GroupParker.behind(parker.parked("s", "A").orElseThrow()), null, true);
        parker.park("s", "A", "a4", "m4", "whatever", null, true);
    }

    private long parkedNow() {
        return parker.parked("s", "A").orElseThrow().parked();
    }

    @Test
    void theFirstDeadLetterParks_theRestWaitBehindIt() {
        parkThree();
        var state = parker.parked("s", "A").orElseThrow();
        assertThat(state.head()).isEqualTo("a2");
        assertThat(state.headMessageId()).isEqualTo("m2");
        assertThat(state.reason()).isEqualTo("a2 fails");
        assertThat(state.waiting()).isEqualTo(3);
        assertThat(GroupParker.at(state)).isEqualTo("group A parked at a2: a2 fails");
        assertThat(GroupParker.behind(state)).isEqualTo("group A parked behind a2: a2 fails");
        assertThat(GroupParker.isHead(GroupParker.at(state), state)).isTrue();
        assertThat(GroupParker.isHead(GroupParker.behind(state), state)).isFalse();
        assertThat(GroupParker.parkedWith(GroupParker.behind(state), "A")).isTrue();
        assertThat(GroupParker.parkedWith(GroupParker.behind(state), "AB")).as("another group").isFalse();
    }

    @Test
    void aHeadKeyWithControlCharacters_isStillFoundInTheDeadLetterQueue_asATransportKeepsIt() {
        parker.park("s", "A", "k\u0001ey", "m1", "bad", null, false);
        var state = parker.parked("s", "A").orElseThrow();
        assertThat(GroupParker.at(state)).isEqualTo("group A parked at k?ey: bad");
        assertThat(GroupParker.isHead("group A parked at k?ey: bad", state)).isTrue();
    }

    @Test // a review: a dead letter's reason is cut at 8,128 characters, and a 9,000-character Kafka key was cut before
          // " parked ": no dead letter matched its group, and a release found none, for ever
    void aGroupLongerThanAReasonHolds_isNamedBounded_soItsDeadLettersMatchIt() {
        String group = "k".repeat(9_000);
        var parked = parker.park("s", group, "e1", "m1", "boom", null, false);
        String atHead = cut(GroupParker.at(parked));
        String behind = cut(GroupParker.behind(parked));
        assertThat(GroupParker.parkedWith(atHead, group)).isTrue();
        assertThat(GroupParker.isHead(atHead, parked)).isTrue();
        assertThat(GroupParker.parkedWith(behind, group)).isTrue();
        assertThat(GroupParker.isHead(behind, parked)).isFalse();
        assertThat(GroupParker.parkedWith(atHead, "k".repeat(8_999))).as("another group").isFalse();
        // a reason written before, with the whole group (under the cut): still matched after an upgrade
        String group600 = "g".repeat(600);
        var p600 = parker.park("s", group600, "e1", "m1", "boom", null, false);
        assertThat(GroupParker.parkedWith("group " + group600 + " parked at e1: boom", group600)).isTrue();
        assertThat(GroupParker.isHead("group " + group600 + " parked at e1: boom", p600)).isTrue();
    }

    /** A reason as a dead letter carries it: cut where {@code Disposition.DeadLetter} cuts it. */
    private static String cut(String reason) {
        return ((dev.ferry.domain.transport.Disposition.DeadLetter) dev.ferry.domain.transport.Disposition.deadLetter(reason))
                .reason();
    }

    @Test // a review: SQS keeps half a surrogate pair as '?', and the head kept it whole
    void aHeadKeyWithHalfASurrogatePair_isStillFoundInTheDeadLetterQueue_asATransportKeepsIt() {
        parker.park("s", "A", "k\uD800ey\uD83D\uDE00", "m1", "bad", null, false);
        var state = parker.parked("s", "A").orElseThrow();
        assertThat(GroupParker.at(state)).isEqualTo("group A parked at k?ey\uD83D\uDE00: bad");
        assertThat(GroupParker.isHead("group A parked at k?ey\uD83D\uDE00: bad", state)).isTrue();
    }

    @Test
    void aHugeReason_isCut() {
        parker.park("s", "A", "a2", "m2", "x".repeat(100_000), null, false);
        assertThat(parker.parked("s", "A").orElseThrow().reason()).hasSize(GroupParker.MAX_REASON + 1);
    }

    @Test
    void finish_waitsForParkedMessagesStillOnTheirWay_thenLeavesTheUnparkingToTheLastPass() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        long before = parkedNow();
        parker.moved("s", "A", token, 2, 2); // the third is not in the DLQ yet
        assertThat(parker.finish("s", "A", token, before, SETTLED)).isEqualTo(GroupParker.Finish.NOT_YET);

        parker.moved("s", "A", token, 1, 1);
        assertThat(parker.finish("s", "A", token, before, SETTLED)).isEqualTo(GroupParker.Finish.CLOSING);
        parker.passed("s", "A", token, 1);
        parker.passed("s", "A", "another release's token", 3);
        parker.passed("s", "A", token, 2);
        parker.passed("s", "A", token, 2); // delivered twice: counted once
        assertThat(parker.parked("s", "A")).as("number 3 is still to pass").isPresent();
        parker.passed("s", "A", token, 3);
        assertThat(parker.parked("s", "A")).isEmpty();
    }

    @Test // a review of a fix taken back: two releases at once (two consoles, a client retrying through another instance)
          // number their copies from one state; counted by the highest number, the group unparked once one release's
          // copies passed, and a later message overtook the other's, still in the queue. Closing, it waits (left: it
          // stays closing until a new message parks and a release moves it)
    void twoReleasesAtOnce_numberingFromOneState_doNotUnparkBeforeBothReleasesCopiesPass() throws Exception {
        parker.park("s", "A", "a0", "m0", "a0 fails", null, false);
        for (int i = 1; i < 20; i++) {
            parker.park("s", "A", "a" + i, "m" + i, GroupParker.behind(parker.parked("s", "A").orElseThrow()), null, true);
        }
        var bothRead = new java.util.concurrent.CyclicBarrier(2);
        var numbers = new java.util.concurrent.ConcurrentLinkedQueue<Long>(); // one release's only: numbered as the other's
        var token = new java.util.concurrent.atomic.AtomicReference<String>();
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        GroupParker.Mover half = (parked, releaseToken, skipHead) -> {
            if (calls.incrementAndGet() > 2) {
                return new GroupParker.Moved(0, 0); // a later pass (one finished before the other recorded): none left
            }
            try {
                bothRead.await(10, java.util.concurrent.TimeUnit.SECONDS); // each read the state before either recorded
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            if (token.compareAndSet(null, releaseToken)) {
                for (long n = 1; n <= 10; n++) {
                    numbers.add(parked.redriven() + n); // as the movers number their copies
                }
            }
            return new GroupParker.Moved(10, 10);
        };
        var threads = java.util.concurrent.Executors.newFixedThreadPool(2); // the common pool may run one at a time
        var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> release(half), threads);
        var second = java.util.concurrent.CompletableFuture.supplyAsync(() -> release(half), threads);
        threads.shutdown();
        assertThat(first.get(20, java.util.concurrent.TimeUnit.SECONDS).finish()).isEqualTo(GroupParker.Finish.CLOSING);
        assertThat(second.get(20, java.util.concurrent.TimeUnit.SECONDS).finish()).isEqualTo(GroupParker.Finish.CLOSING);

        for (long n : numbers) {
            parker.passed("s", "A", token.get(), n); // one release's copies handled; the other's still in the queue
        }

        assertThat(parker.parked("s", "A")).as("still closing: the other release's copies have not passed").isPresent();
        assertThat(parker.park("s", "A", "a20", "m20", "behind", null, true))
                .as("a later message waits behind them, not ahead").isNotNull();
    }

    private GroupParker.Released release(GroupParker.Mover mover) {
        try { // a short patience: a release closing watches its copies pass for as long, and none passes here
            return parker.release("s", "A", false, mover, WATCHED);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aMessageParkedDuringThePass_meansNotYet() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        long before = parkedNow();
        parker.moved("s", "A", token, 3, 3);
        parker.park("s", "A", "a5", "m5", "behind", null, true); // arrived while the DLQ was read
        parker.moved("s", "A", token, 1, 1); // ... and was moved too
        assertThat(parker.finish("s", "A", token, before, SETTLED)).isEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(parker.finish("s", "A", token, parkedNow(), SETTLED)).as("the next pass").isEqualTo(GroupParker.Finish.CLOSING);
    }

    @Test
    void aMessageCountedTwice_doesNotKeepTheGroupParkedForever_onceTheLastParkHasSettled() {
        parkThree();
        parker.park("s", "A", "a4", "m4", "behind", null, true); // a4 delivered again after its DLQ copy: counted twice
        String token = parker.beginRelease("s", "A");
        long before = parkedNow();
        parker.moved("s", "A", token, 3, 3); // three messages are all there is
        assertThat(parker.finish("s", "A", token, before, SETTLED)).isEqualTo(GroupParker.Finish.NOT_YET);
        clock.advance(SETTLED);
        assertThat(parker.finish("s", "A", token, before, SETTLED)).isEqualTo(GroupParker.Finish.CLOSING);
    }

    @Test
    void whenEverythingPassedBeforeTheReleaseFinished_finishUnparks() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        long before = parkedNow();
        parker.moved("s", "A", token, 3, 2); // the head skipped
        parker.passed("s", "A", token, 1);
        parker.passed("s", "A", token, 2);
        assertThat(parker.finish("s", "A", token, before, SETTLED)).isEqualTo(GroupParker.Finish.UNPARKED);
        assertThat(parker.parked("s", "A")).isEmpty();
    }

    @Test // what then moves a5: the release, watching its copies pass (ReleaseWatchTest)
    void aMessageParkedWhileClosing_keepsTheGroupParked_soItIsNotOvertaken() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        long before = parkedNow();
        parker.moved("s", "A", token, 3, 3);
        assertThat(parker.finish("s", "A", token, before, SETTLED)).isEqualTo(GroupParker.Finish.CLOSING);
        parker.park("s", "A", "a5", "m5", "behind", null, true); // the producer sent a5 meanwhile: it went to the DLQ
        parker.passed("s", "A", token, 3);
        var state = parker.parked("s", "A").orElseThrow();
        assertThat(state.waiting()).as("a5 waits to be released").isEqualTo(1);
        assertThat(state.closing()).isFalse();
    }

    @Test
    void aSecondRelease_takesUpTheOneUnderWay_soWhatItSentBackStillPasses() {
        parkThree();
        String first = parker.beginRelease("s", "A");
        parker.moved("s", "A", first, 2, 2); // and then it stopped (an error, a Ctrl-C)
        String second = parker.beginRelease("s", "A");
        assertThat(second).isEqualTo(first);
        assertThat(parker.parked("s", "A").orElseThrow().redriven()).as("numbering goes on").isEqualTo(2);
    }

    @Test
    void aReleasedMessageThatFailsAgain_becomesTheHead_andTheReleaseIsInterrupted_withWhatItMovedCounted() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        parker.park("s", "A", "a2", "m2-again", "a2 fails again", token, false);
        var state = parker.parked("s", "A").orElseThrow();
        assertThat(state.headMessageId()).isEqualTo("m2-again");
        assertThat(state.reason()).isEqualTo("a2 fails again");
        assertThat(state.releaseToken()).isNull();
        assertThat(state.passes(token)).as("the rest no longer pass: they park behind it").isFalse();

        assertThatThrownBy(() -> parker.moved("s", "A", token, 3, 3)).isInstanceOf(GroupParker.ReleaseInterrupted.class)
                .hasMessageContaining("parked again behind a2");
        assertThat(parker.parked("s", "A").orElseThrow().moved()).as("what left the DLQ is counted").isEqualTo(3);
    }

    @Test
    void aMessageWaitingBehind_thatFindsTheGroupReleased_isNotANewHead() {
        assertThat(parker.park("s", "A", "a5", "m5", "group A parked behind a2: x", null, true)).isNull();
        assertThat(parker.parked("s", "A")).isEmpty();
    }

    @Test
    void releasingAGroupThatIsNotParked_isRefused() {
        assertThatThrownBy(() -> parker.release("s", "nope", false, (p, t, skip) -> new GroupParker.Moved(0, 0),
                Duration.ofSeconds(1))).isInstanceOf(GroupParker.ReleaseInterrupted.class).hasMessageContaining("not parked");
    }

    @Test
    void aReleaseWhoseMessagesNeverArrive_givesUpAfterItsPatience_andTheGroupStaysParked() throws Exception {
        parkThree();
        var released = parker.release("s", "A", false, (p, t, skip) -> {
            clock.advance(Duration.ofMillis(10));
            return new GroupParker.Moved(0, 0);
        }, Duration.ofMillis(300));
        assertThat(released.finish()).isEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(parker.parked("s", "A")).isPresent();
    }

    /** The in-memory store, whose next writes can fail: before they land, or after (the answer lost). */
    private final class FlakyStore implements GroupParking {
        int failBefore;
        int failAfter;
        /** Reads that fail right after a write that landed and failed. */
        int failReadsAfter;
        private int failReads;

        void failReadsOnce(int reads) {
            failReads = reads;
        }

        @Override
        public java.util.Optional<ParkedGroup> parkedGroup(String source, String group) {
            if (failReads > 0) {
                failReads--;
                throw new IllegalStateException("the store is down for reads too");
            }
            return ledger.parkedGroup(source, group);
        }

        @Override
        public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
            if (failBefore > 0) {
                failBefore--;
                throw new IllegalStateException("the store is down");
            }
            boolean replaced = ledger.replaceParkedGroup(expected, next);
            if (failAfter > 0) {
                failAfter--;
                failReads = failReadsAfter;
                throw new IllegalStateException("timed out: the write landed, its answer did not");
            }
            return replaced;
        }

        @Override
        public java.util.List<ParkedGroup> parkedGroups() {
            return ledger.parkedGroups();
        }
    }

    @Test // a review: DynamoDB answers transactions on one item at once with TransactionConflict, for some milliseconds
    void aParkThatMeetsConflictsForAWhile_waitsThemOut_insteadOfFailingAfter64SpinningTries() {
        var busyUntil = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(30);
        var conflicts = new java.util.concurrent.atomic.AtomicInteger();
        var busy = new GroupParking() {
            @Override
            public java.util.Optional<ParkedGroup> parkedGroup(String source, String group) {
                return ledger.parkedGroup(source, group);
            }

            @Override
            public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
                if (System.nanoTime() - busyUntil < 0) {
                    conflicts.incrementAndGet();
                    return false; // another instance's transaction on the shared index item
                }
                return ledger.replaceParkedGroup(expected, next);
            }

            @Override
            public java.util.List<ParkedGroup> parkedGroups() {
                return ledger.parkedGroups();
            }
        };
        var parked = new GroupParker(busy, clock).park("s", "C", "c1", "m-1", "fails", null, false);
        assertThat(parked.head()).isEqualTo("c1");
        assertThat(conflicts.get()).as("tries spent in the conflicts").isBetween(1, 40);
    }

    @Test
    void aStoreFailingAsAMoveIsRecorded_isAskedAgain_andAWriteThatLandedIsNotCountedTwice() throws Exception {
        // the move cannot be undone: its count lost (the store down for a moment), the group stayed parked for good
        parkThree();
        var store = new FlakyStore();
        var flaky = new GroupParker(store, clock);
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        var released = flaky.release("s", "A", false, (p, t, skip) -> {
            if (calls.getAndIncrement() > 0) {
                return new GroupParker.Moved(0, 0);
            }
            store.failBefore = 1;
            store.failAfter = 1;
            store.failReadsAfter = 1; // and the read that asks whether it landed fails once too
            return new GroupParker.Moved(3, 3);
        }, WATCHED);
        assertThat(released.finish()).isEqualTo(GroupParker.Finish.CLOSING);
        var state = parker.parked("s", "A").orElseThrow();
        assertThat(state.moved()).as("counted once").isEqualTo(3);
        assertThat(state.redriven()).isEqualTo(3);
    }

    @Test
    void aReleaseWhoseMoveWasNeverCounted_killedBetween_isFinishedByTheNextOnceItsMessagesPassed() throws Exception {
        // a kill -9 between the move and its count: later releases found nothing to move, and "moved 0" was never
        // forgiven; the messages that passed the listener show something was moved
        parkThree();
        String token = parker.beginRelease("s", "A");
        long before = parkedNow();
        for (long n = 1; n <= 3; n++) {
            parker.passed("s", "A", token, n);
        }
        clock.advance(SETTLED);
        var released = parker.release("s", "A", false, (p, t, skip) -> new GroupParker.Moved(0, 0), Duration.ofMillis(300));
        assertThat(before).isEqualTo(3);
        assertThat(released.finish()).isEqualTo(GroupParker.Finish.UNPARKED);
        assertThat(parker.parked("s", "A")).isEmpty();
        // a review: they passed under the release, so they were moved — not "missing from the DLQ, the head perhaps lost"
        assertThat(released.notFound()).as("none said missing").isZero();
    }

    @Test // a review: a group whose parked messages had all left the dead-letter destination (its retention, or by hand)
          // could never be released: every release found none and answered "not yet", --skip-head as well
    void aGroupWhoseParkedMessagesAreAllGone_isLetGoWhenTheOperatorGivesThemUp_saidNotFound() throws Exception {
        parkThree();
        clock.advance(Duration.ofDays(15));
        GroupParker.Mover findsNone = (p, t, skip) -> new GroupParker.Moved(0, 0);
        var again = parker.release("s", "A", false, findsNone, Duration.ofMillis(300));
        assertThat(again.finish()).as("a plain release: the mover may be looking in the wrong place")
                .isEqualTo(GroupParker.Finish.NOT_YET);
        String head = parker.parked("s", "A").orElseThrow().head();
        // a review of the first fix, which took dropping the head for giving up the rest: messages another release's
        // reader holds for two minutes (SQS FIFO hands out none of the group meanwhile) were stranded, the group unparked
        assertThat(parker.release("s", "A", true, head, findsNone, Duration.ofMillis(300)).finish())
                .as("dropping the head alone").isEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(parker.parked("s", "A")).isPresent();

        var givenUp = parker.release("s", "A", false, null, findsNone, Duration.ofMillis(300), true);
        assertThat(givenUp.finish()).isEqualTo(GroupParker.Finish.UNPARKED);
        assertThat(givenUp.notFound()).as("all three said missing").isEqualTo(3);
        assertThat(parker.parked("s", "A")).as("the group flows again").isEmpty();
    }

    @Test // a review: a read failing for a moment in the middle of a move stopped it there, its batch invisible two minutes
    void aStoreFailingAsAMoveAsksWhetherItStillReleases_isAskedAgain_andTheMoveGoesOn() throws Exception {
        parkThree();
        var store = new FlakyStore();
        var flaky = new GroupParker(store, clock);
        var asked = new java.util.concurrent.atomic.AtomicBoolean();
        var released = flaky.release("s", "A", false, new GroupParker.Mover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
                throw new AssertionError("the progress-telling move is called");
            }

            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
                if (asked.getAndSet(true)) {
                    return new GroupParker.Moved(0, 0);
                }
                progress.movedSoFar(1, 1);
                store.failReadsOnce(3); // the store down for reads, a few hundred milliseconds
                assertThat(progress.stillReleasing()).isTrue();
                progress.movedSoFar(3, 3);
                return new GroupParker.Moved(3, 3);
            }
        }, WATCHED);
        assertThat(released.finish()).isEqualTo(GroupParker.Finish.CLOSING);
        assertThat(parker.parked("s", "A").orElseThrow().moved()).isEqualTo(3);
    }

    @Test
    void dropTheHead_onlyIfItIsStillTheOneLookedAt() throws Exception {
        parkThree();
        assertThatThrownBy(() -> parker.release("s", "A", true, "a1", (p, t, skip) -> new GroupParker.Moved(0, 0),
                Duration.ofMillis(100))).isInstanceOf(GroupParker.ReleaseInterrupted.class).hasMessageContaining("is a2 now, not a1");
        assertThat(parker.parked("s", "A").orElseThrow().releaseToken()).as("nothing begun").isNull();
        var skipped = new java.util.concurrent.atomic.AtomicBoolean();
        parker.release("s", "A", true, "a2", (p, t, skip) -> {
            skipped.set(skip);
            return new GroupParker.Moved(0, 0);
        }, Duration.ofMillis(100));
        assertThat(skipped).isTrue();
    }

    @Test
    void dropTheHead_ofAHugeKey_namedByTheWholeKeyOrByTheHeadAsListed() throws Exception {
        String huge = "k".repeat(100_000);
        parker.park("s", "H", huge, "m-1", "fails", null, false);
        var listed = parker.parked("s", "H").orElseThrow().head();
        assertThat(listed).hasSizeLessThan(GroupParker.MAX_HEAD + 100);
        for (String named : new String[] {huge, listed}) {
            var skipped = new java.util.concurrent.atomic.AtomicBoolean();
            parker.release("s", "H", true, named, (p, t, skip) -> {
                skipped.set(skip);
                return new GroupParker.Moved(0, 0);
            }, Duration.ofMillis(100));
            assertThat(skipped).as(named.length() + " chars").isTrue();
            parker.park("s", "H", huge, "m-1", "fails", null, false);
        }
    }

    @Test // a review: no URL or command line carries half a surrogate pair; such a head could never be dropped
    void dropTheHead_heldHalfASurrogatePair_namedAsAJsonListingWritesIt() throws Exception {
        String lone = "a\ud800b";
        parker.park("s", "L", lone, "m-1", "fails", null, false);
        assertThatThrownBy(() -> parker.release("s", "L", true, "a\\ud801b", (p, t, skip) -> new GroupParker.Moved(0, 0),
                Duration.ofMillis(100))).as("another head, escaped alike").isInstanceOf(GroupParker.ReleaseInterrupted.class);

        var skipped = new java.util.concurrent.atomic.AtomicBoolean();
        parker.release("s", "L", true, "a\\ud800b", (p, t, skip) -> {
            skipped.set(skip);
            return new GroupParker.Moved(0, 0);
        }, Duration.ofMillis(100));

        assertThat(skipped).isTrue();
        assertThat(GroupRelease.unescaped("x\\\\y\\\"z\\u00e9\\uZZZZ\\u12")).isEqualTo("x\\y\"z\u00e9\\uZZZZ\\u12");
    }

    @Test
    void releaseValues_roundTrip_andNonsenseIsNoPass() {
        assertThat(GroupParker.pass(GroupParker.releaseValue("t-1", 7))).isEqualTo(new GroupParker.Pass("t-1", 7));
        assertThat(GroupParker.pass("t-1")).isNull();
        assertThat(GroupParker.pass("t#x")).isNull();
        assertThat(GroupParker.pass(null)).isNull();
    }
    @Test
    void aReleaseThatEndsShortOfWhatWasCounted_saysHowManyItDidNotFind() throws InterruptedException {
        // the head deleted from the DLQ by its retention: the shortfall is forgiven as a double count once the last park
        // settled, and the release said the group flows again without a word of the event gone
        parker.park("s", "A", "a2", "m2", "a2 fails", null, false);
        parker.park("s", "A", "a3", "m3", "behind", null, true);
        clock.advance(SETTLED.plusSeconds(1));
        var released = parker.release("s", "A", false, (p, t, skip) -> new GroupParker.Moved(1, 1), WATCHED);
        assertThat(released.finish()).isEqualTo(GroupParker.Finish.CLOSING);
        assertThat(released.notFound()).isEqualTo(1);
        var whole = parker.release("s", "A", false, (p, t, skip) -> new GroupParker.Moved(0, 0), WATCHED);
        assertThat(whole.notFound()).as("a release taken up counts what the state still lacks").isEqualTo(1);
    }
}
