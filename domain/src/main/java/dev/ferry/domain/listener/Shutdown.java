package dev.ferry.domain.listener;

import dev.ferry.domain.ordering.OrderingGroups;
import dev.ferry.domain.transport.Disposition;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A listener's stop, in order: pollers stopped; deliveries waiting for their turn or held in hand
 * released at once; running handlers given until the deadline; the rest released; settlements
 * flushed; threads ended. Runs once, on the thread that called stop.
 */
final class Shutdown {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final String name;
    private final dev.ferry.domain.transport.Source source;
    private final ListenerConfig config;
    private final Hands hands;
    private final OrderingGroups<InFlight> groups;
    private final Settler settler;
    private final Processor processor;
    private final Counters counters;
    private final Supplier<ListenerStats> stats;
    /** The listener's threads: a give-back's is the listener's own (what it calls may stop the listener too). */
    private final OwnThreads threads;

    Shutdown(String name, dev.ferry.domain.transport.Source source, ListenerConfig config, Hands hands,
             OrderingGroups<InFlight> groups, Settler settler, Processor processor, Counters counters,
             Supplier<ListenerStats> stats, OwnThreads threads) {
        this.threads = threads;
        this.name = name;
        this.source = source;
        this.config = config;
        this.hands = hands;
        this.groups = groups;
        this.settler = settler;
        this.processor = processor;
        this.counters = counters;
        this.stats = stats;
    }

    /**
     * Tells the source the listener is stopping (see {@link dev.ferry.domain.transport.Source#stopping}), once no poller
     * polls it; what it throws is logged, not obeyed. On a thread of its own, waited for a while at most: one that
     * blocked held the stop for good ({@link SourceStopping}).
     */
    private void tellStopping() {
        new SourceStopping(name, source).tell();
    }

    /** How long, past the deadline, a settlement already under way is waited for before the last flush. */
    private static final long SETTLING_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * The counts the report starts from, taken before the listener stops running. Settled counts a kept delivery
     * (skip-delete) once, when its handler settles it: what the transport was told, as {@code finished} counts.
     */
    record Before(long settled, long sent) {
        static Before of(ListenerStats stats, long sent) {
            return new Before(stats.settled(), sent);
        }
    }

    /**
     * Stops the listener. An interrupt of this thread while it runs (its caller's, or one a plugin it calls leaves set)
     * is kept for the end, not obeyed: obeyed, it ended every wait at once — running handlers released and interrupted
     * with most of their deadline left, their half-done effects run again.
     */
    ShutdownReport run(String reason, Before before, List<Thread> pollers, Runnable markStopped, Thread settlerThread,
                       Thread leaseThread, ExecutorService holds, ExecutorService workers, ExecutorService completer) {
        try {
            return stop(reason, before, pollers, markStopped, settlerThread, leaseThread, holds, workers, completer);
        } finally {
            if (interrupted) {
                KEPT.set(Boolean.TRUE); // given back by the listener once the source is closed too (see keptInterrupt)
            }
        }
    }

    /** An interrupt a stop kept on this thread, to be given back when the listener's whole stop is done. */
    private static final ThreadLocal<Boolean> KEPT = new ThreadLocal<>();

    /**
     * Whether a stop on this thread kept an interrupt (and forgets it): given back at once, the source's close that
     * follows returned at once too, its wait for open receives and acks skipped.
     */
    static boolean keptInterrupt() {
        boolean kept = KEPT.get() != null;
        KEPT.remove();
        return kept;
    }

    /** An interrupt met during the stop, given back at its end. Only the stopping thread reads and writes it. */
    private boolean interrupted;

    /** Clears the interrupt flag, keeping it for the end: what follows waits. */
    private void keepInterrupt() {
        interrupted |= Thread.interrupted();
    }

