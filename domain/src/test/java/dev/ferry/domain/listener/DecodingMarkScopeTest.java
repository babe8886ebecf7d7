package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.ForwardingLedger;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A review: the mark on a decoding past the receive limit was keyed by the source's own name, and a plugin's source
 * names itself as its author chose. Two sources of one plugin type on queues both called "orders" number their
 * messages alike ("orders-1" on both): the mark one's dead instance left held kept the other's same-id message from
 * being decoded, and a done copy of it was dead-lettered "not decoded". The mark is keyed by the listener's name.
 */
class DecodingMarkScopeTest {

    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void anotherSourcesMarkOnTheSameId_doesNotKeepADoneCopyFromBeingDroppedAsADuplicate() {
        var dlq = InMemoryQueue.standard("orders-dlq");
        var queue = InMemoryQueue.builder("orders").deadLetterQueue(dlq).build(); // the queue of source 'us'
        var ledger = new OnDisk();
        String key = LedgerKeys.event("us", "done-1");
        var claim = (Claim.Acquired) ledger.claim(key, Duration.ofMinutes(1));
        ledger.complete(key, claim.token(), Duration.ofHours(1)); // handled; its ack lost, it came back past the limit
        queue.send("done-1");
        Delivery held = diedHolding(queue, 3).getFirst();
        // source 'eu' reads another broker's queue also called "orders": its instance died decoding its own message of
        // the same id past the limit, and left the mark (in the shape it had) held for an hour
        assertThat(ledger.claim(LedgerKeys.bounded("decoding:" + held.source() + ":" + held.id()),
                ReceiveLimit.UNFINISHED)).isInstanceOf(Claim.Acquired.class);

        listener = Listener.builder(named("us", queue), queue, new LineDecoder(), (event, delivery) -> Outcome.done())
                .ledger(ledger).ledgerScope("us")
                .config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(2)).build()).build().start();

        assertThat(Await.until(Duration.ofSeconds(20), () -> queue.size() == 0 && listener.stats().inFlight() == 0))
                .as(listener.stats().line()).isTrue();
        assertThat(dlq.size()).as("done: not dead-lettered").isZero();
        assertThat(listener.stats().duplicatesDropped()).isEqualTo(1);
    }

    /** As consumers that received what {@code queue} had and died {@code times} times, without a word; the last poll. */
    private static List<Delivery> diedHolding(InMemoryQueue queue, int times) {
        List<Delivery> last = List.of();
        for (int i = 0; i < times; i++) {
            last = queue.poll(new PollRequest(10, Duration.ZERO, Duration.ofMillis(1)));
            assertThat(last).isNotEmpty();
            Await.until(Duration.ofMillis(5), () -> false);
        }
        return last;
    }

    /** {@code queue} under the name the configuration file gives it, as the app names a plugin's source. */
    private static Source named(String name, InMemoryQueue queue) {
        return new Source() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return queue.poll(request);
            }
        };
    }

    /** A ledger whose claims outlive the process, as one on disk or in a service does (held in memory here). */
    private static final class OnDisk extends ForwardingLedger {
        OnDisk() {
            super(InMemoryLedger.create());
        }

        @Override
        public Optional<Claim> peek(String key) {
            return ledger.peek(key);
        }

        @Override
        public boolean persist() {
            return true;
        }
    }
}
