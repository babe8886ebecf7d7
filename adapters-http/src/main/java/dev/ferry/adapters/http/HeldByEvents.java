package dev.ferry.adapters.http;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The bodies' bytes held by events not yet settled, each request's given back once: when its events are settled, or
 * at the source's close ({@link #giveBackAll}), whichever comes first. Thread-safe.
 */
final class HeldByEvents {

    private final Set<Runnable> holds;

    HeldByEvents() {
        this(ConcurrentHashMap.newKeySet());
    }

    /** Kept in {@code holds} (a test's: one whose add throws). */
    HeldByEvents(Set<Runnable> holds) {
        this.holds = holds;
    }

    /**
     * The request's events hold {@code held} until they are settled, answered or not; called before any is queued.
     * What throws here (an OutOfMemoryError at one of its small allocations, a large batch under heap pressure) holds
     * nothing: the bytes were held for good, lost to every HTTP source of the process until a restart.
     */
    void hold(IngestRequest request, Uploads.Held held) {
        held.retain();
        Hold hold = null;
        try {
            hold = new Hold(held);
            holds.add(hold); // a map's node, and its table when it grows: it may be in even when this throws
            request.whenSettled(hold);
        } catch (RuntimeException | Error e) {
            if (hold == null) {
                held.release();
            } else {
                hold.run(); // once, even if the close got to it first
            }
            throw e;
        }
    }

    /** At the source's close: the bytes of events handed out and never settled given back. */
    void giveBackAll() {
        holds.forEach(Runnable::run);
    }

    /** One request's events' hold on its body's bytes: let go of once, whoever gets to it first. */
    private final class Hold implements Runnable {
        private final Uploads.Held held;
        private final AtomicBoolean done = new AtomicBoolean();

        Hold(Uploads.Held held) {
            this.held = held;
        }

        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                held.release(); // first: should the remove throw, the bytes are back all the same
            }
            holds.remove(this);
        }
    }
}