    private ShutdownReport stop(String reason, Before before, List<Thread> pollers, Runnable markStopped,
                                Thread settlerThread, Thread leaseThread, ExecutorService holds, ExecutorService workers,
                                ExecutorService completer) {
        long begin = System.nanoTime();
        long settledBefore = before.settled();
        long sentBefore = before.sent();
        Interrupts.send("ferry-" + name + "-stop-pollers", () -> pollers.forEach(Thread::interrupt));
        join(pollers, Duration.ofSeconds(5));
        tellStopping(); // an endpoint that takes work in refuses it now: nothing polls for it any more
        keepInterrupt();

        long releasedWaiting = 0;
        for (var item : groups.drainWaiting()) {
            // one held and resumed, waiting for a worker, may owe its completion: given back below, which records it
            if (!item.settled.get() && !item.held) {
                settler.settle(item, Disposition.RELEASE);
                releasedWaiting++;
            }
        }
        // a deadline of centuries ("wait for them all") stays a number: nanoseconds overflow past ~292 years
        long deadline = begin + Math.min(config.shutdownDeadline().toSeconds(), TimeUnit.DAYS.toSeconds(36_500)) * 1_000_000_000L
                + config.shutdownDeadline().toNanosPart();
        // deliveries kept by their handlers (skip-delete) are waited for too, their leases extended meanwhile: left at
        // once, they ran out within a lease and the next instance ran them again beside the handler's late settle
        do {
            giveBackHeld();
        } while ((!hands.isEmpty() || !hands.handedOver().isEmpty() || hands.handlerSettling.get() > 0) // in this order
                && System.nanoTime() - deadline < 0 && sleepMillis(5));
        // a give-back frees its slot before it counts itself: the counts of those that ended are waited for
        long countedBy = System.nanoTime() + SETTLING_WAIT_NANOS;
        while (givingBackNow.get() > 0 && hands.isEmpty() && System.nanoTime() - countedBy < 0 && sleepMillis(1)) {
            continue;
        }
        releasedWaiting += givenBack.get();
        long releasedRunning = 0;
        var ackedUnrecorded = new java.util.ArrayList<InFlight.HeldClaim>();
        for (var item : List.copyOf(hands.inFlight())) {
            if (!item.settled.get()) {
                // one whose effect happened and whose completion is still being recorded is acknowledged:
                // put back, it would run again. Its completion is owed too: the call under way may fail after this
                boolean effectDone = item.effectDone();
                settler.settle(item, effectDone ? Disposition.ACK : Disposition.RELEASE, !effectDone);
                // read after it is marked settled, as its worker sets it before it looks (Processor.hold): a completion
                // that failed as the stop came is owed by one or the other — of an event before the last too, whose
                // delivery goes back (owed by neither, its copy ran the effect again); twice is harmless
                var completing = item.toComplete;
                if (completing != null) {
                    ackedUnrecorded.add(completing);
                }
                releasedRunning += effectDone || item.settledEarly.get() != null ? 0 : 1; // its handler's settlement stood
            }
        }
        // what is still in hand is being settled by another thread (a handler that just ended, an observer
        // it calls): its settlement is queued in moments, and must be before the last flush
        long settledBy = System.nanoTime() + SETTLING_WAIT_NANOS;
        while (!hands.isEmpty() && System.nanoTime() - settledBy < 0 && sleepMillis(1)) {
            continue;
        }
        // finished is what the transport was told: a kept delivery (skip-delete) is settled once its handler settles
        // it, not at its hand-over — so one kept past the deadline is not finished (counted, the stop read "clean")
        var after = stats.get();
        long finished = after.settled() - settledBefore - releasedWaiting - releasedRunning;
        markStopped.run();
        // Not interrupted: an interrupt could break a settlement call half-way. It exits when idle.
        settler.wake();
        join(List.of(settlerThread), Duration.ofSeconds(5));
        settler.close();
        // from threads of their own, a while at most: a worker in a file's write to a disk that hangs held the stop; one
        // each, the workers' too (WorkerPool): sent in turn, that worker held every interrupt after its own
        long returnedBy = System.nanoTime() + RETURN_WAIT.toNanos();
        join(List.of(Interrupts.send("ferry-" + name + "-stop-lease", leaseThread::interrupt),
                Interrupts.send("ferry-" + name + "-stop-holds", holds::shutdownNow),
                Interrupts.send("ferry-" + name + "-stop-workers", workers::shutdownNow),
                Interrupts.send("ferry-" + name + "-stop-completer", completer::shutdownNow)), RETURN_WAIT);
        awaitReturn(workers, returnedBy); // the same second as the join: a handler deaf to it holds the stop that long
        keepInterrupt();
        processor.settleOwed(OWED_WAIT, ackedUnrecorded); // their timers went with the scheduler
        keepInterrupt();
        hands.awaitReleases(Duration.ofSeconds(2));
        keepInterrupt();
        processor.notes().close(Duration.ofSeconds(2));
        // kept past the deadline is the report's own stats' count (InFlight.keptOf: counted apart, the report said 0
        // kept beside its stats' keptByHandler=1), read once its workers returned: read with finished, a handler let go
        // of among its events (Hands.settlingOurs) that returned Done to the interrupt kept that event after it — its
        // claim held and no longer extended, the log said "0 kept by their handler past it". One kept at the first read
        // and settled by its handler before this one is counted too (the larger of the two): taken from this read
        // alone, it was in neither count, and the stop read "clean". Both at once (one settled, another kept since)
        // count once: the stats hold both
        var last = stats.get();
        long keptPastDeadline = Math.max(after.keptByHandler(), last.keptByHandler());
        var r = new ShutdownReport(reason, finished, releasedWaiting, releasedRunning,
                counters.settlementsSent.sum() - sentBefore, Duration.ofNanos(System.nanoTime() - begin), last,
                keptPastDeadline);
        // aside, after the start's line: said on the thread that stops it (ferry run's close), a log whose pipe is blocked
        // held the report for good — the close waited out its bound (the deadline + 30 s, past a container's grace) and
        // exited 1, when not killed first, its sources, sinks and ledger unclosed. A log that throws no longer fails it
        threads.aside.write(() -> LOG.log(Level.INFO, "listener ''{0}'' stopped ({1}) in {2} ms: {3} finished, {4} released "
                        + "unstarted, {5} released past the deadline, {7} kept by their handler past it (their leases no "
                        + "longer extended: settle or let go of them before stopping); {6}", name, r.reason(),
                r.took().toMillis(), r.finished(), r.releasedWaiting(), r.releasedRunning(), r.stats().line(),
                r.keptPastDeadline()));
        return r;
    }

