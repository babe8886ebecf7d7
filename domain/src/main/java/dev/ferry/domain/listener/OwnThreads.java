package dev.ferry.domain.listener;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A listener's threads: daemons named {@code ferry-<name>-<role>}, each marked as the listener's own,
 * so that a {@code stop()} asked on one of them (from a handler, an observer, the before-poll hook)
 * knows it cannot wait for its own shutdown, and a handler can find its listener's ledger scope. It keeps
 * the pollers, the settler and the lease keeper once started, for the health check and the stop.
 */
final class OwnThreads {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    /** The pollers (a dead one replaced in its place), the settler and the lease keeper, once started. */
    final List<Thread> pollers = new CopyOnWriteArrayList<>();
    volatile Thread settler, leases;

    /** The listener whose thread this is, if any. */
    private static final ThreadLocal<Listener> OWNER = new ThreadLocal<>();

    private final Listener owner;
    private final String name;
    private final AtomicInteger workerIds = new AtomicInteger();
    /**
     * The listener's own lines, said aside: its start's and its stop's too, whose callers (a runtime's start, its close)
     * a log that blocks must not hold. One for all, so that they are written in the order they were said.
     */
    final AsideLog aside = new AsideLog("ferry-threads-log");
    /** Dead pollers said, each to whether its replacement's failure was said too; the lease keeper's alone. */
    private final java.util.Map<Thread, Boolean> deadSaid = new java.util.HashMap<>();

    /** The handler threads: {@code concurrency} at most, idle ones ending after 30 s. */
    final WorkerPool workers;
    /** The one thread that times the waits in hand. */
    final java.util.concurrent.ScheduledThreadPoolExecutor holds;
    /** Records completions that wait on the ledger's I/O, one virtual thread each (bounded by the in-flight window). */
    final java.util.concurrent.ExecutorService completer;
    /** The threads a stop gives held deliveries back on, one each (a seam for tests: one that cannot start them). */
    java.util.concurrent.ThreadFactory giveBacks;

    OwnThreads(Listener owner, String name, int concurrency) {
        this.owner = owner;
        this.name = name;
        this.workers = new WorkerPool(name, concurrency, r -> unstarted("worker", r));
        this.holds = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> unstarted("holds", r));
        holds.setRemoveOnCancelPolicy(true);
        var completions = Thread.ofVirtual().name("ferry-" + name + "-complete-", 1).factory();
        this.completer = java.util.concurrent.Executors.newThreadPerTaskExecutor(r -> completions.newThread(owned(r)));
        this.giveBacks = Thread.ofVirtual().name("ferry-" + name + "-give-back").factory();
    }

    /** The listener whose thread this is, or null. */
    static Listener ownerHere() {
        return OWNER.get();
    }

    /** Whether the calling thread is one of this listener's. */
    boolean here() {
        return OWNER.get() == owner;
    }

    /**
     * On one of the listener's threads: waits while it runs, at most {@code timeout}, and returns empty — a stop
     * under way is not waited for (it waits for this very thread). It returned at once while running, and a handler's
     * "wait unless stopping" loop spun.
     */
    static java.util.Optional<ShutdownReport> whileRunning(BooleanSupplier running, java.time.Duration timeout)
            throws InterruptedException {
        long wait = dev.ferry.domain.model.Durations.nanos(timeout);
        long start = System.nanoTime();
        while (running.getAsBoolean() && System.nanoTime() - start < wait) {
            Thread.sleep(Math.max(1, Math.min(10, (wait - (System.nanoTime() - start)) / 1_000_000)));
        }
        return java.util.Optional.empty();
    }

    /** Runs {@code body} as one of this listener's threads (what it calls may stop the listener too). */
    <T> T asOwn(Supplier<T> body) {
        var previous = OWNER.get();
        OWNER.set(owner);
        try {
            return body.get();
        } finally {
            OWNER.set(previous);
        }
    }

    /** {@code body}, marking the thread that runs it as this listener's. */
    Runnable owned(Runnable body) {
        return () -> {
            OWNER.set(owner);
            body.run();
        };
    }

    /** A daemon thread of this listener, not started; workers are numbered. */
    Thread unstarted(String role, Runnable body) {
        var t = new Thread(owned(body), "ferry-" + name + "-" + role + (role.equals("worker") ? "-" + workerIds.incrementAndGet() : ""));
        t.setDaemon(true);
        return t;
    }

    /** The pollers, the settler and the lease keeper; null until all of them are started. */
    List<Thread> running() {
        var settling = settler;
        var leasing = leases;
        if (settling == null || leasing == null) {
            return null;
        }
        var all = new ArrayList<>(pollers);
        all.addAll(List.of(settling, leasing));
        return all;
    }

    /** A poller thread that died of something nothing caught is replaced, while {@code running} (run by the lease keeper). */
    void replaceDeadPollers(BooleanSupplier running, Runnable poll) {
        for (int i = 0; i < pollers.size() && running.getAsBoolean(); i++) {
            var t = pollers.get(i);
            if (!t.isAlive()) {
                // said once: with no thread to be had it stays in place, and it was said again every round (a second)
                if (deadSaid.putIfAbsent(t, false) == null) {
                    // aside: this is the lease keeper's thread, which a log that blocks must not hold
                    aside.write(() -> LOG.log(System.Logger.Level.ERROR, "poller thread {0} of ''{1}'' died; "
                            + "starting a new one", t.getName(), name));
                }
                try {
                    pollers.set(i, start("poller-" + (i + 1), poll));
                    deadSaid.remove(t);
                } catch (Throwable noThread) { // tried again next round; thrown out, it ended the lease keeper's round
                    // every round while threads stayed short: the handler-timeout check and the ledger probe never ran.
                    // Said once, with why: unsaid, the line above claimed a new one started, and none was
                    if (!deadSaid.put(t, true)) {
                        aside.write(() -> LOG.log(System.Logger.Level.WARNING, "no new poller thread could be "
                                + "started in place of " + t.getName() + " of '" + name + "'; tried again each round",
                                noThread));
                    }
                }
            }
        }
    }

    /** A daemon thread of this listener, started; the holds' thread before the listener's first. */
    Thread start(String role, Runnable body) {
        // not left to the first hold's schedule(), which queues the resume, then starts the thread: thrown there (no
        // thread to be had), the hold was taken for failed and held again, its resume queued twice — run twice at once
        holds.prestartCoreThread(); // does nothing once it runs: it ends only with the stop's shutdown
        var t = unstarted(role, body);
        t.start();
        return t;
    }
}
