package dev.ferry.domain.contract;

import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** The contracts' threads released at once and waited for within a bound. */
final class Concurrently {

    private Concurrently() {
    }

    /**
     * Runs {@code body} on {@code threads} threads released at once, and waits for all of them, at most
     * a minute each; the first failure is thrown (a thread still running past the wait fails the test).
     */
    static void together(int threads, LedgerContract.PerThread body) throws Exception {
        var start = new CountDownLatch(1);
        var pool = pool(threads);
        try {
            var runs = new ArrayList<Future<?>>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                runs.add(pool.submit(() -> {
                    start.await();
                    body.run(thread);
                    return null;
                }));
            }
            start.countDown();
            for (var run : runs) {
                run.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A pool of {@code threads} daemon threads: one still stuck in the code under test when its test gave up
     * neither hangs the suite's end nor keeps the JVM alive. Shut it down with {@code shutdownNow}, never
     * {@code close} (which waits for every task, without a bound).
     */
    static java.util.concurrent.ExecutorService pool(int threads) {
        return Executors.newFixedThreadPool(threads, Concurrently::daemon);
    }

    /** {@code body}'s answer, run on a daemon thread of its own; fails when it takes longer than {@code limit}. */
    static <T> T within(java.time.Duration limit, String what, java.util.concurrent.Callable<T> body) {
        var pool = pool(1);
        try {
            return pool.submit(body).get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError(what + " did not return within " + limit, e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(what + " was interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Pollers at once, as the engine runs them, until {@code expected} messages were handed out or 60 s passed; each
     * delivery recorded, then {@code onEach} (which settles it), in the thread that got it.
     */
    static java.util.List<dev.ferry.domain.model.Delivery> drainTogether(QueueFixture q, int pollers, int expected,
                                                java.util.function.Consumer<dev.ferry.domain.model.Delivery> onEach) throws Exception {
        var got = java.util.Collections.synchronizedList(new java.util.ArrayList<dev.ferry.domain.model.Delivery>());
        var counted = new java.util.concurrent.atomic.AtomicInteger();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Concurrently.together(pollers, thread -> {
            while (counted.get() < expected && System.nanoTime() < end) {
                for (var d : QueueContract.poll(q, new dev.ferry.domain.transport.PollRequest(10, java.time.Duration.ofMillis(500),
                        java.time.Duration.ofSeconds(60)))) {
                    got.add(d);
                    counted.incrementAndGet();
                    onEach.accept(d);
                }
            }
        });
        return java.util.List.copyOf(got);
    }

    private static Thread daemon(Runnable r) {
        var t = new Thread(r, "ferry-contract");
        t.setDaemon(true);
        return t;
    }
}
