package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The endpoint's admission: a large batch refused is kept room for, not starved by the small requests after it. */
class AdmissionTest {

    private final AtomicLong now = new AtomicLong();

    private void seconds(double s) {
        now.addAndGet((long) (s * TimeUnit.SECONDS.toNanos(1)));
    }

    @Test // a review: permits come back one event at a time and small requests took each; a batch of 800 among batches
          // of 100 was answered 429 for as long as they came
    void aLargeBatchRefused_isKeptRoomFor_smallerRequestsTakenOnlyWhenTheyLeaveIt() {
        var capacity = new Semaphore(10);
        var admission = new Admission(capacity, now::get);
        assertThat(admission.take(6)).isTrue(); // 4 free
        assertThat(admission.take(5)).as("does not fit").isFalse();
        capacity.release(1); // 5 free: the batch's room, if no one takes it
        assertThat(admission.take(1)).as("would leave the batch 4 of its 5").isFalse();
        assertThat(capacity.availablePermits()).isEqualTo(5);
        assertThat(admission.take(5)).as("back, it fits").isTrue();
        capacity.release(5);
        assertThat(admission.take(1)).as("in: no room kept any more").isTrue();
        assertThat(admission.take(3)).as("leaves room for nothing kept").isTrue();
    }

    @Test
    void roomIsKeptForTheLargestRefused_andASmallerRequestStillGetsInWhenItLeavesThatRoom() {
        var capacity = new Semaphore(10);
        var admission = new Admission(capacity, now::get);
        assertThat(admission.take(8)).isTrue(); // 2 free
        assertThat(admission.take(4)).isFalse();
        assertThat(admission.take(6)).isFalse(); // the largest now
        capacity.release(8); // 10 free
        assertThat(admission.take(4)).as("leaves 6: the room kept").isTrue();
        assertThat(admission.take(1)).as("would leave 5 of 6").isFalse();
        assertThat(admission.take(6)).isTrue();
    }

    @Test // a last look: renewed by each refusal, room kept for a batch that could never fit (an event held that never
          // settles) refused every other request for as long as the batch was retried
    void roomForABatchThatCannotFit_isKeptUntilTheRoomStopsGrowing_thenTheOthersHaveTheirTurn() {
        var capacity = new Semaphore(10);
        var admission = new Admission(capacity, now::get);
        assertThat(admission.take(1)).isTrue(); // held for good: 9 free at most
        assertThat(admission.take(10)).isFalse();
        seconds(1);
        assertThat(admission.take(2)).as("room kept").isFalse();
        for (int s = 1; s <= 9; s++) {
            assertThat(admission.take(10)).as("retried each second").isFalse();
            seconds(1);
        }
        seconds(0.1); // the room has not grown for ten seconds
        assertThat(admission.take(10)).as("retried again").isFalse();
        assertThat(admission.take(2)).as("no room kept now: the others' turn").isTrue();
        seconds(1);
        assertThat(admission.take(10)).isFalse();
        assertThat(admission.take(2)).as("their turn goes on").isTrue();
        seconds(3.1); // the others stopped coming
        assertThat(admission.take(10)).as("kept again after that").isFalse();
        assertThat(admission.take(2)).isFalse();
    }

    /** Requests in a simulated stream: how many of each size got in. */
    private record Taken(int large, int small) {
    }

    /**
     * {@code seconds} of a stream against an endpoint of 1,000 events, full at the start, whose events settle at {@code
     * rate} a second: each second {@code largeClients} batches of {@code large}, and half a second later three of 100.
     */
    private Taken stream(int seconds, int rate, int large, int largeClients) {
        var capacity = new Semaphore(1_000);
        var admission = new Admission(capacity, now::get);
        capacity.acquireUninterruptibly(1_000);
        int largeIn = 0;
        int smallIn = 0;
        for (int s = 0; s < seconds; s++) {
            capacity.release(Math.min(rate, 1_000 - capacity.availablePermits()));
            for (int c = 0; c < largeClients; c++) {
                largeIn += admission.take(large) ? 1 : 0;
            }
            seconds(0.5);
            for (int c = 0; c < 3; c++) {
                smallIn += admission.take(100) ? 1 : 0;
            }
            seconds(0.5);
        }
        return new Taken(largeIn, smallIn);
    }

    @Test // a second look at the thirty-seventh round: room was kept 3 s from the first refusal, then none for 3 s; where
          // events settle slower than that, the room never grew to the batch, and the batch got in 0 times in 120 s
    void whereEventsSettleSlowly_aLargeBatchStillGetsIn_andTheSmallOnesToo() {
        var taken = stream(60, 100, 800, 1);
        assertThat(taken.large()).as("the batch of 800, settling 100 a second").isGreaterThanOrEqualTo(3);
        assertThat(taken.small()).as("the batches of 100").isGreaterThanOrEqualTo(10);
    }

    @Test // a second look: once a batch room was kept for got in, room was kept for the next large batch at once; under a
          // stream of batches of 800, 0 of 360 batches of 100 got in
    void aStreamOfLargeBatches_doesNotStarveTheSmallOnes() {
        var taken = stream(60, 400, 800, 3);
        assertThat(taken.small()).as("the batches of 100, among three clients of 800").isGreaterThanOrEqualTo(10);
        assertThat(taken.large()).as("the batches of 800").isGreaterThanOrEqualTo(10);
    }

    @Test // a review of the fix: a turn of 3 s for the others, however few events came back in it: settling 20 a second,
          // the batches of 100 got 0 in 120 s
    void whereEventsSettleVerySlowly_bothSidesStillGetIn() {
        var taken = stream(120, 20, 800, 1);
        assertThat(taken.large()).as("the batch of 800, settling 20 a second").isGreaterThanOrEqualTo(2);
        assertThat(taken.small()).as("the batches of 100").isGreaterThanOrEqualTo(5);
    }

    @Test // a review of the fix: room kept only while it grew within 3 s; settles coming in bursts 5 s apart, the room
          // never built past one burst, and the batch of 800 got in 0 times
    void whereEventsSettleInBurstsSecondsApart_theLargeBatchStillGetsIn() {
        var capacity = new Semaphore(1_000);
        var admission = new Admission(capacity, now::get);
        capacity.acquireUninterruptibly(1_000);
        int large = 0;
        int small = 0;
        for (int s = 0; s < 120; s++) {
            if (s % 5 == 0) {
                capacity.release(Math.min(500, 1_000 - capacity.availablePermits()));
            }
            large += admission.take(800) ? 1 : 0;
            seconds(0.5);
            for (int c = 0; c < 3; c++) {
                small += admission.take(100) ? 1 : 0;
            }
            seconds(0.5);
        }
        assertThat(large).as("the batch of 800").isGreaterThanOrEqualTo(3);
        assertThat(small).as("the batches of 100").isGreaterThanOrEqualTo(10);
    }

    @Test
    void roomIsNoLongerKept_forABatchThatStoppedComingBack() {
        var capacity = new Semaphore(10);
        var admission = new Admission(capacity, now::get);
        assertThat(admission.take(8)).isTrue(); // 2 free
        assertThat(admission.take(6)).as("refused, and gone").isFalse();
        for (int s = 0; s < 3; s++) {
            seconds(1);
            capacity.release(1); // the room grows, but the batch never asks again
        }
        seconds(0.1);
        assertThat(admission.take(2)).as("room no longer kept for a batch that stopped asking").isTrue();
    }
}
