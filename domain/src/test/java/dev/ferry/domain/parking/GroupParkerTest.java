package dev.ferry.domain.parking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.contract.GroupParkingContract;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.testing.MutableClock;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The release protocol, step by step, on the in-memory ledger; and the ledger's store against the contract. */
class GroupParkerTest {

    private final InMemoryLedger ledger = InMemoryLedger.create();
    private final GroupParker parker = new GroupParker(ledger, Clock.systemUTC());

    @Nested
    class Contract extends GroupParkingContract {
        @Override
        protected GroupParking newStore(MutableClock clock) {
            return InMemoryLedger.of(clock, 1000);
        }
    }

    private void parkThree() {
        parker.park("s", "A", "a2", "m2", "a2 fails", null);
        parker.park("s", "A", "a3", "m3", GroupParker.behind(parker.parked("s", "A").orElseThrow()), null);
        parker.park("s", "A", "a4", "m4", "whatever", null);
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
    void finish_waitsForParkedMessagesStillOnTheirWay_thenLeavesTheUnparkingToTheLastPass() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        parker.moved("s", "A", token, 2, 2); // the third is not in the DLQ yet
        assertThat(parker.finish("s", "A", token)).isEqualTo(GroupParker.Finish.NOT_YET);

        parker.moved("s", "A", token, 1, 1);
        assertThat(parker.finish("s", "A", token)).isEqualTo(GroupParker.Finish.CLOSING);
        parker.passed("s", "A", token);
        parker.passed("s", "A", "another release's token");
        parker.passed("s", "A", token);
        assertThat(parker.parked("s", "A")).as("one still to pass").isPresent();
        parker.passed("s", "A", token);
        assertThat(parker.parked("s", "A")).isEmpty();
    }

    @Test
    void whenEverythingPassedBeforeTheReleaseFinished_finishUnparks() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        parker.moved("s", "A", token, 3, 2); // the head skipped
        parker.passed("s", "A", token);
        parker.passed("s", "A", token);
        assertThat(parker.finish("s", "A", token)).isEqualTo(GroupParker.Finish.UNPARKED);
        assertThat(parker.parked("s", "A")).isEmpty();
    }

    @Test
    void aMessageParkedWhileClosing_keepsTheGroupParked_soItIsNotOvertaken() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        parker.moved("s", "A", token, 3, 3);
        assertThat(parker.finish("s", "A", token)).isEqualTo(GroupParker.Finish.CLOSING);
        parker.park("s", "A", "a5", "m5", "behind", null); // the producer sent a5 meanwhile: it went to the DLQ
        for (int i = 0; i < 3; i++) {
            parker.passed("s", "A", token);
        }
        var state = parker.parked("s", "A").orElseThrow();
        assertThat(state.waiting()).as("a5 waits to be released").isEqualTo(1);
        assertThat(state.closing()).isFalse();
    }

    @Test
    void aReleasedMessageThatFailsAgain_becomesTheHead_andTheReleaseIsInterrupted() {
        parkThree();
        String token = parker.beginRelease("s", "A");
        parker.moved("s", "A", token, 3, 3);
        parker.park("s", "A", "a2", "m2-again", "a2 fails again", token);

        var state = parker.parked("s", "A").orElseThrow();
        assertThat(state.headMessageId()).isEqualTo("m2-again");
        assertThat(state.reason()).isEqualTo("a2 fails again");
        assertThat(state.releaseToken()).isNull();
        assertThat(state.passes(token)).as("the rest no longer pass: they park behind it").isFalse();
        assertThatThrownBy(() -> parker.finish("s", "A", token)).isInstanceOf(GroupParker.ReleaseInterrupted.class)
                .hasMessageContaining("parked again behind a2");
    }

    @Test
    void releasingAGroupThatIsNotParked_isRefused() {
        assertThatThrownBy(() -> parker.release("s", "nope", false, (p, t, skip) -> new GroupParker.Moved(0, 0),
                Duration.ofSeconds(1))).isInstanceOf(GroupParker.ReleaseInterrupted.class).hasMessageContaining("not parked");
    }

    @Test
    void aReleaseWhoseMessagesNeverArrive_givesUpAfterItsPatience_andTheGroupStaysParked() throws Exception {
        parkThree();
        var released = parker.release("s", "A", false, (p, t, skip) -> new GroupParker.Moved(0, 0), Duration.ofMillis(300));
        assertThat(released.finish()).isEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(parker.parked("s", "A")).isPresent();
    }
}
