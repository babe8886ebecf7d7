package dev.ferry.domain.parking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A group parked again between two moves of one release — behind a message the first move sent back, failing once
 * that move was over: what its producer parked between the move's end and the new head came after that message, and
 * goes behind it, in order.
 */
class ParkedAgainBetweenMovesTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T10:00:00Z"));
    private final InMemoryLedger ledger = InMemoryLedger.of(clock, 1000);
    private final GroupParker parker = new GroupParker(ledger, clock);

    @Test // a fifth review: the release ended at the next move's check, before moving it, and the next release sent the
          // producer's a4 ahead of a2's new dead letter — a4 handled before a2
    void theRest_isMovedAsTheLastMoveSawTheGroup_thenTheReleaseSaysItWasParkedAgain() throws Exception {
        parker.park("s", "A", "a2", "m2", "a2 fails", null, false);
        parker.park("s", "A", "a3", "m3", "behind", null, true);
        var releasing = Thread.currentThread();
        var given = new CopyOnWriteArrayList<ParkedGroup>();
        var restGiven = new AtomicReference<ParkedGroup>();
        var reparked = new AtomicBoolean();
        var reparker = new AtomicReference<Thread>();
        GroupParker.Mover mover = new GroupParker.Mover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
                throw new AssertionError("told as it goes");
            }

            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
                given.add(parked);
                if (reparked.get()) { // the move after the group was parked again: a4 goes back, behind a2's new copy
                    restGiven.set(parked);
                    progress.movedSoFar(1, 1);
                    return new GroupParker.Moved(1, 1);
                }
                if (given.size() > 1) { // the re-park came too late for the last pause: nothing new, and it pauses again
                    return new GroupParker.Moved(0, 0);
                }
                parker.park("s", "A", "a4", "m4", "behind", null, true); // the producer's, while the move ran
                progress.movedSoFar(2, 2); // a2 and a3 went back
                reparker.set(Thread.ofPlatform().start(() -> {
                    // a2 fails again once the move is over: while the release pauses before its next move
                    if (Await.until(Duration.ofSeconds(20), () -> releasing.getState() == Thread.State.TIMED_WAITING)) {
                        parker.park("s", "A", "a2", "m2", "a2 fails again", token, false);
                        reparked.set(true);
                    }
                }));
                return new GroupParker.Moved(2, 2);
            }
        };

        assertThatThrownBy(() -> parker.release("s", "A", false, mover, Duration.ofSeconds(30)))
                .isInstanceOf(GroupParker.ReleaseInterrupted.class).hasMessageContaining("parked again behind a2");
        reparker.get().join(20_000);

        assertThat(restGiven.get()).as(() -> "a move after the re-park; given " + given).isNotNull();
        assertThat(List.of(restGiven.get().head(), restGiven.get().reason())).as("the group as the last move saw it")
                .containsExactly("a2", "a2 fails");
        assertThat(restGiven.get().releaseToken()).isEqualTo(given.getFirst().releaseToken()).isNotNull();
        var now = parker.parked("s", "A").orElseThrow();
        assertThat(now.reason()).isEqualTo("a2 fails again");
        assertThat(now.moved()).as("a2, a3, and a4 behind the new head: all counted").isEqualTo(3);
        assertThat(now.parked()).isEqualTo(4);
    }
}
