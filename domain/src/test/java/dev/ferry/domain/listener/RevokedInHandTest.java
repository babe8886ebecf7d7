package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A transport that keeps a message while it is ours (Kafka) and gives it to another consumer in a rebalance: what is in
 * hand here is the next owner's, who reads it again in order. Run here after that — a held head retried, a dead letter
 * sent, the group's next message — it ran after the next owner had gone on past it.
 */
class RevokedInHandTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final InMemoryQueue queue = InMemoryQueue.builder("orders.fifo").contentBasedDeduplication(true).build();
    /** Set when the partition goes: from then on nothing of it is ours, and its settlements are refused. */
    private final AtomicBoolean revoked = new AtomicBoolean();
    private final List<Disposition> settled = new CopyOnWriteArrayList<>();
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void aHeldHeadWhosePartitionWent_isNotRetriedHere_norItsGroupsNextRun() {
        start(RetryPolicy.of(5, Backoff.fixed(Duration.ofMillis(300))));

        assertThat(Await.until(LIMIT, () -> listener.stats().staleDropped() == 1)).as(listener.stats().line()).isTrue();
        assertThat(Await.until(LIMIT, () -> settled.size() == 1)).as("the group's next given back").isTrue();
        assertThat(handled).as("the head ran once, before the revocation; nothing after").containsExactly("first");
        assertThat(settled).allMatch(d -> d instanceof Disposition.Release);
    }

    @Test
    void aHeadThatFailsForGoodAsItsPartitionGoes_isNotDeadLetteredHere_norItsGroupsNextRun() {
        start(RetryPolicy.of(1, Backoff.fixed(Duration.ofMillis(1)))); // its first failure is its last

        assertThat(Await.until(LIMIT, () -> listener.stats().staleDropped() == 1)).as(listener.stats().line()).isTrue();
        assertThat(Await.until(LIMIT, () -> settled.size() == 1)).as("the group's next given back").isTrue();
        assertThat(settled).as("no dead letter sent for the next owner's record").noneMatch(d -> d instanceof Disposition.DeadLetter);
        assertThat(handled).containsExactly("first");
        assertThat(listener.stats().deadLettered()).isZero();
    }

    /** Two messages of one group; the head's handler fails as the partition is revoked. */
    private void start(RetryPolicy retry) {
        queue.send(InMemoryQueue.Message.of("first", "g"));
        queue.send(InMemoryQueue.Message.of("second", "g"));
        Handler handler = (event, delivery) -> {
            handled.add(event.key());
            revoked.set(true); // a rebalance while the handler ran
            throw new IllegalStateException("downstream failed");
        };
        var keeping = new Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return revoked.get() ? List.of() : queue.poll(request);
            }

            @Override
            public boolean redeliversAfterLease() {
                return false;
            }
        };
        var acks = new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                var refused = new ArrayList<Settlement.Failure>();
                for (var s : settlements) {
                    settled.add(s.disposition());
                    refused.add(new Settlement.Failure(s, "partition revoked; its next owner reads the record again", false));
                }
                return refused;
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return revoked.get() ? deliveries : List.of();
            }

            @Override
            public boolean holds(Delivery delivery) {
                return !revoked.get();
            }
        };
        listener = Listener.builder(keeping, acks, new LineDecoder(), handler)
                .config(ListenerTest.fast().retry(retry).build()).build().start();
    }
}
