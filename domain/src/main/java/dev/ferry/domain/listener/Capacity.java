package dev.ferry.domain.listener;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * The listener's in-flight window: at most {@code max} deliveries held at once.
 *
 * <p>Unlike a {@link java.util.concurrent.Semaphore}, a full window does not wake the poller for
 * every delivery that leaves it: the poller is woken once {@code refill} slots are free (a batch
 * worth polling for), so a busy listener polls full batches instead of one message per wake-up.
 * If slots stay short of {@code refill} (slow handlers holding the rest), the poller takes what is
 * free after {@code patience}. Any number of threads may release and acquire (one per poller).
 */
final class Capacity {

    private final int max;
    private final int refill;
    private final long patienceNanos;
    private final AtomicInteger used = new AtomicInteger();
    /** Pollers parked until a batch is free (empty while the window has room: releases stay cheap). */
    private final CopyOnWriteArrayList<Thread> waiters = new CopyOnWriteArrayList<>();

    Capacity(int max, int refill, long patienceNanos) {
        this.max = max;
        this.refill = Math.max(1, Math.min(refill, max));
        this.patienceNanos = patienceNanos;
    }

    /**
     * Takes up to {@code want} slots: at once when {@code refill} (or {@code want}) are free,
     * otherwise waits for that many up to the patience, then takes what is free. Returns 0 when
     * nothing was free within {@code timeoutNanos}.
     */
    int acquire(int want, long timeoutNanos) throws InterruptedException {
        long start = System.nanoTime();
        int enough = Math.min(want, refill);
        while (true) {
            int free = max - used.get();
            long waited = System.nanoTime() - start;
            if (free >= enough || (free > 0 && waited >= patienceNanos)) {
                int take = Math.min(want, free);
                if (used.compareAndSet(max - free, max - free + take)) {
                    return take;
                }
                continue;
            }
            if (waited >= timeoutNanos) {
                return 0;
            }
            var me = Thread.currentThread();
            waiters.add(me);
            if (max - used.get() < enough) {
                LockSupport.parkNanos(this, free > 0 ? Math.min(timeoutNanos, patienceNanos) - waited : timeoutNanos - waited);
            }
            waiters.remove(me);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /** Gives {@code n} slots back; wakes the poller when a batch worth is free. */
    void release(int n) {
        int after = used.addAndGet(-n);
        if (max - after >= refill) {
            // no iterator made: a release on a poll's give-back under an Error (no memory) threw after its permits were
            // back, and the give-back gave the slot up a second time
            waiters.forEach(LockSupport::unpark);
        }
    }

    int used() {
        return used.get();
    }
}
