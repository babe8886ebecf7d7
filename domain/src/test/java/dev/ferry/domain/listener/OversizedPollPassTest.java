package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A source that answers a poll with more than it asked for (a user's that always asks for ten): those beyond the poll's
 * max are given back unhandled at once, each receive a pass. Not counted so, each of them spent a receive against
 * maxReceives, and under a backlog messages that never ran were dead-lettered "received 3 times ... more than
 * maxReceives 2".
 *
 * <p>Each of those is received too: counted released (and told settled) but never received, the stats read as having
 * settled more than the listener received.
 */
class OversizedPollPassTest {

    private static final Duration LIMIT = Duration.ofSeconds(30);

    private final InMemoryQueue dlq = InMemoryQueue.standard("orders-dlq");
    private final InMemoryQueue queue = InMemoryQueue.builder("orders").deadLetterQueue(dlq).build();
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    /** The queue, polled for ten whatever the poll asks. */
    private final Source tenAtATime = new Source() {
        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public List<Delivery> poll(PollRequest request) {
            return queue.poll(new PollRequest(10, request.maxWait(), request.lease()));
        }
    };

    @Test
    void deliveriesBeyondAPollsMax_givenBackUnhandled_spendNoReceive_noneIsDeadLettered() {
        var sent = new ArrayList<String>();
        for (int i = 0; i < 30; i++) {
            sent.add("m" + i);
            queue.send("m" + i);
        }
        Set<String> handled = ConcurrentHashMap.newKeySet();
        listener = Listener.builder(tenAtATime, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }).config(ListenerTest.fast().batchSize(1).maxInFlight(1).concurrency(1)
                .deadLetter(DeadLetterPolicy.maxReceives(2)).build()).build().start();

        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as(listener.stats().line()).isTrue();
        assertThat(dlq.messages()).as("none dead-lettered for receives the source's oversized polls spent").isEmpty();
        assertThat(handled).containsExactlyInAnyOrderElementsOf(sent);
    }

    @Test
    void deliveriesBeyondAPollsMax_givenBackUnhandled_areReceivedFirst_noneSettledThatWasNotReceived() {
        for (int i = 0; i < 30; i++) {
            queue.send("m" + i);
        }
        var toldReceived = new AtomicLong();
        var toldSettled = new AtomicLong();
        listener = Listener.builder(tenAtATime, queue, new LineDecoder(), (event, delivery) -> Outcome.done())
                .observer(new ListenerObserver() {
                    @Override
                    public void received(Delivery delivery) {
                        toldReceived.incrementAndGet();
                    }

                    @Override
                    public void settled(Delivery delivery, Disposition disposition) {
                        toldSettled.incrementAndGet();
                    }
                }).config(ListenerTest.fast().batchSize(1).maxInFlight(1).concurrency(1).build()).build().start();

        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && listener.stats().inFlight() == 0))
                .as(listener.stats().line()).isTrue();
        var stats = listener.stats();
        assertThat(stats.released()).as("the source's oversized polls gave some back: " + stats.line()).isPositive();
        assertThat(toldReceived.get()).as("the observer told of each receive").isGreaterThanOrEqualTo(toldSettled.get());
        assertThat(stats.received()).as("each settled delivery received first: " + stats.line())
                .isGreaterThanOrEqualTo(stats.settled());
    }
}
