package dev.ferry.adapters.http;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Which requests the endpoint takes in: those whose events fit its capacity, a large batch not starved by small ones
 * and small ones not starved by large. A batch is taken only when all its events fit at once, and permits come back one
 * event at a time: small requests took each as it came back, and a batch of 800 in a stream of batches of 100 was
 * answered 429 for as long as the stream lasted. So the largest batch refused is kept room for — smaller requests are
 * taken only when they leave it that much — for as long as it keeps coming back (its {@code Retry-After} is 1 s) and
 * the room still grows now and then, however slowly or unevenly events settle. Once it is in (or the room stopped
 * growing for {@link #STALLED}: events held that do not settle), the others have their turn: no room is kept until
 * smaller requests have taken as many events as the batch waited for, or stopped coming. Each side has half of what
 * settles, whatever the rate; a turn counted in seconds starved one side or the other at some rate.
 */
final class Admission {

    /** How long a hold, or the others' turn, lasts once its requests stopped coming back. */
    static final long ASKED_WITHIN = TimeUnit.SECONDS.toNanos(3);
    /** How long a hold lasts with no permit coming back. */
    static final long STALLED = TimeUnit.SECONDS.toNanos(10);

    private final Semaphore capacity;
    private final LongSupplier nanoTime;
    /** The events of the batch room is kept for (0: none); guarded by this, like the rest. */
    private int waiting;
    /** The most permits free seen while room was kept, and when they last grew (nanoTime). */
    private int mostFree;
    private long grewAt;
    /** When the batch room is kept for last asked. */
    private long askedAt;
    /** The others' turn: events requests smaller than {@link #turnBelow} may still take before room is kept again. */
    private long turnLeft;
    private int turnBelow;
    /** When one of them last asked. */
    private long othersAskedAt;

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
        boolean other = turnLeft > 0 && n < turnBelow;
        if (other) {
            othersAskedAt = now;
        } else if (turnLeft > 0 && now - othersAskedAt - ASKED_WITHIN >= 0) {
            turnLeft = 0; // the others stopped coming: their turn is over
        }
        if (n >= room) {
            if (capacity.tryAcquire(n)) {
                if (room != 0) {
                    endHold(now, room); // the batch room was kept for (or a larger one) is in: the others' turn
                } else if (other) {
                    turnLeft = Math.max(0, turnLeft - n);
                }
                return true;
            }
        } else if (capacity.availablePermits() - n >= room && capacity.tryAcquire(n)) {
            return true; // the room kept is left
        }
        if (n == 1) {
            return false; // one event fits whenever a permit is free: no room kept for it
        }
        if (room == 0 && turnLeft == 0) {
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

    /** The room kept now: none once it stopped growing for {@link #STALLED}, or its batch stopped asking. */
    private int room(long now) {
        if (waiting == 0) {
            return 0;
        }
        int free = capacity.availablePermits();
        if (free > mostFree) {
            mostFree = free;
            grewAt = now;
        }
        if (now - grewAt - STALLED >= 0 || now - askedAt - ASKED_WITHIN >= 0) {
            endHold(now, waiting);
            return 0;
        }
        return waiting;
    }

    /** Room no longer kept: the others' turn, for as many events as were waited for. */
    private void endHold(long now, int events) {
        waiting = 0;
        turnLeft = events;
        turnBelow = events;
        othersAskedAt = now;
    }
}
