package dev.ferry.domain.listener;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The handler threads, whose {@link #shutdownNow()} interrupts each running one from a thread of its own. The pool's
 * own interrupted them one after another on the stopping thread, under the pool's lock: one handler in a file's write
 * to a disk that hangs closed its channel there and held it — no later handler was interrupted (an HTTP call, a sleep,
 * their deliveries put back and handed out again ran on beside their copies), and every worker that finished waited
 * for the lock for ever.
 */
final class WorkerPool extends ThreadPoolExecutor {

    private final String name;
    /** The threads running a task now. */
    private final Set<Thread> running = ConcurrentHashMap.newKeySet();

    /** {@code threads} at most, idle ones ending after 30 s. */
    WorkerPool(String name, int threads, ThreadFactory factory) {
        super(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory);
        this.name = name;
        allowCoreThreadTimeOut(true);
    }

    @Override
    protected void beforeExecute(Thread t, Runnable r) {
        running.add(t);
    }

    @Override
    protected void afterExecute(Runnable r, Throwable t) {
        running.remove(Thread.currentThread());
    }

    /**
     * Takes no more tasks, drops those not started and returns them, and interrupts each running thread from a thread
     * of its own ({@link Interrupts}); returns without waiting for any interrupt.
     */
    @Override
    public List<Runnable> shutdownNow() {
        shutdown(); // interrupts idle threads only: those waiting for a task, in no I/O
        var dropped = new ArrayList<Runnable>();
        getQueue().drainTo(dropped);
        for (var thread : List.copyOf(running)) {
            Interrupts.send("ferry-" + name + "-stop-worker", thread::interrupt);
        }
        return dropped;
    }
}
