package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the health check makes of the acknowledger's calls: a run of acks carried out by none, not more, not less. */
class AckCallsTest {

    private static Settlement ack(String id, String receipt) {
        return new Settlement(new Delivery(id, new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", receipt), Disposition.ACK);
    }

    @Test // reviews of the filter: a failure the acknowledger rebuilt (another receipt) must stand for the settlement it was
          // given, whole (what owes a refused dead letter looks it up so); two receives of one message are two failures
    void anAcknowledgersFailures_areTheCallsOwn_onceEach_asTheSettlementsItWasGiven() {
        var first = ack("m-1", "r-1");
        var second = ack("m-1", "r-2"); // a standard queue's duplicate receive, in the same call
        var other = ack("m-2", "r-3");
        var failed = List.of(new Settlement.Failure(first, "no", true), new Settlement.Failure(second, "no", true),
                new Settlement.Failure(second, "said twice", true), new Settlement.Failure(ack("m-9", "r-9"), "another call's", true),
                new Settlement.Failure(ack("m-2", "rebuilt"), "rebuilt", true));

        var ours = AckCalls.ours(new Settlement[] {first, second, other}, failed);

        assertThat(ours).extracting(Settlement.Failure::settlement).containsExactly(first, second, other);
        assertThat(ours.get(2).settlement()).as("the one given, not the rebuilt").isSameAs(other);
        assertThat(ours.get(2).reason()).isEqualTo("rebuilt");
    }

    private static final Duration LIMIT = Duration.ofMillis(50);

    private static Settlement settlement(String id, Disposition disposition) {
        return new Settlement(new Delivery(id, new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", null), disposition);
    }

    @Test // a review: redeliveries carried out hid a run of acks that all failed (a role that may not delete)
    void acksThatAllFail_areARun_thoughTheRedeliveriesBesideThemWork() throws Exception {
        var calls = new AckCalls();
        var ack = settlement("m-1", Disposition.ACK);
        var redeliver = settlement("m-2", Disposition.redeliver(Duration.ZERO));
        for (int i = 0; i < 8; i++) {
            calls.answered(List.of(ack, redeliver), List.of(new Settlement.Failure(ack, "AccessDenied (injected)", true)));
            Thread.sleep(15);
        }
        assertThat(calls.failing(LIMIT)).contains("AccessDenied");
        calls.answered(List.of(ack), List.of()); // one ack carried out: the run is over
        assertThat(calls.failing(LIMIT)).isNull();
    }

    @Test // a review: an idle listener makes no calls; a lone failure days after an old one was reported as a run of days
    void aFailureAfterAQuietWhile_startsARunOfItsOwn() throws Exception {
        var calls = new AckCalls();
        assertThat(calls.failing(LIMIT)).isNull(); // the health check's limit, as it asks
        var ack = List.of(settlement("m-1", Disposition.ACK));
        calls.failed("stale receipt", ack);
        Thread.sleep(LIMIT.toMillis() * 3);
        calls.failed("stale receipt again", ack);
        assertThat(calls.failing(LIMIT)).as("one failure, a moment ago").isNull();
    }

    @Test // redeliveries refused (a stale receipt, a lease run out) say nothing of the acks
    void batchesWithoutAcks_startNoRun() throws Exception {
        var calls = new AckCalls();
        var redeliver = settlement("m-2", Disposition.redeliver(Duration.ZERO));
        for (int i = 0; i < 8; i++) {
            calls.answered(List.of(redeliver), List.of(new Settlement.Failure(redeliver, "stale (injected)", true)));
            Thread.sleep(15);
        }
        assertThat(calls.failing(LIMIT)).isNull();
    }

    @Test // a review of the dead letters' run: one refused for good (no dead-letter queue, on purpose) came back each lease
          // and took the whole app out of readiness
    void deadLettersRefusedForGood_startNoRun_thoseThatMayPassDo() throws Exception {
        var calls = new AckCalls();
        var dead = settlement("m-3", Disposition.deadLetter("poison"));
        for (int i = 0; i < 8; i++) {
            calls.answered(List.of(dead), List.of(new Settlement.Failure(dead, "has no dead-letter queue", false)));
            Thread.sleep(15);
        }
        assertThat(calls.failing(LIMIT)).as("refused for good: not a run").isNull();
        for (int i = 0; i < 8; i++) {
            calls.answered(List.of(dead), List.of(new Settlement.Failure(dead, "KMS.AccessDeniedException (injected)", true)));
            Thread.sleep(15);
        }
        assertThat(calls.failing(LIMIT)).contains("every dead letter sent").contains("KMS.AccessDeniedException");
    }

    @Test // a review: a call of dead letters alone that threw counted toward the acks' run, and an ack's next call ended it
    void aCallOfDeadLettersThatThrows_isTheirRun_notTheAcks() throws Exception {
        var calls = new AckCalls();
        var dead = List.of(settlement("m-3", Disposition.deadLetter("poison")));
        var ack = settlement("m-1", Disposition.ACK);
        for (int i = 0; i < 8; i++) {
            calls.failed("IllegalStateException: dead-letter producer closed (injected)", dead);
            calls.answered(List.of(ack), List.of()); // acks carried out beside them
            Thread.sleep(15);
        }
        assertThat(calls.failing(LIMIT)).contains("every dead letter sent").contains("producer closed");
    }
}
