package dev.ferry.domain.parking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A group whose release has taken every parked message back and seen each handled is drained: what its producer sends
 * meanwhile comes after them all and goes on, where parked behind them it kept the release from ever ending.
 */
class DrainedGroupTest {

    private static final Duration SETTLED = Duration.ofSeconds(30);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-03T10:00:00Z"));
    private final InMemoryLedger ledger = InMemoryLedger.of(clock, 1000);
    private final GroupParker parker = new GroupParker(ledger, clock);

    private String parkTwoAndRelease() {
        parker.park("s", "A", "a2", "m2", "a2 fails", null, false);
        parker.park("s", "A", "a3", "m3", "behind", null, true);
        return parker.beginRelease("s", "A");
    }

    /** a2 parked, a3 to a5 behind it. */
    private void parkFour() {
        parker.park("s", "A", "a2", "m2", "a2 fails", null, false);
        for (int i = 3; i <= 5; i++) {
            parker.park("s", "A", "a" + i, "m" + i, "behind", null, true);
        }
    }

    /** A mover told as it goes: the release always asks with progress. */
    private abstract static class ToldMover implements GroupParker.Mover {
        @Override
        public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
            throw new AssertionError("the release asks with progress");
        }
    }

    private ParkedGroup state() {
        return parker.parked("s", "A").orElseThrow();
    }

    @Test
    void drained_onlyOnceEveryParkedMessageWasMovedAndEveryCopyPassed() {
        String token = parkTwoAndRelease();
        assertThat(state().drained()).as("nothing moved yet").isFalse();
        parker.moved("s", "A", token, 2, 2);
        assertThat(state().drained()).as("moved, not yet handled").isFalse();
        parker.passed("s", "A", token, 1);
        assertThat(state().drained()).isFalse();
        parker.passed("s", "A", token, 2);
        assertThat(state().drained()).isTrue();

        var countedTwice = new ParkedGroup("s", "A", "a2", "m2", "x", Instant.EPOCH, Instant.EPOCH, 3, 2, token, 2, 2,
                false, 9);
        assertThat(countedTwice.drained()).as("a message counted twice, or one on its way, keeps it parked").isFalse();
    }

    @Test // a second review: a move taken up again after it stopped (a Kafka commit that failed) counts its copies twice
    void movesCountedTwice_neverMakeAGroupDrained_norItsNextHeadsGroup() {
        String token = parkTwoAndRelease();
        parker.moved("s", "A", token, 2, 2);
        parker.moved("s", "A", token, 2, 2); // the same two, sent again and counted again
        parker.passed("s", "A", token, 4);
        assertThat(state().drained()).as("more moved than parked: the counts are not to be trusted").isFalse();

        parker.park("s", "A", "a5", "m5", "a5 fails", token, false); // a copy failed again: the new head
        parker.beginRelease("s", "A");
        assertThat(state().moved()).as("no more than was parked before it").isEqualTo(2);
        assertThat(state().drained()).as("the new head waits in the DLQ").isFalse();
    }

    @Test
    void noReleaseUnderWay_isNeverDrained() {
        var state = new ParkedGroup("s", "A", "a2", "m2", "x", Instant.EPOCH, Instant.EPOCH, 1, 1, null, 0, 0, false, 1);
        assertThat(state.drained()).isFalse();
    }

    @Test
    void aMessageWaitingBehind_thatFindsTheGroupDrained_goesOn_andChangesNothing() {
        String token = parkTwoAndRelease();
        parker.moved("s", "A", token, 2, 2);
        parker.passed("s", "A", token, 2);
        var before = state();

        assertThat(parker.park("s", "A", "a4", "m4", "behind", null, true)).as("to be handled").isNull();
        assertThat(state()).isEqualTo(before);
    }

    @Test
    void aMessageLetThroughThatFails_isTheNewHead_andTheReleaseUnderWayIsInterrupted() {
        String token = parkTwoAndRelease();
        parker.moved("s", "A", token, 2, 2);
        parker.passed("s", "A", token, 2);

        var parked = parker.park("s", "A", "a4", "m4", "a4 fails", null, false);

        assertThat(parked.head()).isEqualTo("a4");
        assertThat(parked.headMessageId()).isEqualTo("m4");
        assertThat(parked.reason()).isEqualTo("a4 fails");
        assertThat(parked.releaseToken()).isNull();
        assertThat(GroupParker.at(parked)).startsWith("group A parked at a4");
        assertThatThrownBy(() -> parker.finish("s", "A", token, 3, SETTLED))
                .isInstanceOf(GroupParker.ReleaseInterrupted.class).hasMessageContaining("parked again behind a4");
    }

    @Test // a second review: a mover reading the new head's dead letter sent it back under the old release's token
    void aReleaseTellsItsMover_thatTheGroupWasParkedBehindANewHead_beforeItSendsABatch() throws Exception {
        String token = parkTwoAndRelease();
        var asked = new ArrayList<Boolean>();
        var mover = new ToldMover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String t, boolean skipHead, GroupParker.Progress progress) {
                asked.add(progress.stillReleasing());
                progress.movedSoFar(2, 2);
                parker.passed("s", "A", t, 2);
                parker.park("s", "A", "a4", "m4", "a4 fails", null, false); // let through, failed: the new head
                asked.add(progress.stillReleasing());
                return new GroupParker.Moved(2, 2, "the group was parked again");
            }
        };

        assertThatThrownBy(() -> parker.release("s", "A", false, mover, Duration.ofSeconds(5)))
                .hasMessageContaining("parked again");
        assertThat(asked).containsExactly(true, false);
        assertThat(state().head()).isEqualTo("a4");
        assertThat(token).isNotNull();
    }

    @Test
    void aReleaseRecordsEachBatchAsItsMoverReportsIt_andTheRestAtTheEnd() throws Exception {
        parkFour();
        var seen = new ArrayList<long[]>();
        var mover = new ToldMover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
                if (parked.moved() > 0) {
                    return new GroupParker.Moved(0, 0); // a later pass finds nothing more
                }
                progress.movedSoFar(2, 2);
                seen.add(new long[] {state().moved(), state().redriven()});
                progress.movedSoFar(3, 3);
                seen.add(new long[] {state().moved(), state().redriven()});
                parker.passed("s", "A", token, 3);
                return new GroupParker.Moved(4, 4); // the last batch is told with the answer
            }
        };

        var released = parker.release("s", "A", false, mover, Duration.ofSeconds(5));

        assertThat(seen).extracting(m -> List.of(m[0], m[1])).containsExactly(List.of(2L, 2L), List.of(3L, 3L));
        assertThat(released.redriven()).isEqualTo(4);
        assertThat(released.finish()).as("everything moved, 3 of 4 handled").isEqualTo(GroupParker.Finish.CLOSING);
        assertThat(state().moved()).as("recorded once each").isEqualTo(4);
        assertThat(state().redriven()).isEqualTo(4);
    }

    @Test // a fifth review: a count whose write landed unconfirmed, the store unreadable until the tries ran out, was told
          // again in the mover's next running total (it goes on once the group is parked again): counted twice, more moved
          // than parked, and the group taken for drained with messages still parked
    void aCountWhoseFateIsUnknown_isNotToldAgain_byTheMoversNextRunningTotal() throws Exception {
        var failing = new java.util.concurrent.atomic.AtomicBoolean();
        var failedOnce = new java.util.concurrent.atomic.AtomicBoolean();
        var store = new GroupParking() { // writes land but their answers are lost, and nothing can be read, while failing
            @Override
            public java.util.Optional<ParkedGroup> parkedGroup(String source, String group) {
                if (failing.get()) {
                    throw new IllegalStateException("the store is down");
                }
                return ledger.parkedGroup(source, group);
            }

            @Override
            public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
                boolean replaced = ledger.replaceParkedGroup(expected, next);
                if (replaced && next != null && next.moved() > 0 && failedOnce.compareAndSet(false, true)) {
                    failing.set(true); // from the count on: its answer lost, the store unreadable
                    throw new IllegalStateException("no answer");
                }
                return replaced;
            }

            @Override
            public List<ParkedGroup> parkedGroups() {
                return ledger.parkedGroups();
            }
        };
        var counting = new GroupParker(store, clock);
        parkFour();
        var lost = new java.util.concurrent.atomic.AtomicReference<RuntimeException>();
        var mover = new ToldMover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
                try {
                    progress.movedSoFar(2, 2);
                } catch (RuntimeException e) { // as a mover that goes on does: told again in the next running total
                    lost.set(e);
                }
                failing.set(false);
                progress.movedSoFar(4, 4);
                return new GroupParker.Moved(4, 4, "stopped here for the test");
            }
        };

        assertThatThrownBy(() -> counting.release("s", "A", false, mover, Duration.ofSeconds(5)))
                .hasMessageContaining("stopped here for the test");
        assertThat(lost.get()).as("the first count's fate not known").isNotNull();
        assertThat(state().moved()).as("the first two (they landed) and the next two: not the first two again")
                .isEqualTo(4);
    }

    @Test // a second review: a release parked again goes on (its rest goes behind the new head) and counts what it moves;
          // once another release began, both read one cursor and move the same dead letters: counted by both, the group
          // taken for drained with a dead letter still parked
    void aMoveOfAReleaseParkedAgain_isNotCounted_onceAnotherReleaseBegan() {
        String first = parkTwoAndRelease();
        parker.park("s", "A", "a2", "m2", "a2 fails again", first, false);
        assertThatThrownBy(() -> parker.moved("s", "A", first, 1, 1)).isInstanceOf(GroupParker.ReleaseInterrupted.class);
        assertThat(state().moved()).as("parked again, no release under way: what it moved counts").isEqualTo(1);
        String second = parker.beginRelease("s", "A");
        assertThat(second).isNotEqualTo(first);
        assertThatThrownBy(() -> parker.moved("s", "A", first, 1, 1)).isInstanceOf(GroupParker.ReleaseInterrupted.class);
        assertThat(state().moved()).as("another release under way: not counted").isEqualTo(1);
    }
}
