package dev.ferry.domain.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The queue contract bounds every call it makes to the adapter: only polls were, and an adapter whose
 * settle hung hung the suite (a review).
 */
class QueueContractBoundsTest {

    @Test
    void aSettleThatHangs_failsTheContract_withinItsLimit() {
        var contract = new HangingSettles();
        try {
            long start = System.nanoTime();
            assertThatThrownBy(contract::settle_ofManyAtOnce_carriesOutEach).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("did not return within");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("failed at its limit, not after the hang")
                    .isLessThan(Duration.ofSeconds(8));
        } finally {
            contract.closeQueues();
        }
    }

    /** The contract on an in-memory queue whose settle hangs for 10 s, with a 1 s limit per call. */
    private static final class HangingSettles extends QueueContract {

        @Override
        protected QueueFixture standardQueue() {
            return new Fixture(InMemoryQueue.builder("bounds").deadLetterQueue(InMemoryQueue.standard("bounds-dlq")).build());
        }

        @Override
        protected QueueFixture fifoQueue() {
            throw new AssertionError("not used");
        }

        @Override
        protected Duration leaseUnit() {
            return Duration.ofMillis(200);
        }

        @Override
        protected Duration callLimit() {
            return Duration.ofSeconds(1);
        }
    }

    private record Fixture(InMemoryQueue queue) implements QueueFixture, Acknowledger {
        @Override
        public List<Settlement.Failure> settle(List<Settlement> settlements) {
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of();
        }

        @Override
        public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
            return queue.extendLeases(deliveries, lease);
        }

        @Override
        public Source source() {
            return queue;
        }

        @Override
        public Acknowledger acknowledger() {
            return this;
        }

        @Override
        public Sink sink() {
            return queue;
        }

        @Override
        public void send(String body, Map<String, String> attributes, String groupId) {
            queue.send(new InMemoryQueue.Message(body.getBytes(StandardCharsets.UTF_8), attributes, groupId, null, null));
        }

        @Override
        public List<DeadLetter> deadLetters() {
            return List.of();
        }

        @Override
        public void close() {
            queue.close();
        }
    }
}
