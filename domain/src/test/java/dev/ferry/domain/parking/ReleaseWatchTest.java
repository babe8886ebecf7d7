package dev.ferry.domain.parking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.CapturedLog;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A review: a release answered "released, it flows again once the listeners have handled them" as soon as every parked
 * message was back in the source — and a message the producer sent that reached the listener among the copies was
 * parked behind them (the group not drained), the group no longer closing. The last copy's pass left it parked, that
 * message in the dead-letter destination, every later one parked behind it, and nothing released it: the CLI's exit 0
 * told a script there was nothing to retry. The release now watches its copies pass and moves such a message too, and
 * the last copy's pass warns of one left so.
 */
class ReleaseWatchTest {

    private static final Duration LIMIT = Duration.ofSeconds(10);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-08T10:00:00Z"));
    private final InMemoryLedger ledger = InMemoryLedger.of(clock, 1000);
    private final GroupParker parker = new GroupParker(ledger, clock);

    /** The group's dead letters, in their order: what a mover finds there. */
    private final Deque<String> deadLetters = new ConcurrentLinkedDeque<>();
    /** What went back to the source, in order: a copy's number is its place here, from 1. */
    private final List<String> sentBack = new CopyOnWriteArrayList<>();
    private volatile boolean stopping;

    /**
     * Moves every dead letter of the group back in order, as a mover does — the head only deleted when it is to be
     * skipped; says so when its runner goes away.
     */
    private final GroupParker.Mover mover = new GroupParker.Mover() {
        @Override
        public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
            long moved = 0;
            long sent = 0;
            for (String key = deadLetters.poll(); key != null; key = deadLetters.poll()) {
                moved++;
                if (!(skipHead && key.equals(parked.head()))) {
                    sentBack.add(key);
                    sent++;
                }
            }
            return new GroupParker.Moved(moved, sent);
        }

