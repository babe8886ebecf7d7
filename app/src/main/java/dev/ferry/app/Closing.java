package dev.ferry.app;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes several things at once: sources each wait for a long poll still open (up to 5 s), so
 * closing them in turn would add those waits up. Whatever one throws (an Error too) is logged and
 * the others still close; a close that outlasts {@code bound} is left running, logged.
 */
final class Closing {

    private static final Logger LOG = LoggerFactory.getLogger("ferry");

    private Closing() {
    }

    static void inParallel(List<? extends AutoCloseable> all, Duration bound) {
        var threads = new ArrayList<Thread>(all.size());
        for (var c : all) {
            threads.add(Thread.ofVirtual().name("ferry-close").start(() -> {
                try {
                    c.close();
                } catch (Throwable e) {
                    LOG.warn("closing {} failed: {}", c, String.valueOf(e));
                }
            }));
        }
        long deadline = System.nanoTime() + bound.toNanos();
        for (int i = 0; i < threads.size(); i++) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !threads.get(i).join(Duration.ofNanos(left))) {
                    LOG.warn("closing {} did not end within {}; going on", all.get(i), bound);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
