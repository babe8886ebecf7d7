package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.transport.Disposition;
import org.junit.jupiter.api.Test;

/**
 * A throw (an OutOfMemoryError) while the endpoint queues a request's events: those not queued were never settled,
 * their capacity lost for good. Now the request is given up: every event answered retry, all the capacity back.
 */
class IngestQueueFaultTest {

    private final HandoutFaultTest f = new HandoutFaultTest(); // its queue, capacity and handout, as HttpSource builds them

    @Test
    void aRequestPartlyQueued_isGivenBack_whatWasQueuedByThePollers() {
        var request = f.request(3, false);
        f.ready.addsBeforeFailure = 1; // the first event goes into the queue, the second throws

        assertThatThrownBy(() -> request.queue(f.ready, f.capacity)).isInstanceOf(OutOfMemoryError.class).hasMessage("test");

        assertThat(request.abandoned).isTrue();
        assertThat(f.handout.poll(HandoutFaultTest.poll(10))).as("the queued one is released, not handed out").isEmpty();
        f.assertAnswered(request);
        assertThat(request.items).extracting(item -> item.disposition).containsOnly(Disposition.RELEASE);
    }

    @Test
    void anOrderedRequestNotQueued_isGivenBackWhole() {
        var request = f.request(3, true);
        f.ready.addsBeforeFailure = 0;

        assertThatThrownBy(() -> request.queue(f.ready, f.capacity)).isInstanceOf(OutOfMemoryError.class).hasMessage("test");

        f.assertAnswered(request);
        assertThat(request.items).extracting(item -> item.disposition).containsOnly(Disposition.RELEASE);
        assertThat(f.handout.poll(HandoutFaultTest.poll(10))).isEmpty();
    }

    @Test
    void aRequestQueued_isHandedOutAsBefore() {
        var request = f.request(2, false);
        request.queue(f.ready, f.capacity);

        assertThat(request.abandoned).isFalse();
        assertThat(f.handout.poll(HandoutFaultTest.poll(10))).hasSize(2);
    }
}
