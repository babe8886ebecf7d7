package dev.ferry.adapters.http;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Which requests the endpoint takes in: those whose events fit its capacity, a large batch not starved by small ones.
 * A batch is taken only when all its events fit at once, and permits come back one event at a time: small requests took
 * each as it came back, and a batch of 800 in a stream of batches of 100 was answered 429 for as long as the stream
 * lasted (a batch of the largest size only ever got in to an empty endpoint). The largest batch refused lately is kept
 * room for: smaller requests are taken only when they leave it that much, for {@link #HELD_FOR} after its last refusal
 * (its {@code Retry-After} is 1 s), and it takes its room when it comes back.
 */
final class Admission {

    /** How long room is kept for a batch refused, after its last refusal: its Retry-After and a margin. */
    static final long HELD_FOR = TimeUnit.SECONDS.toNanos(3);

    private final Semaphore capacity;
    /** The events of the largest batch refused lately (0: none), and until when room is kept for it; guarded by this. */
    private int waiting;
    private long waitingUntil;

    Admission(Semaphore capacity) {
        this.capacity = capacity;
    }

    /** Takes {@code n} permits when they fit and leave room for a larger batch refused lately; false when not. */
    synchronized boolean take(int n) {
        long now = System.nanoTime();
        int kept = waiting != 0 && now - waitingUntil < 0 ? waiting : 0;
        if (n >= kept) {
            if (capacity.tryAcquire(n)) {
                if (n >= waiting) {
                    waiting = 0; // the batch room was kept for (or a larger one) is in
                }
                return true;
            }
        } else if (capacity.availablePermits() - n >= kept && capacity.tryAcquire(n)) {
            return true; // the room kept is left
        }
        if (n >= kept) {
            waiting = n;
            waitingUntil = now + HELD_FOR;
        }
        return false;
    }
}
