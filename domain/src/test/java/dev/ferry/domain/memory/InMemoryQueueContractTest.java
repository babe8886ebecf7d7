package dev.ferry.domain.memory;

import dev.ferry.domain.contract.QueueContract;
import dev.ferry.domain.contract.QueueFixture;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

class InMemoryQueueContractTest extends QueueContract {

    private static final AtomicInteger NAMES = new AtomicInteger();

    @Override
    protected QueueFixture standardQueue() {
        var dlq = InMemoryQueue.standard("contract-dlq-" + NAMES.incrementAndGet());
        return new Fixture(InMemoryQueue.builder("contract-" + NAMES.incrementAndGet()).deadLetterQueue(dlq).build());
    }

    @Override
    protected QueueFixture fifoQueue() {
        var dlq = InMemoryQueue.builder("contract-dlq-" + NAMES.incrementAndGet() + ".fifo").build();
        return new Fixture(InMemoryQueue.builder("contract-" + NAMES.incrementAndGet() + ".fifo")
                .contentBasedDeduplication(true).deadLetterQueue(dlq).build());
    }

    @Override
    protected Duration leaseUnit() {
        return Duration.ofMillis(200);
    }

    private record Fixture(InMemoryQueue queue) implements QueueFixture {
        @Override
        public Source source() {
            return queue;
        }

        @Override
        public Acknowledger acknowledger() {
            return queue;
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
            return queue.deadLetterQueue().messages().stream()
                    .map(m -> new DeadLetter(m.body(), m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE)))
                    .toList();
        }

        @Override
        public void close() {
            queue.close();
        }
    }
}
