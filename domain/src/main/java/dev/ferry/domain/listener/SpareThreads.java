package dev.ferry.domain.listener;

import java.util.concurrent.ThreadFactory;

/**
 * A short task on a thread of its own, or on the caller's when no thread can be had (a process at its native-thread
 * limit, often the moment it is stopped). Thrown instead, a stop published no report — every later {@code stop()}
 * waited for ever — and a call past its timeout was never interrupted.
 */
final class SpareThreads {

    /** A thread never started: joined, it returns at once. */
    static final Thread DONE = Thread.ofPlatform().unstarted(() -> { });

    private SpareThreads() {
    }

    /** A daemon platform thread named {@code name}, for {@link #start(ThreadFactory, Runnable)}. */
    static ThreadFactory named(String name) {
        return Thread.ofPlatform().daemon().name(name).factory();
    }

    /**
     * Starts {@code task} on a thread from {@code threads} and returns it; when none can be had (the factory throws,
     * an {@code OutOfMemoryError} too, or gives none), runs {@code task} here and returns {@link #DONE}.
     */
    static Thread start(ThreadFactory threads, Runnable task) {
        try {
            Thread thread = threads.newThread(task);
            if (thread != null) {
                thread.start();
                return thread;
            }
        } catch (Throwable noThread) { // none to be had: run here
        }
        task.run();
        return DONE;
    }
}
