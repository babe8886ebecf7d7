package dev.ferry.adapters.http;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** One HTTP request waiting for its events to be settled. */
final class IngestRequest {

    final Item[] items;
    final CountDownLatch settled;
    volatile boolean abandoned;

    IngestRequest(int size) {
        this.items = new Item[size];
        this.settled = new CountDownLatch(size);
    }

    /** One event of a request; the receipt of its delivery. */
    static final class Item {
        final IngestRequest request;
        final int index;
        final Delivery delivery;
        final AtomicBoolean done = new AtomicBoolean();
        volatile Disposition disposition;

        Item(IngestRequest request, int index, Delivery delivery) {
            this.request = request;
            this.index = index;
            this.delivery = delivery;
        }
    }
}