        @Override
        public boolean stopping() {
            return stopping;
        }
    };

    /** a2 parks the group, a3 and a4 wait behind it. */
    private void parkThree() {
        parker.park("s", "A", "a2", "m-a2", "a2 fails", null, false);
        deadLetters.add("a2");
        parkBehind("a3");
        parkBehind("a4");
    }

    /** {@code key} reached the listener while the group was parked, not drained: it waits behind, in the DLQ. */
    private void parkBehind(String key) {
        parker.park("s", "A", key, "m-" + key, GroupParker.behind(state()), null, true);
        deadLetters.add(key); // counted first, then dead-lettered: a release may look before it is there
    }

    private ParkedGroup state() {
        return parker.parked("s", "A").orElseThrow();
    }

    private boolean closing() {
        return parker.parked("s", "A").map(ParkedGroup::closing).orElse(false);
    }

    /** The listener's part, on a thread of its own as a listener is: bounded, and waited for. */
    private static Thread listener(ThrowingRunnable part) {
        return Thread.ofPlatform().daemon().start(() -> {
            try {
                part.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /**
     * The listener's part once the release said CLOSING: copy 1 passes, then {@code rest} with the release's token.
     * Nothing at all if it never says so, the release's own answer then failing the test.
     */
    private Thread afterFirstCopy(AfterFirstCopy rest) {
        return listener(() -> {
            if (!Await.until(LIMIT, this::closing)) {
                return;
            }
            String token = state().releaseToken();
            parker.passed("s", "A", token, 1);
            rest.run(token);
        });
    }

    private interface AfterFirstCopy {
        void run(String token) throws Exception;
    }

    /** Group A's release, {@code listener} playing its part beside it; joined (bounded) whatever the release does. */
    private GroupParker.Released releaseBeside(Thread listener) throws InterruptedException {
        return releaseBeside(listener, null);
    }

    /** As above, dropping the head when it is {@code skipped} (--skip-head --head), unless that is null. */
    private GroupParker.Released releaseBeside(Thread listener, String skipped) throws InterruptedException {
        try {
            return parker.release("s", "A", skipped != null, skipped, mover, LIMIT);
        } finally {
            listener.join(LIMIT.multipliedBy(3).toMillis());
        }
    }

    @Test // the review's sequence: copies sent, CLOSING, then the producer's a5 reaches the listener among them
    void aMessageParkedAmongTheCopiesAfterTheReleaseSaidClosing_isMovedToo_andTheGroupFlowsOnceItPasses() throws Exception {
        parkThree();
        var listener = afterFirstCopy(token -> {
            parkBehind("a5"); // the group not drained (copies 2 and 3 still to pass): it comes after them
            parker.passed("s", "A", token, 2);
            parker.passed("s", "A", token, 3); // before the fix, the group stayed parked here for good
            if (Await.until(LIMIT, () -> sentBack.size() == 4)) {
                parker.passed("s", "A", token, 4); // a5 went back fourth, after the copies it was parked behind
            }
        });
        GroupParker.Released released = releaseBeside(listener);

        assertThat(released.finish()).as("watched until the last passed, not CLOSING and parked for good")
                .isEqualTo(GroupParker.Finish.UNPARKED);
        assertThat(released.redriven()).as("a5 sent back too").isEqualTo(4);
        assertThat(sentBack).as("in the order sent").containsExactly("a2", "a3", "a4", "a5");
        assertThat(deadLetters).isEmpty();
        assertThat(parker.parked("s", "A")).as("the group flows").isEmpty();
    }

    @Test // the round a message parked among the copies takes is bounded: a producer that keeps doing so is left to the next
    void aMessageParkedAmongEachRoundsCopies_endsTheReleaseAfterItsLastRound_notYet() throws Exception {
        parkThree();
        int parkedAmong = GroupRelease.MAX_ROUNDS + 1;
        var listener = listener(() -> {
            for (int i = 1; i <= parkedAmong; i++) { // each round's CLOSING, then one more parked among its copies
                if (!Await.until(LIMIT, this::closing)) {
                    return;
                }
                parkBehind("p" + i);
            }
        });
        GroupParker.Released released = releaseBeside(listener);

        assertThat(released.finish()).as("the group stays parked, the last one waiting: release it again")
                .isEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(released.redriven()).as("the three, and one a round").isEqualTo(3 + GroupRelease.MAX_ROUNDS);
        assertThat(state().waiting()).isEqualTo(1);
        assertThat(deadLetters).containsExactly("p" + parkedAmong);
    }

    @Test // a close waits for releases only seconds: one watching its copies for its patience held it past that
    void whoeverRunsTheReleaseGoingAway_endsItsWatchAtOnce_answeringClosing() throws Exception {
        parkThree();
        var listener = listener(() -> {
            if (!Await.until(LIMIT, this::closing)) {
                return;
            }
            Thread.sleep(300); // the first copy takes a while to handle
            parker.passed("s", "A", state().releaseToken(), 1);
            stopping = true;
        });
        long began = System.nanoTime();
        GroupParker.Released released;
        long passedWhenAnswered;
        try {
            released = parker.release("s", "A", false, mover, Duration.ofSeconds(30));
            passedWhenAnswered = state().passed();
        } finally {
            listener.join(LIMIT.toMillis());
        }

        assertThat(released.finish()).isEqualTo(GroupParker.Finish.CLOSING);
        assertThat(passedWhenAnswered).as("it watched the copies pass until it was told").isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - began)).as("not its patience").isLessThan(LIMIT);
    }

    @Test // watched, a copy that fails again is said: the release had answered "released", the group parked behind it
    void aCopyThatFailsAgainWhileWatched_isSaid_theGroupParkedAgainBehindIt() throws Exception {
        parkThree();
        var listener = afterFirstCopy(token ->
                parker.park("s", "A", "a3", "m-a3-copy", "a3 fails again", token, false)); // the cause not fixed for a3
        try {
            assertThatThrownBy(() -> parker.release("s", "A", false, mover, LIMIT))
                    .isInstanceOf(GroupParker.ReleaseInterrupted.class).hasMessageContaining("parked again behind a3");
        } finally {
            listener.join(LIMIT.toMillis());
        }
        assertThat(state().head()).isEqualTo("a3");
    }

    @Test // the same, with --skip-head: the head deleted, the release thrown out of its watch, the head was nowhere said
    void aCopyThatFailsAgainWhileWatched_afterTheHeadWasDropped_saysTheHeadWasDropped_andLogsIt() throws Exception {
        parkThree();
        var listener = listener(() -> {
            if (!Await.until(LIMIT, this::closing)) {
                return;
            }
            // a3 went back first (a2 dropped): copy 1 fails again, the group parked behind it
            parker.park("s", "A", "a3", "m-a3-copy", "a3 fails again", state().releaseToken(), false);
        });
        try (var log = new CapturedLog(GroupParker.class.getName())) {
            assertThatThrownBy(() -> releaseBeside(listener, "a2"))
                    .isInstanceOf(GroupParker.ReleaseInterrupted.class)
                    .hasMessageContaining("parked again behind a3")
                    .as("the head it threw away, not only the new one")
                    .hasMessageContaining("2 sent back, head a2 dropped (skip-head)");

            assertThat(log.lines).as("the head thrown away, said where an operator looks").singleElement().asString()
                    .contains("group A of source s", "its head a2 given up (skip-head)");
        }
        assertThat(sentBack).as("the head only deleted").containsExactly("a3", "a4");
        assertThat(deadLetters).isEmpty();
        assertThat(state().head()).isEqualTo("a3");
    }

    @Test // a review: the mover's own problem after the head was deleted (a send failing, the group parked again seen by
          // it) ended the release as a plain failure that named only the problem — the head the operator named was gone
    void aMoveThatStopsWithAProblem_afterTheHeadWasDropped_saysTheHeadWasDropped_andStaysRetryable() {
        parkThree();
        GroupParker.Mover failing = new GroupParker.Mover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
                deadLetters.poll(); // the head, deleted (skip-head)
                sentBack.add(deadLetters.poll()); // a3 sent back, then the send of a4 fails
                return new GroupParker.Moved(2, 1, "sending a4 failed: throttled");
            }
        };

        assertThatThrownBy(() -> parker.release("s", "A", true, "a2", failing, LIMIT))
                .isExactlyInstanceOf(dev.ferry.domain.model.FerryException.class)
                .hasMessageContaining("sending a4 failed: throttled")
                .as("the head it threw away, not only the problem").hasMessageContaining("head a2 dropped (skip-head)")
                .satisfies(e -> assertThat(((dev.ferry.domain.model.FerryException) e).retryable()).isTrue());
        assertThat(sentBack).containsExactly("a3");
    }

    @Test // a review: the head deleted, a3 and a4 sent back, a4's delete failed (not counted, still in the DLQ) — 2 counted
          // and 2 sent back read as nothing dropped: no warning, the problem thrown as it was, the head gone unsaid
    void aMoveThatDroppedTheHead_andCouldNotDeleteACopySentBack_saysTheHeadWasDropped_andLogsIt() {
        parkThree();
        GroupParker.Mover deleteFailing = new GroupParker.Mover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
                deadLetters.poll(); // the head, deleted (skip-head)
                sentBack.add(deadLetters.poll()); // a3 sent back and deleted
                sentBack.add(deadLetters.peek()); // a4 sent back, its delete refused: still there
                return new GroupParker.Moved(2, 2, 1, "1 message(s) of group A were sent back but could not be deleted "
                        + "from the DLQ: ReceiptHandleIsInvalid; delete them by hand before releasing again");
            }
        };

        try (var log = new CapturedLog(GroupParker.class.getName())) {
            assertThatThrownBy(() -> parker.release("s", "A", true, "a2", deleteFailing, LIMIT))
                    .isExactlyInstanceOf(dev.ferry.domain.model.FerryException.class)
                    .hasMessageContaining("could not be deleted")
                    .as("the head it threw away, not only the problem").hasMessageContaining("head a2 dropped (skip-head)");

            assertThat(log.lines).as("the head thrown away, said where an operator looks").singleElement().asString()
                    .contains("group A of source s", "its head a2 given up (skip-head)");
        }
        assertThat(sentBack).containsExactly("a3", "a4");
        assertThat(state().moved()).as("what was counted is recorded").isEqualTo(2);
    }

    @Test // no release watching (its patience over, or an older one): the last copy's pass is where the group stays parked
    void theLastCopysPass_warnsOnce_ofAMessageParkedAmongTheCopies_andNotOfAListenerThatCaughtUpWithItsMover() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        parker.moved("s", "A", token, 3, 3);
        assertThat(parker.finish("s", "A", token, 3, LIMIT)).isEqualTo(GroupParker.Finish.CLOSING);

        try (var log = new CapturedLog(GroupParker.class.getName())) {
            parker.passed("s", "A", token, 1);
            parkBehind("a5");
            parker.passed("s", "A", token, 2);
            assertThat(log.lines).as("copies still to pass").isEmpty();
            parker.passed("s", "A", token, 3);
            parker.passed("s", "A", token, 3); // delivered twice
            parkBehind("a6"); // and every later message parks behind: said once, not for each

            assertThat(log.lines).singleElement().asString().contains("group A of source s", "1 parked message(s)",
                    "the group stays parked", "ferry groups release A --source s");
        }
        assertThat(state().waiting()).isEqualTo(2);

        // a listener that caught up with its release's mover (the next batch not yet sent back): nothing to say
        parker.park("s", "B", "b1", "m-b1", "b1 fails", null, false);
        parker.park("s", "B", "b2", "m-b2", "behind", null, true);
        parker.park("s", "B", "b3", "m-b3", "behind", null, true);
        String b = parker.beginRelease("s", "B");
        try (var log = new CapturedLog(GroupParker.class.getName())) {
            parker.moved("s", "B", b, 2, 2);
            parker.passed("s", "B", b, 1);
            parker.passed("s", "B", b, 2);
            parker.passed("s", "B", b, 3); // a copy of the next batch, handled before its count was recorded
            assertThat(log.lines).isEmpty();
        }
    }
}
