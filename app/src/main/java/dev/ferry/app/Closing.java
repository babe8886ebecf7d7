package dev.ferry.app;

import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ShutdownReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes several things at once: sources each wait for a long poll still open (up to 5 s), so
 * closing them in turn would add those waits up. Whatever one throws (an Error too) is logged and
 * the others still close; a close that outlasts {@code bound} is left running, logged. Waited for
 * whether or not the caller is interrupted (the interrupt is kept for after).
 */
final class Closing {

    private static final Logger LOG = LoggerFactory.getLogger("ferry");

    private Closing() {
    }

    /**
     * Stops every listener at once, each reported to {@code stopped}: stopped in turn, the last would
     * go on taking messages while the first ones drain, and the stop would take the sum of their deadlines.
     */
    static boolean stopTogether(List<Listener> listeners, BiConsumer<Listener, ShutdownReport> stopped) {
        var bound = Duration.ZERO;
        for (var l : listeners) {
            var each = l.config().shutdownDeadline().plus(STOP_STEPS);
            bound = each.compareTo(bound) > 0 ? each : bound;
        }
        return inParallel(listeners.stream().map(l -> named("listener '" + l.name() + "'", () -> stopped.accept(l, l.stop())))
                .toList(), bound);
    }

    /** What is left of a budget that ends at {@code endNanos} ({@link System#nanoTime}): zero once it is spent. */
    static Duration left(long endNanos) {
        return Duration.ofNanos(Math.max(0, endNanos - System.nanoTime()));
    }

    /** {@code c}, said as {@code what} in the close's warnings (a lambda's or a wrapper's own name tells an operator nothing). */
    static AutoCloseable named(String what, AutoCloseable c) {
        return new Named(what, c);
    }

    private record Named(String what, AutoCloseable c) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            c.close();
        }

        @Override
        public String toString() {
            return what;
        }
    }

    /**
     * What a listener's stop may take past its deadline: its own bounded steps (the pollers' join, the settlements
     * under way, the settler's join and last flush, the completions still owed, the releases and notes) add up to 26 s
     * at the most. At 20 s the close went on under a stop still recording owed completions, and closed the ledger.
     */
    static final Duration STOP_STEPS = Duration.ofSeconds(30);

    /**
     * Closes {@code all} at once within {@code bound}; false when one of them was still closing at its end, or threw:
     * the ledger's close failing its last commit, a sink's its last flush, lose what they held as surely as a hang.
     */
    static boolean inParallel(List<? extends AutoCloseable> all, Duration bound) {
        var threads = new ArrayList<Thread>(all.size());
        var failed = new java.util.concurrent.atomic.AtomicBoolean();
        for (var c : all) {
            // platform threads: a close left behind blocked on a monitor (a write on a hung mount holding a sink's lock)
            // would pin a virtual thread's carrier on Java 21, and enough of them would keep every later close from running
            threads.add(Thread.ofPlatform().daemon().name("ferry-close").start(() -> {
                try {
                    c.close();
                } catch (Throwable e) {
                    failed.set(true);
                    LOG.warn("closing {} failed: {}", c, Thrown.describe(e)); // a plugin's that cannot print: said still
                }
            }));
        }
        long deadline = System.nanoTime() + bound.toNanos();
        boolean interrupted = false;
        boolean whole = true;
        for (int i = 0; i < threads.size(); i++) {
            while (true) {
                try {
                    long left = deadline - System.nanoTime();
                    // past the bound (waited out on an earlier one), only those still closing are: every later one was
                    // said "did not end", closed or not
                    if (left <= 0 ? threads.get(i).isAlive() : !threads.get(i).join(Duration.ofNanos(left))) {
                        // said aside, a moment at most: with the log's pipe blocked, the line held the close here for
                        // good — sources, sinks, the ledger and the admin server never closed, the process killed
                        var late = all.get(i);
                        StopSignals.aMoment(() -> LOG.warn("closing {} did not end within {}; going on", late, bound));
                        whole = false;
                    }
                    break;
                } catch (InterruptedException e) {
                    // waited out all the same, the interrupt kept for after: returning at once (and leaving it set for the
                    // next close's wait) let the ledger's close run on a daemon thread past the JVM's exit, its last
                    // commits lost — a stop signal during a close, or a close begun with the flag set, did it
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return whole && !failed.get(); // one still closing past the bound is not counted failed: it may yet end well
    }
}
