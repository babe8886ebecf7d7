package dev.ferry.domain.listener;

import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An acknowledger over an in-memory queue that settles as the queue does and refuses every lease
 * extension (a Kafka partition revoked, SQS's 12 hours passed), counting the calls.
 */
class RefusingExtensions implements Acknowledger {

    private final InMemoryQueue queue;
    final AtomicInteger asked = new AtomicInteger();

    RefusingExtensions(InMemoryQueue queue) {
        this.queue = queue;
    }

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        return queue.settle(settlements);
    }

    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        asked.incrementAndGet();
        return deliveries; // none extended
    }
}
