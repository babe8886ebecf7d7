package dev.ferry.adapters.http;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Which requests the endpoint takes in: those whose events fit its capacity, a large batch not starved by small ones
 * and small ones not starved by large. A batch is taken only when all its events fit at once, and permits come back one
 * event at a time: small requests took each as it came back, and a batch of 800 in a stream of batches of 100 was
 * answered 429 for as long as the stream lasted. So the largest batch refused is kept room for — smaller requests are
 * taken only when they leave it that much — for as long as the room grows and the batch keeps coming back (its
 * {@code Retry-After} is 1 s), however slowly the endpoint's events settle. Once it is in, or the room stopped growing
 * for {@link #HELD_FOR} (events held that do not settle) or the batch stopped coming back, no room is kept for as long:
 * requests of every size take turns, and a stream of large batches does not starve the small.
 */
final class Admission {

    /** How long a hold lasts without progress or without its batch asking again; and how long none is kept after one. */
    static final long HELD_FOR = TimeUnit.SECONDS.toNanos(3);

    private final Semaphore capacity;
    private final LongSupplier nanoTime;
    /** The events of the batch room is kept for (0: none); guarded by this, like the rest. */
    private int waiting;
    /** The most permits free seen while room was kept, and when they last grew. */
    private int mostFree;
    private long grewAt;
    /** When the batch room is kept for last asked. */
    private long askedAt;
    /** Until when no room is kept (after a hold), and whether that applies. */
    private long freeUntil;
    private boolean cooling;

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
        int room = room(now);
        if (n >= room) {
            if (capacity.tryAcquire(n)) {
                if (room != 0) {
                    endHold(now); // the batch room was kept for (or a larger one) is in: the others' turn
                }
                return true;
            }
        } else if (capacity.availablePermits() - n >= room && capacity.tryAcquire(n)) {
            return true; // the room kept is left
        }
        if (n == 1) {
            return false; // one event fits whenever a permit is free: no room kept for it
        }
        if (room == 0 && (!cooling || now - freeUntil >= 0)) {
            waiting = n;
            mostFree = capacity.availablePermits();
            grewAt = now;
            askedAt = now;
        } else if (room != 0 && n >= waiting) {
            waiting = n; // the batch back, or a larger one: kept room for from here
            askedAt = now;
        }
        return false;
    }

    /** The room kept now: none once it stopped growing, or its batch stopped asking, for {@link #HELD_FOR}. */
    private int room(long now) {
        if (waiting == 0) {
            return 0;
        }
        int free = capacity.availablePermits();
        if (free > mostFree) {
            mostFree = free;
            grewAt = now;
        }
        if (now - grewAt - HELD_FOR >= 0 || now - askedAt - HELD_FOR >= 0) {
            endHold(now);
            return 0;
        }
        return waiting;
    }

    private void endHold(long now) {
        waiting = 0;
        freeUntil = now + HELD_FOR;
        cooling = true;
    }
}
