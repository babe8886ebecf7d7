package dev.ferry.adapters.http;

import dev.ferry.adapters.http.IngestRequest.Item;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The {@link HttpSource}'s events on their way to the listener: handed out from the queue the
 * endpoint fills (an ordered batch one run at a time), settled back to the requests waiting on them.
 */
final class Handout {

    private final String name;
    private final LinkedBlockingQueue<Item> ready;
    private final Semaphore capacity;
    private final IngestEndpoint endpoint;

    Handout(String name, LinkedBlockingQueue<Item> ready, Semaphore capacity, IngestEndpoint endpoint) {
        this.name = name;
        this.ready = ready;
        this.capacity = capacity;
        this.endpoint = endpoint;
    }

    List<Delivery> poll(PollRequest request) {
        var out = new ArrayList<Delivery>(Math.min(request.maxMessages(), 64));
        try {
            var first = ready.poll(request.maxWait().toNanos(), TimeUnit.NANOSECONDS);
            while (first != null && out.size() < request.maxMessages()) {
                var from = first.request;
                if (from.abandoned) {
                    if (from.ordered) {
                        from.releaseRest(capacity); // the rest of an ordered batch waits behind this one: all of it goes
                    } else {
                        first.settle(Disposition.RELEASE, capacity);
                    }
                } else if (from.ordered) {
                    // its next run, in order; the run after it goes into the queue once this one is settled
                    for (var item : from.takeRun(request.maxMessages() - out.size())) {
                        out.add(delivered(item));
                    }
                } else {
                    out.add(delivered(first));
                }
                first = out.size() < request.maxMessages() ? ready.poll() : null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    private Delivery delivered(Item item) {
        var d = item.delivery;
        return new Delivery(d.id(), d.body(), d.attributes(), 1, d.sentAt(), d.groupKey(), d.deduplicationId(), name, item);
    }

    List<Settlement.Failure> settle(List<Settlement> settlements) {
        List<Settlement.Failure> failures = List.of();
        for (var s : settlements) {
            if (s.delivery().receipt() instanceof Item item && item.settle(s.disposition(), capacity)) {
                if (item.request.ordered) {
                    var nextRun = item.request.runSettled(s.disposition(), endpoint.isClosing(), capacity);
                    if (nextRun != null) {
                        ready.add(nextRun);
                        if (endpoint.isClosing()) {
                            endpoint.releaseUnpolled(); // nobody may poll it any more
                        }
                    }
                }
            } else {
                if (failures.isEmpty()) {
                    failures = new ArrayList<>();
                }
                failures.add(new Settlement.Failure(s, s.delivery().receipt() instanceof Item
                        ? "already settled or its request gave up" : "not received by HTTP source '" + name + "'", false));
            }
        }
        return failures;
    }
}
