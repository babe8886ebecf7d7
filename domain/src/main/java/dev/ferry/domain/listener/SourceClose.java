package dev.ferry.domain.listener;

import dev.ferry.domain.transport.Source;
import java.lang.System.Logger.Level;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The close of a source the listener owns, once. A second {@code close()} (a shutdown hook beside a
 * try-with-resources) returned while the first was still closing, and its caller went on to close the client under
 * it or end the JVM; it waits for the first now. An interrupt the caller carries (a Ctrl-C handler's) is put aside
 * while the source closes: seen there, it cut the source's own waits for its open polls and requests short.
 */
final class SourceClose {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    /** How long a second close waits for the first: a source's close bounds its own waits well within it. */
    private static final long WAIT_SECONDS = 60;

    private final String name;
    private final Source source;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    /** When the close began (nanoTime), 0 until then: every wait for it ends {@value #WAIT_SECONDS} s after, at most. */
    private volatile long startedAt;
    private final AtomicBoolean saidStillClosing = new AtomicBoolean();

    /** How long, from its start, the close is waited for at most: {@value #WAIT_SECONDS} s (a test's less). */
    private final java.time.Duration bound;
    /** Where {@link #closeWithin(java.time.Duration)} gets its thread. */
    private final java.util.concurrent.ThreadFactory threads;

    SourceClose(String name, Source source) {
        this(name, source, java.time.Duration.ofSeconds(WAIT_SECONDS));
    }

    SourceClose(String name, Source source, java.time.Duration bound) {
        this(name, source, bound, SpareThreads.named("ferry-" + name + "-source-close"));
    }

    SourceClose(String name, Source source, java.time.Duration bound, java.util.concurrent.ThreadFactory threads) {
        this.name = name;
        this.source = source;
        this.bound = bound;
        this.threads = threads;
    }

    void close() {
        boolean interrupted = Thread.interrupted();
        try {
            long now = System.nanoTime();
            if (!started.compareAndSet(false, true)) {
                awaitFirst();
                return;
            }
            startedAt = now | 1;
            try {
                source.close();
            } catch (Throwable e) { // an Error of a plugin's too: thrown on, it kept the stop's report from being published
                warn(e);
            } finally {
                done.countDown();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * {@link #close()} on a thread of its own, waited for {@code wait} at most: the close a stop makes before it publishes
     * its report (asked on the listener's own thread). A plugin source whose close hung held the report, and every other
     * {@code stop()} waiting for it — a shutdown hook's: the JVM never ended. Where no thread can be had it closes here
     * ({@link SpareThreads}): thrown, the stop published no report.
     */
    void closeWithin(java.time.Duration wait) {
        SpareThreads.start(threads, this::close);
        awaitFirst(wait);
    }

    /** {@link #closeWithin(java.time.Duration)} for as long as a second close waits for the first. */
    void closeWithinBound() {
        closeWithin(bound);
    }

    private void warn(Throwable e) {
        try {
            LOG.log(Level.WARNING, "closing the source of '" + name + "' failed", dev.ferry.domain.model.Thrown.loggable(e));
        } catch (Throwable unprintable) { // a logging backend that fails on it: the close is over all the same
            LOG.log(Level.WARNING, "closing the source of ''{0}'' failed: {1}", name, dev.ferry.domain.model.Thrown.describe(e));
        }
    }

    private void awaitFirst() {
        awaitFirst(bound);
    }

    /**
     * Waits for the close under way, {@code wait} at most, and never past {@value #WAIT_SECONDS} s from its start: a
     * close that hung held a listener's {@code close()} three times over (before the report, after it, and its own).
     */
    private void awaitFirst(java.time.Duration wait) {
        long until = System.nanoTime() + dev.ferry.domain.model.Durations.nanos(wait);
        long began = startedAt;
        long boundNanos = dev.ferry.domain.model.Durations.nanos(bound);
        if (began != 0 && began + boundNanos - until < 0) {
            until = began + boundNanos;
        }
        boolean interrupted = false;
        while (true) {
            try {
                if (!done.await(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS)
                        && saidStillClosing.compareAndSet(false, true)) {
                    long since = startedAt == 0 ? 0 : System.nanoTime() - startedAt;
                    LOG.log(Level.WARNING, "the source of ''{0}'' is still closing {1} after its close began; not waited "
                            + "for longer", name, dev.ferry.domain.model.Durations.text(java.time.Duration.ofNanos(since)));
                }
                break;
            } catch (InterruptedException e) {
                interrupted = true; // kept for the end: the close is waited for all the same
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
