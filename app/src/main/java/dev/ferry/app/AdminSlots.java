package dev.ferry.app;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One admin or metrics server's slots: the requests it serves at once and, past them, room made by cutting off the
 * oldest request still waiting on its client (for the rest of its request, or to take a part of its answer). A flood of
 * clients that each send a byte and stop — a dozen connections a second kept every slot full within the read deadline —
 * closed every health probe unanswered, and the pod was taken out of service, then restarted, at any peer's will. A
 * probe sends its request whole and is read at once: the flood's older connections go before it. A request whose handler
 * is at work is never cut off (an interrupt closes the file channel under a whole MVStore ledger).
 *
 * <p>A request cut off holds one of the slots of those ending until its thread lets go (at once, but not in the same
 * instant): the threads are bounded by twice the slots.
 */
final class AdminSlots {

    private static final int SERVED = 0;
    private static final int ENDING = 1;
    private static final int NONE = 2;

    private final Semaphore served;
    private final Semaphore ending;
    private final Queue<Slot> waiting = new ConcurrentLinkedQueue<>(); // oldest first

    AdminSlots(int most) {
        this.served = new Semaphore(most);
        this.ending = new Semaphore(most);
    }

    /** A slot for a new request, making room if it must; null when every one is at work in its handler (refused). */
    Slot take() {
        if (served.tryAcquire() || cutOldest() && served.tryAcquire()) {
            return new Slot();
        }
        return null;
    }

    private boolean cutOldest() {
        for (var slot : waiting) {
            if (!ending.tryAcquire()) {
                return false; // as many cut off and not yet ended
            }
            if (slot.cut()) {
                return true;
            }
            ending.release();
        }
        return false;
    }

    /** One request's slot: which of the server's it holds moves when the request is cut off. */
    final class Slot {
        private final AtomicInteger holds = new AtomicInteger(SERVED);
        private volatile BooleanSupplier cutter;

        /** The request runs: {@code cutter} ends it now if it waits on its client, false when its handler is at work. */
        void running(BooleanSupplier cutter) {
            this.cutter = cutter;
            waiting.add(this);
        }

        private boolean cut() {
            var c = cutter;
            if (c == null || !c.getAsBoolean()) {
                return false;
            }
            if (holds.compareAndSet(SERVED, ENDING)) {
                served.release(); // the newcomer's; the ending slot taken for it is this one's now
            } else {
                ending.release(); // it ended meanwhile: its own slot is free already
            }
            return true;
        }

        /** The request ended (or never started): its slot free. */
        void letGo() {
            waiting.remove(this);
            switch (holds.getAndSet(NONE)) {
                case SERVED -> served.release();
                case ENDING -> ending.release();
                default -> { }
            }
        }
    }
}
