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
        var pool = Executors.newFixedThreadPool(threads);
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
}
