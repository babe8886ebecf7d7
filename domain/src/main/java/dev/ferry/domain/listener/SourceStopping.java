package dev.ferry.domain.listener;

import dev.ferry.domain.transport.Source;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Tells a source the listener is stopping ({@link Source#stopping}), on a thread of its own, waited for a while at
 * most. Its contract says it must not block, but a push source's that drains (a gRPC server's shutdown, then its
 * awaitTermination) held the stop for good on the stopping thread: no deadline started, running handlers never
 * released, {@code stop()} and {@code awaitStop} never returning. Its close is bounded the same way
 * ({@link SourceClose#closeWithin}).
 */
final class SourceStopping {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    /** How long the stop waits for {@code stopping()} to return: a source's own is a flag set, and returns at once. */
    static final Duration WAIT = Duration.ofSeconds(5);
    private static final String FAILED = "source of ''{0}'' failed when told the listener is stopping: {1}";

    private final String name;
    private final Source source;
    private final Duration patience;
    private final ThreadFactory threads;

    SourceStopping(String name, Source source) {
        this(name, source, WAIT, SpareThreads.named("ferry-" + name + "-source-stopping"));
    }

    SourceStopping(String name, Source source, Duration patience, ThreadFactory threads) {
        this.name = name;
        this.source = source;
        this.patience = patience;
        this.threads = threads;
    }

    /**
     * Tells the source, and waits for it {@code patience} at most; what it throws is logged, not obeyed. An interrupt
     * met while waiting is set again at the end (the stop keeps it), the wait gone on.
     */
    void tell() {
        var done = new CountDownLatch(1);
        var thrown = new AtomicReference<Throwable>();
        var over = new AtomicBoolean(); // the wait is over: what the source throws from now on, its thread says
        // one of the two, once: a start that throws may have handed the thread to a carrier already
        var once = new AtomicBoolean();
        try {
            threads.newThread(() -> {
                if (once.compareAndSet(false, true)) {
                    try {
                        source.stopping();
                    } catch (Throwable e) { // an Error of a plugin's too
                        thrown.set(e);
                        if (over.get()) {
                            sayFailed(thrown.getAndSet(null));
                        }
                    } finally {
                        done.countDown();
                    }
                }
            }).start();
        } catch (Throwable noThread) { // (OutOfMemoryError) none to be had: not told. Not told here instead: one that
            // blocks would hold the stop for good; its close refuses the work all the same
            if (once.compareAndSet(false, true)) {
                say("no thread to be had to tell the source of ''{0}'' the listener is stopping ({1}): not told, "
                        + "the stop goes on", dev.ferry.domain.model.Thrown.describe(noThread));
                return;
            }
        }
        boolean returned = awaitDone(done);
        over.set(true);
        if (!returned) {
            say("the source of ''{0}'' has not returned from stopping() within {1}; not waited for longer: the stop "
                    + "goes on", dev.ferry.domain.model.Durations.text(patience));
        }
        var failure = thrown.getAndSet(null);
        if (failure != null) { // said on the stopping thread, as when the source was told on it: a log that throws
            // on it fails the stop as then, reported failed
            LOG.log(Level.WARNING, FAILED, name, dev.ferry.domain.model.Thrown.describe(failure));
        }
    }

    /** What the source threw once the stop had stopped waiting for it. */
    private void sayFailed(Throwable e) {
        if (e != null) {
            say(FAILED, dev.ferry.domain.model.Thrown.describe(e));
        }
    }

    /** Whether {@code done} came within {@code patience}; an interrupt meanwhile is kept, set again at the end. */
    private boolean awaitDone(CountDownLatch done) {
        long until = System.nanoTime() + dev.ferry.domain.model.Durations.nanos(patience);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return done.await(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A warning about the source; {@code name} is parameter 0. A log that throws must not fail the stop. */
    private void say(String message, Object detail) {
        try {
            LOG.log(Level.WARNING, message, name, detail);
        } catch (Throwable logFailing) {
        }
    }
}
