package dev.ferry.adapters.http;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Which requests the endpoint takes in: those whose events fit its capacity, a large batch not starved by small ones.
 * A batch is taken only when all its events fit at once, and permits come back one event at a time: small requests took
 * each as it came back, and a batch of 800 in a stream of batches of 100 was answered 429 for as long as the stream
 * lasted (a batch of the largest size only ever got in to an empty endpoint). The largest batch refused is kept room
 * for, {@link #HELD_FOR} from its first refusal: smaller requests are taken only when they leave it that much, and it
 * takes its room when it comes back (its {@code Retry-After} is 1 s). Room is not kept again for as long after: a batch
 * that cannot fit (the endpoint holds events that do not settle) does not hold every other request back for good.
 */
final class Admission {

    /** How long room is kept for a batch refused, from its first refusal; and how long none is kept after. */
    static final long HELD_FOR = TimeUnit.SECONDS.toNanos(3);

    private final Semaphore capacity;
    private final LongSupplier nanoTime;
    /** The events of the batch room is kept for (0: none), and until when; guarded by this. */
    private int waiting;
    private long waitingUntil;
    /** Whether room was kept since {@link #waitingUntil} minus {@link #HELD_FOR} (then none until one more HELD_FOR). */
    private boolean kept;

    Admission(Semaphore capacity) {
        this(capacity, System::nanoTime);
    }

    /** With a clock of its own, for tests. */
    Admission(Semaphore capacity, LongSupplier nanoTime) {
        this.capacity = capacity;
        this.nanoTime = nanoTime;
    }

    /** Takes {@code n} permits when they fit and leave room for a larger batch refused lately; false when not. */
    synchronized boolean take(int n) {
        long now = nanoTime.getAsLong();
        int room = waiting != 0 && now - waitingUntil < 0 ? waiting : 0;
        if (n >= room) {
            if (capacity.tryAcquire(n)) {
                if (room != 0) {
                    waiting = 0; // the batch room was kept for (or a larger one) is in: room for the next at once
                    kept = false;
                }
                return true;
            }
        } else if (capacity.availablePermits() - n >= room && capacity.tryAcquire(n)) {
            return true; // the room kept is left
        }
        if (n == 1) {
            return false; // one event fits whenever a permit is free: no room kept for it
        }
        if (room == 0 && (!kept || now - waitingUntil - HELD_FOR >= 0)) {
            waiting = n; // room kept from its first refusal, not renewed by the next
            waitingUntil = now + HELD_FOR;
            kept = true;
        } else if (room != 0 && n > waiting) {
            waiting = n; // a larger batch: kept room for within the same time
        }
        return false;
    }
}
