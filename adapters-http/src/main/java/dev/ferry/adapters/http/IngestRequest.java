package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One HTTP request waiting for its events to be settled.
 *
 * <p>A batch sent under {@code X-Ferry-Group} is {@linkplain #ordered ordered}: its events are
 * handed out in runs, in their order, the next run only once the last one is settled, so two
 * pollers never hold parts of it at once (the part decoded first would run first), and an event that
 * goes back to the client ({@code retry}) takes every later one with it, unrun: the client sends them
 * again, in order, behind it. The run's own later events go back with it in the listener (its group's
 * waiting messages are handed back when one fails).
 */
final class IngestRequest {

    final Item[] items;
    final CountDownLatch settled;
    final boolean ordered;
    volatile boolean abandoned;
    /** Ordered: the first event not handed out yet. Guarded by this. */
    private int next;
    /** Ordered: events of the run out now and not settled yet. Guarded by this. */
    private int outstanding;
    /** Ordered: an event went back; the rest is answered retry, not handed out. Guarded by this. */
    private boolean stopped;
    /** The events {@link #queue} put in the ready queue: only the request's own thread reads or writes it. */
    private int queued;

    IngestRequest(int size, boolean ordered) {
        this.items = new Item[size];
        this.settled = new CountDownLatch(size);
        this.unsettled = new java.util.concurrent.atomic.AtomicInteger(size);
        this.ordered = ordered;
    }

    /** Events not settled yet; the one that settles the last runs {@link #whenSettled}. */
    private final java.util.concurrent.atomic.AtomicInteger unsettled;
    private volatile Runnable whenSettled;

    /**
     * Runs {@code then} once every event of the request is settled — its payloads are held until then, also past the
     * request's answer (a response timeout answers 429 while its events wait in hand). Set before any is queued.
     */
    void whenSettled(Runnable then) {
        whenSettled = then;
    }

    /**
     * The request's events as deliveries from {@code source}, received {@code now}, each with its attributes and
     * deduplication id (of {@code dedups}, null for none); a batch under {@code X-Ferry-Group} is ordered.
     */
    static IngestRequest of(HttpExchange ex, JsonItems.Split.Items split, String[] dedups, String path, String source,
                            Instant now) {
        int n = split.items().size();
        String group = present(ex.getRequestHeaders().getFirst("X-Ferry-Group"));
        var request = new IngestRequest(n, group != null && n > 1);
        String requestId = UUID.randomUUID().toString();
        for (int i = 0; i < n; i++) {
            var attributes = new HashMap<String, String>(8);
            attributes.put("http.remoteAddress", ex.getRemoteAddress().getAddress().getHostAddress());
            attributes.put("http.path", path);
            for (String trace : new String[] {"traceparent", "tracestate"}) {
                String value = ex.getRequestHeaders().getFirst(trace);
                if (value != null && value.length() <= 512) {
                    attributes.put(trace, value);
                }
            }
            String dedup = dedups == null ? null : dedups[i];
            if (dedup != null) {
                attributes.put("Idempotency-Key", dedup);
            }
            // the receipt (the item itself) is attached when the delivery is polled, see delivered(). Under an
            // Idempotency-Key the event's id is the same on every resend, so the listener counts its failures
            // across requests and gives up on it at max-attempts (422); by a request's random id, it never did
            String id = dedup != null ? dedup : requestId + "#" + i;
            var delivery = new Delivery(id, split.items().get(i), attributes, 1, now, group, dedup, source, null);
            request.items[i] = new Item(request, i, delivery);
        }
        return request;
    }

    /** A header's value, or null when it is absent or blank (the signature signs both alike). */
    static String present(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    /**
     * Puts the events in {@code ready} for the pollers (an ordered request: its first, standing for its first run).
     * Should that throw (an OutOfMemoryError), the request is given up: what was not queued is settled as released
     * (answered retry, its capacity freed) and the pollers release what was — else nothing settled those events,
     * and the capacity they held was gone until a restart. {@link #anyQueued} tells then whether a poller may have
     * taken one before the request was given up.
     */
    void queue(BlockingQueue<Item> ready, Semaphore capacity) {
        try {
            if (ordered) {
                ready.add(items[0]);
                queued = 1;
            } else {
                for (; queued < items.length; queued++) {
                    ready.add(items[queued]);
                }
            }
        } catch (Throwable t) {
            abandoned = true;
            if (ordered) {
                releaseRest(capacity);
            } else {
                for (int i = queued; i < items.length; i++) {
                    items[i].settle(Disposition.RELEASE, capacity);
                }
            }
            throw t;
        }
    }

    /**
     * Whether {@link #queue} put an event where a poller may take it. When one threw, the request's answer hangs on it: an
     * event queued may have run (a poller took it before the request was given up), so its client is told what came of
     * each; with none queued nothing ran, and the request is refused as if never taken.
     */
    boolean anyQueued() {
        return queued > 0;
    }

    /**
     * Waits up to {@code timeout} for every event to be settled; those not settled by then are the request's no more
     * ({@link #abandoned}: the pollers give back those they find), and its answer tells them they may still be handled.
     */
    void awaitSettled(Duration timeout) {
        boolean all;
        try {
            all = settled.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            all = false;
        }
        if (!all) {
            abandoned = true;
        }
    }

    /** Ordered: up to {@code max} events from where the last run ended, now out. */
    synchronized Item[] takeRun(int max) {
        int k = Math.min(max, items.length - next);
        var run = new Item[k];
        System.arraycopy(items, next, run, 0, k);
        next += k;
        outstanding = k;
        return run;
    }

    /**
     * Ordered: an event of the run out now was settled. Returns the event that stands for the next
     * run in the ready queue, or null: when the run is not over, or nothing is left, or the rest
     * went back — then settled here as released ({@code giveBackRest} true: an event of the run went
     * back, or the request gave up, or the source is stopping).
     */
    synchronized Item runSettled(Disposition disposition, boolean giveBackRest, Semaphore capacity) {
        if (!(disposition instanceof Disposition.Ack) && !(disposition instanceof Disposition.DeadLetter)) {
            stopped = true;
        }
        if (--outstanding > 0 || next >= items.length) {
            return null;
        }
        if (stopped || giveBackRest || abandoned) {
            releaseRest(capacity);
            return null;
        }
        return items[next];
    }

    /** Ordered: every event not handed out yet is settled as released (answered retry). */
    synchronized void releaseRest(Semaphore capacity) {
        for (int i = next; i < items.length; i++) {
            items[i].settle(Disposition.RELEASE, capacity);
        }
        next = items.length;
    }

    /** One event of a request; the receipt of its delivery. */
    static final class Item {
        final IngestRequest request;
        final int index;
        final Delivery delivery;
        final AtomicBoolean done = new AtomicBoolean();
        volatile Disposition disposition;
        /**
         * Released by the listener at its stop: its handler may have run (a stop gives back a delivery whose handler
         * outlasts the deadline), so its client is told it may have been handled, as for a response timeout.
         */
        volatile boolean givenBackAtStop;

        Item(IngestRequest request, int index, Delivery delivery) {
            this.request = request;
            this.index = index;
            this.delivery = delivery;
        }

        /** Records the event's end and frees its room, once; false when it was settled already. */
        boolean settle(Disposition d, Semaphore capacity) {
            if (!done.compareAndSet(false, true)) {
                return false;
            }
            disposition = d;
            capacity.release();
            request.settled.countDown();
            if (request.unsettled.decrementAndGet() == 0 && request.whenSettled != null) {
                request.whenSettled.run();
            }
            return true;
        }
    }
}
