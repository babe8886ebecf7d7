package dev.ferry.app;

import dev.ferry.app.logging.LogContext;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.listener.ShutdownReport;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log lines {@code ferry run} writes about what its listeners do: one per dead letter (with the
 * message's context) and one per rejection — the first {@value #BURST} of each kind per source in 10 s,
 * the rest counted and said in one line (a poison storm of a million messages wrote two million lines,
 * a disk or a log bill filled; the dead-letter queue and {@code ferry events} keep every one) — and
 * throttling or retries at most once per 10 s per source.
 */
final class RunLogLines {

    private static final Logger LOG = LoggerFactory.getLogger("ferry");
    private static final long QUIET_NANOS = 10_000_000_000L;
    /** Per-message lines of one kind and source written whole in {@link #QUIET_NANOS}; the rest are counted. */
    static final int BURST = 20;

    private final ConcurrentHashMap<String, AtomicLong> lastLine = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Burst> bursts = new ConcurrentHashMap<>();

    /**
     * One kind of per-message line of one source: how many went out in the current 10 s, and how many
     * were left out since the last line that said so.
     */
    private static final class Burst {
        private final String what;
        private long windowStart;
        private int written;
        private long leftOut;

        Burst(String what, long now) {
            this.what = what;
            this.windowStart = now;
        }

        /** Whether this line goes out whole; a new window first says what the last one left out. */
        synchronized boolean take(long now) {
            if (now - windowStart >= QUIET_NANOS) {
                sayLeftOut();
                windowStart = now;
                written = 0;
            }
            if (written < BURST) {
                written++;
                return true;
            }
            leftOut++;
            return false;
        }

        synchronized void sayLeftOut() {
            if (leftOut > 0) {
                LOG.warn("{} more {} not logged one by one (at most {} such lines in 10s; the dead-letter queue and "
                        + "`ferry events` keep each)", leftOut, what, BURST);
                leftOut = 0;
            }
        }
    }

    /** Whether a per-message line of {@code kind} goes out whole now. */
    private boolean burst(String source, String kind) {
        long now = System.nanoTime();
        return bursts.computeIfAbsent(source + "/" + kind, k -> new Burst(kind + " from '" + source + "'", now)).take(now);
    }

    /** Says how many per-message lines were left out and not said yet: with each stats line, and at the stop. */
    void flush() {
        bursts.values().forEach(Burst::sayLeftOut);
    }

    /** Both observers, every callback; one that throws does not keep the other from being told. */
    static ListenerObserver both(ListenerObserver a, ListenerObserver b) {
        return new ListenerObserver() {
            @Override
            public void received(Delivery delivery) {
                each(o -> o.received(delivery));
            }

            @Override
            public void handled(Event event, Outcome outcome, long nanos) {
                each(o -> o.handled(event, outcome, nanos));
            }

            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                each(o -> o.settled(delivery, disposition));
            }

            @Override
            public void leasesExtended(int count) {
                each(o -> o.leasesExtended(count));
            }

            @Override
            public void stopped(ShutdownReport report) {
                each(o -> o.stopped(report));
            }

            private void each(java.util.function.Consumer<ListenerObserver> call) {
                for (var o : new ListenerObserver[] {a, b}) {
                    try {
                        call.accept(o);
                    } catch (Throwable e) { // an Error too: the other observer (metrics, dead-letter samples) is still told
                        LOG.debug("a listener observer threw; ignored", e);
                    }
                }
            }
        };
    }

    /** Dead letters, every one; throttling and failures at most once per 10 s per source and kind. */
    ListenerObserver forSource(String source) {
        return new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                if (disposition instanceof Disposition.DeadLetter dl && burst(source, "dead letters")) {
                    // the one line per dead letter (the domain's own is off in the app), with the message's context
                    LogContext.set(delivery, null);
                    LogContext.put(LogContext.SOURCE, source); // the file's name: a plugin's source gives its own
                    try {
                        LOG.warn("dead-lettered message {} from '{}': {}", LogContext.cut(delivery.id()), source,
                                LogContext.cut(dl.reason()));
                    } finally {
                        LogContext.clear();
                    }
                }
            }

            @Override
            public void handled(Event event, Outcome outcome, long nanos) {
                if (outcome instanceof Outcome.Done || outcome instanceof Outcome.Reject && !burst(source, "rejections")) {
                    return; // the burst's count is said before this event's context is set: it is not this event's line
                }
                LogContext.put(LogContext.SOURCE, source);
                LogContext.put(LogContext.EVENT_KEY, event.key());
                LogContext.put(LogContext.GROUP, event.groupKey());
                String key = LogContext.cut(event.key());
                try {
                    switch (outcome) {
                        case Outcome.Throttled t -> seldom(source + "/throttled", "'" + source + "' is throttled by a sink: "
                                + "event " + key + " back in " + Durations.text(t.retryAfter()) + ", polling slows down");
                        case Outcome.Retry r -> seldom(source + "/retry", "event " + key + " from '" + source
                                + "' failed (tried again, or dead-lettered once out of attempts): " + LogContext.cut(r.reason()));
                        case Outcome.Reject r -> LOG.warn("event {} from '{}' rejected: {}", key, source, LogContext.cut(r.reason()));
                        case Outcome.Done d -> {
                        }
                    }
                } finally {
                    LogContext.clear();
                }
            }

            @Override
            public void stopped(ShutdownReport report) {
                flush();
            }
        };
    }

    private void seldom(String kind, String text) {
        long now = System.nanoTime();
        var last = lastLine.computeIfAbsent(kind, k -> new AtomicLong(now - QUIET_NANOS));
        long previous = last.get();
        if (now - previous >= QUIET_NANOS && last.compareAndSet(previous, now)) {
            LOG.warn("{} (further such lines within 10s are left out; see the stats line)", text);
        }
    }
}
