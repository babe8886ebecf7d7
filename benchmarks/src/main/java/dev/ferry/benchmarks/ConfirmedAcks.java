package dev.ferry.benchmarks;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * An acknowledger that counts a settlement only once the transport carried it out (its
 * {@code settle} returned without it among the failures): where a drain's clock stops, the same
 * point as a bare loop's "the delete returned".
 */
record ConfirmedAcks(Acknowledger transport, CountDownLatch confirmed) implements Acknowledger {

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        var failed = transport.settle(settlements);
        for (int i = failed.size(); i < settlements.size(); i++) {
            confirmed.countDown();
        }
        return failed;
    }

    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        return transport.extendLeases(deliveries, lease);
    }

    @Override
    public boolean holds(Delivery delivery) {
        return transport.holds(delivery);
    }
}
