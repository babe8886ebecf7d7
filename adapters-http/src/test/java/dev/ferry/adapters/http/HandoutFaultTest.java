package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.adapters.http.IngestRequest.Item;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

/**
 * A throw (an OutOfMemoryError) while the HTTP source hands events out or queues an ordered request's next run: what
 * was taken off the queue is given back, answered retry. It was lost: its capacity never freed (every request 429
 * once all of it was gone, until a restart) and its request never answered.
 */
class HandoutFaultTest {

    static final int CAPACITY = 10;
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);

    /** A ready queue whose {@code poll()} (the one without a wait) or {@code add} throws once, after a number of calls. */
    static final class FailingQueue extends LinkedBlockingQueue<Item> {
        /** The calls of {@code poll()} that succeed before one throws; -1: none throws. */
        int pollsBeforeFailure = -1;
        /** The calls of {@code add} that succeed before one throws; -1: none throws. */
        int addsBeforeFailure = -1;

        @Override
        public Item poll() {
            if (pollsBeforeFailure-- == 0) {
                throw new OutOfMemoryError("test");
            }
            return super.poll();
        }

        @Override
        public boolean add(Item item) {
            if (addsBeforeFailure-- == 0) {
                throw new OutOfMemoryError("test");
            }
            return super.add(item);
        }
    }

    final FailingQueue ready = new FailingQueue();
    final Semaphore capacity = new Semaphore(CAPACITY);
    // as HttpSource builds them: the endpoint and the handout share the queue and the capacity
    private final IngestEndpoint endpoint = new IngestEndpoint(new IngestEndpoint.Settings("in", "/events", IngestAuth.none(),
            1 << 20, 100, RESPONSE_TIMEOUT, Duration.ofSeconds(10), Duration.ofMinutes(5), Clock.systemUTC(), 8, 8, 100,
            1L << 22), ready, capacity);
    final Handout handout = new Handout("in", ready, capacity, endpoint);

    @Test
    void aPollThatThrows_afterTakingAnEvent_givesItBack() {
        var request = request(2, false);
        queue(request);
        ready.pollsBeforeFailure = 0; // the first event is taken (with a wait), the poll for the next one throws

        assertThatThrownBy(() -> handout.poll(poll(10))).isInstanceOf(OutOfMemoryError.class).hasMessage("test");

        assertThat(request.items[0].disposition).as("taken, then given back").isEqualTo(Disposition.RELEASE);
        var next = handout.poll(poll(10));
        assertThat(next).extracting(Delivery::id).containsExactly("r#1");
        assertThat(handout.settle(List.of(new Settlement(next.getFirst(), Disposition.ACK)))).isEmpty();
        assertAnswered(request);
        assertThat(request.items[1].disposition).isEqualTo(Disposition.ACK);
    }

    @Test
    void aPollThatThrows_afterTakingAnOrderedRun_givesTheWholeRequestBack() {
        var request = request(3, true);
        queue(request);
        ready.pollsBeforeFailure = 0; // the whole run is taken, the poll for more throws

        assertThatThrownBy(() -> handout.poll(poll(10))).isInstanceOf(OutOfMemoryError.class).hasMessage("test");

        assertAnswered(request);
        assertThat(request.items).extracting(item -> item.disposition).containsOnly(Disposition.RELEASE);
        assertThat(handout.poll(poll(10))).as("nothing of it is handed out afterwards").isEmpty();
    }

    @Test
    void aNextRunThatCannotBeQueued_givesTheRestBack_andTheOtherSettlementsStand() {
        var request = request(3, true);
        queue(request);
        var run = handout.poll(poll(2));
        assertThat(run).extracting(Delivery::id).containsExactly("r#0", "r#1");
        ready.addsBeforeFailure = 0; // the run after it (r#2) goes back into the queue once both are settled: that throws

        // every settlement carried out: none reported failed (the engine would take them all as failed), none thrown
        assertThat(handout.settle(List.of(new Settlement(run.get(0), Disposition.ACK),
                new Settlement(run.get(1), Disposition.ACK)))).isEmpty();

        assertAnswered(request);
        assertThat(request.items).extracting(item -> item.disposition)
                .containsExactly(Disposition.ACK, Disposition.ACK, Disposition.RELEASE);
        assertThat(handout.poll(poll(10))).isEmpty();
    }

    /** A request of {@code n} events as the endpoint makes one, its capacity taken as the endpoint takes it. */
    IngestRequest request(int n, boolean ordered) {
        assertThat(capacity.tryAcquire(n)).isTrue();
        var request = new IngestRequest(n, ordered);
        for (int i = 0; i < n; i++) {
            var delivery = new Delivery("r#" + i, "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of(), 1,
                    Instant.EPOCH, ordered ? "g" : null, null, "in", null);
            request.items[i] = new Item(request, i, delivery);
        }
        return request;
    }

    /** Queued as the endpoint queues a request: an ordered one by its first event, which stands for its first run. */
    private void queue(IngestRequest request) {
        if (request.ordered) {
            ready.add(request.items[0]);
        } else {
            for (var item : request.items) {
                ready.add(item);
            }
        }
    }

    static PollRequest poll(int max) {
        return new PollRequest(max, Duration.ZERO, Duration.ofMinutes(1));
    }

    /** Every event settled, the request answered (with retry for those given back), all the capacity free again. */
    void assertAnswered(IngestRequest request) {
        assertThat(request.settled.getCount()).as("events of the request not settled").isZero();
        assertThat(capacity.availablePermits()).as("capacity free").isEqualTo(CAPACITY);
        boolean anyGivenBack = java.util.Arrays.stream(request.items).anyMatch(item -> item.disposition == Disposition.RELEASE);
        assertThat(IngestAnswers.answer(request, request.items.length > 1, false, RESPONSE_TIMEOUT).status())
                .isEqualTo(anyGivenBack ? 429 : 200);
    }
}