    /** How long the stop waits for the completions still owed to be recorded, all at once. */
    static final Duration OWED_WAIT = Duration.ofSeconds(5);

    /**
     * How long the stop waits, once the deadline passed, for its interrupts to be sent and the handlers they reach to
     * return, all at once: what a worker does as its handler returns (a Done kept, skip-delete) is in the report.
     */
    private static final Duration RETURN_WAIT = Duration.ofSeconds(1);

    /**
     * Waits, until {@code by} (nanoTime) at most, for the workers to end what they ran; an interrupt kept for the end.
     * The stop never runs on a worker (a stop asked on one runs on a thread of its own), so it never waits for itself.
     */
    private void awaitReturn(ExecutorService workers, long by) {
        while (!workers.isTerminated() && by - System.nanoTime() > 0) {
            try {
                workers.awaitTermination(Math.max(1, by - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    /** Held deliveries being given back, each once. */
    private final java.util.Set<InFlight> givingBack = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** How many of them were released (an acked one, its effect done, counts as finished). */
    private final java.util.concurrent.atomic.AtomicLong givenBack = new java.util.concurrent.atomic.AtomicLong();
    /** Give-backs under way (started, not yet counted). */
    private final java.util.concurrent.atomic.AtomicInteger givingBackNow = new java.util.concurrent.atomic.AtomicInteger();
    /** Whether a give-back found no thread to be had (said once). Only the stopping thread reads and writes it. */
    private boolean noGiveBackThreadSaid;

    /**
     * Gives back every delivery held in hand to be tried later: at shutdown it goes back now. Each on
     * a thread of its own: one held for its completion has it recorded first, and a ledger that
     * hangs must hold neither the stop (bounded by its deadline, then such a delivery is acked
     * without it) nor the others.
     */
    private void giveBackHeld() {
        for (var item : List.copyOf(hands.inFlight())) {
            if (item.held && !item.settled.get() && givingBack.add(item)) {
                givingBackNow.incrementAndGet();
                // one of the two, once: a start that throws may have handed the thread to a carrier already
                var once = new java.util.concurrent.atomic.AtomicBoolean();
                try {
                    // the listener's own: an observer it calls may stop the listener, and must not wait for this stop
                    threads.giveBacks.newThread(threads.owned(() -> {
                        if (once.compareAndSet(false, true)) {
                            giveBack(item);
                        }
                    })).start();
                } catch (Throwable noThread) { // (OutOfMemoryError) thrown on, the stop failed half-way: the delivery
                    // neither acked nor released, its completion neither recorded nor owed. Undone, the next pass
                    // tries again, and the deadline's last pass settles it (acked and its completion owed, if done)
                    if (once.compareAndSet(false, true)) {
                        givingBack.remove(item);
                        givingBackNow.decrementAndGet();
                    }
                    sayNoThread(item, noThread);
                }
            }
        }
    }

    /** Gives back one held delivery, on its own thread. */
    private void giveBack(InFlight item) {
        try {
            if (!item.held || item.settled.get()) {
                givingBack.remove(item); // resumed (or settled) meanwhile: the next pass looks again
            } else if (processor.giveBack(item)) {
                givenBack.incrementAndGet();
            }
        } catch (Throwable e) { // the stop's last pass settles it
            LOG.log(Level.WARNING, "giving back message " + item.delivery.id() + " of '" + name + "' failed", e);
        } finally {
            givingBackNow.decrementAndGet();
        }
    }

    /** Says, once a stop, that a held delivery could not be given back on a thread of its own. */
    private void sayNoThread(InFlight item, Throwable noThread) {
        if (noGiveBackThreadSaid) {
            return;
        }
        noGiveBackThreadSaid = true;
        try { // a log that throws must not fail the stop: its last pass is what settles these
            LOG.log(Level.WARNING, "no thread to be had to give back message " + item.delivery.id() + " of '"
                    + name + "' (said once a stop): tried again until the deadline, then acknowledged, its "
                    + "completion owed, if its effect happened, else released", noThread);
        } catch (Throwable logFailing) {
        }
    }

    /**
     * After a shutdown that threw: stopped all the same — the settler flushes from its callers from now
     * on, the executors end, the journal's notes close — and a report that says so.
     */
    static ShutdownReport failed(String name, String reason, Throwable e, Settler settler, JournalNotes notes,
                                 ListenerStats stats, java.util.concurrent.ExecutorService... executors) {
        String failure = JournalNotes.describe(e); // what cannot be printed must not stop this stop
        try {
            LOG.log(System.Logger.Level.ERROR, "the shutdown of '" + name + "' failed", e);
        } catch (Throwable unprintable) {
            try {
                LOG.log(System.Logger.Level.ERROR, "the shutdown of ''{0}'' failed: {1}", name, failure);
            } catch (Throwable logFailing) { // a log that throws on every line must not stop the stop: thrown on, the
                // report was never published and every later stop() waited for it for ever
            }
        }
        try {
            settler.close();
        } catch (Throwable closing) { // a log that throws on every line: thrown on, the executors below were never
            // ended — handlers past the deadline never interrupted, the holds' and workers' threads left running
        }
        joinQuietly(List.of(Interrupts.send("ferry-" + name + "-stop-workers", () -> {
            for (var executor : executors) {
                executor.shutdownNow();
            }
        })), Duration.ofSeconds(1));
        try { // left open, its writer polled for the JVM's life (one a failed stop), and owed dead-letter marks kept
            notes.close(Duration.ofSeconds(2)); // missed their last try
        } catch (Throwable closing) {
        }
        return new ShutdownReport(reason + " (the shutdown failed: " + failure + ")", 0, 0, 0, 0, Duration.ZERO, stats,
                0, true);
    }

    /**
     * The report of a stop that threw past {@link #failed} too: published all the same, so that no later stop() waits
     * for it for ever; what the stop did is not known.
     */
    static ShutdownReport unreported(String reason, ListenerStats stats) {
        return new ShutdownReport(reason + " (the shutdown failed)", 0, 0, 0, 0, Duration.ZERO, stats, 0, true);
    }

    static void joinQuietly(List<Thread> threads, Duration timeout) {
        long deadline = System.nanoTime() + dev.ferry.domain.model.Durations.nanos(timeout);
        for (var t : threads) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Joins {@code threads} within {@code timeout}, an interrupt kept for the end. */
    private void join(List<Thread> threads, Duration timeout) {
        long deadline = System.nanoTime() + dev.ferry.domain.model.Durations.nanos(timeout);
        for (var t : threads) {
            while (t.isAlive() && deadline - System.nanoTime() > 0) {
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
    }

    /** Sleeps; true, an interrupt kept for the end (the loops it paces are bounded by their own deadlines). */
    private boolean sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        return true;
    }
}
