package dev.ferry.domain.listener;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import java.lang.System.Logger.Level;

/** The user's observer, with whatever it throws (an {@code Error} too) caught: metrics never stop the engine. */
final class GuardedObserver implements ListenerObserver {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final ListenerObserver observer;
    private final boolean none;

    GuardedObserver(ListenerObserver observer) {
        this.observer = observer;
        this.none = observer == ListenerObserver.NONE;
    }

    @Override
    public void received(Delivery delivery) {
        if (!none) {
            guard(() -> observer.received(delivery));
        }
    }

    @Override
    public void handled(Event event, Outcome outcome, long nanos) {
        if (!none) {
            guard(() -> observer.handled(event, outcome, nanos));
        }
    }

    @Override
    public void settled(Delivery delivery, Disposition disposition) {
        if (!none) {
            guard(() -> observer.settled(delivery, disposition));
        }
    }

    @Override
    public void leasesExtended(int count) {
        if (!none) {
            guard(() -> observer.leasesExtended(count));
        }
    }

    @Override
    public void stopped(ShutdownReport report) {
        if (!none) {
            guard(() -> observer.stopped(report));
        }
    }

    private static void guard(Runnable call) {
        try {
            call.run();
        } catch (Throwable e) {
            try {
                LOG.log(Level.DEBUG, "listener observer threw; ignored", e);
            } catch (Throwable unprintable) { // a logger reading a message that throws (or no memory): ignored all the same
            }
        }
    }
}
