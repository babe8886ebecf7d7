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
    void roomForABatchThatCannotFit_isKeptAWhile_thenNotForAsLong_soOthersGetIn() {
        var capacity = new Semaphore(10);
        var admission = new Admission(capacity, now::get);
        assertThat(admission.take(1)).isTrue(); // held for good: 9 free at most
        assertThat(admission.take(10)).isFalse();
        seconds(1);
        assertThat(admission.take(2)).as("room kept").isFalse();
        assertThat(admission.take(10)).as("retried").isFalse();
        seconds(2.1); // three seconds from its first refusal, not from its last
        assertThat(admission.take(10)).as("retried again").isFalse();
        assertThat(admission.take(2)).as("no room kept now").isTrue();
        seconds(1);
        assertThat(admission.take(10)).isFalse();
        assertThat(admission.take(2)).as("none kept again within as long").isTrue();
        seconds(2.5);
        assertThat(admission.take(10)).as("kept again after that").isFalse();
        assertThat(admission.take(2)).isFalse();
    }
}
