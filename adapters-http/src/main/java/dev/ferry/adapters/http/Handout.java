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

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpSource.class); // beside the source's

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
        Item first = null;
        Item[] run = null;
        try {
            first = ready.poll(request.maxWait().toNanos(), TimeUnit.NANOSECONDS);
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
                    run = from.takeRun(request.maxMessages() - out.size());
                    for (var item : run) {
                        out.add(delivered(item));
                    }
                } else {
                    out.add(delivered(first));
                }
                first = out.size() < request.maxMessages() ? ready.poll() : null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            giveBack(out, first, run);
            throw t;
        }
        return out;
    }

    /**
     * A poll that threw (an OutOfMemoryError) hands out nothing: what it took off the queue is settled here as
     * released (answered retry), with the rest of an ordered request (its next run was to be queued only once
     * this one was settled). Before, nothing ever settled them: their capacity was gone for good, and once it
     * all was, every request was answered 429 until a restart.
     */
    private void giveBack(List<Delivery> out, Item first, Item[] run) {
        for (int i = 0; i < out.size(); i++) { // indexed: no iterator to allocate, memory may be short
            giveBack((Item) out.get(i).receipt());
        }
        if (first != null) {
            giveBack(first);
        }
        for (int i = 0; run != null && i < run.length; i++) {
            giveBack(run[i]);
        }
    }

    private void giveBack(Item item) {
        item.settle(Disposition.RELEASE, capacity); // once: false for what was settled already
        if (item.request.ordered) {
            item.request.releaseRest(capacity);
        }
    }

    private Delivery delivered(Item item) {
        var d = item.delivery;
        return new Delivery(d.id(), d.body(), d.attributes(), 1, d.sentAt(), d.groupKey(), d.deduplicationId(), name, item);
    }

    List<Settlement.Failure> settle(List<Settlement> settlements) {
        List<Settlement.Failure> failures = List.of();
        for (var s : settlements) {
            if (s.delivery().receipt() instanceof Item item && s.disposition() instanceof Disposition.Release
                    && endpoint.isClosing()) {
                item.givenBackAtStop = true; // before it is settled: the answer reads it then
            }
            if (s.delivery().receipt() instanceof Item item && item.settle(s.disposition(), capacity)) {
                if (item.request.ordered) {
                    var nextRun = item.request.runSettled(s.disposition(), endpoint.isClosing(), capacity);
                    requeue(nextRun);
                }
                // taken whatever its request heard: a dead letter it never heard is told to its resend instead
                endpoint.unheard.settled(item, s.disposition());
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

    /**
     * An ordered request's next run (or null: none) back in the queue. Should that throw (no memory), the rest of
     * the request is given back (answered retry, its capacity freed): unqueued, nothing would ever settle it. Not
     * thrown on: this settlement was carried out, and the engine would take every one of the call as failed.
     */
    private void requeue(Item nextRun) {
        if (nextRun == null) {
            return;
        }
        try {
            ready.add(nextRun);
        } catch (Throwable t) {
            nextRun.request.releaseRest(capacity);
            try {
                LOG.warn("HTTP source '{}': the rest of an ordered request could not be queued ({}); answered retry", name,
                        String.valueOf(t));
            } catch (Throwable unsaid) { // no memory even for that: the client's retry says it
            }
            return;
        }
        if (endpoint.isClosing()) {
            endpoint.releaseUnpolled(); // nobody may poll it any more
        }
    }
}
