package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

/** The endpoint's admission: a large batch refused is kept room for, not starved by the small requests after it. */
class AdmissionTest {

    @Test // a review: permits come back one event at a time and small requests took each; a batch of 800 among batches
          // of 100 was answered 429 for as long as they came
    void aLargeBatchRefused_isKeptRoomFor_smallerRequestsTakenOnlyWhenTheyLeaveIt() {
        var capacity = new Semaphore(10);
        var admission = new Admission(capacity);
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
        var admission = new Admission(capacity);
        assertThat(admission.take(8)).isTrue(); // 2 free
        assertThat(admission.take(4)).isFalse();
        assertThat(admission.take(6)).isFalse(); // the largest now
        capacity.release(8); // 10 free
        assertThat(admission.take(4)).as("leaves 6: the room kept").isTrue();
        assertThat(admission.take(1)).as("would leave 5 of 6").isFalse();
        assertThat(admission.take(6)).isTrue();
    }
}
