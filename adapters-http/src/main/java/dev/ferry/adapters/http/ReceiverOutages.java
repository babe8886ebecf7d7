package dev.ferry.adapters.http;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Outage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * An {@link HttpSink}'s outages, each timed at its receiver: the url filled in but for the event's own key
 * ({@link UrlTemplate#receiver}). The domain's {@link Outage} keeps one run of failures for the whole sink, which only
 * a success ends — right for one endpoint; but with a url of {@code /partners/{attr.partner}}, partner a down for hours
 * and b quiet, b's first failure was {@code Retry} at once ("unreachable for 2h…, longer than the patience"):
 * dead-lettered, though b was back within a minute. Here each receiver has an Outage of its own, its run of failures
 * begun by its own failures and ended by its own successes.
 *
 * <p>At most {@link #MAX_RECEIVERS} at once, the one failed longest ago given up first — but only once no event can
 * wait on it any more: dropped while one still did, that event's wait began again each time it came back, and a url
 * of {@code {group}} with more groups failing than that waited every event out for ever, its group held. A receiver
 * that finds none to give up is timed with the others past the bound, as one (as the whole sink was). Thread-safe.
 */
final class ReceiverOutages {

    /** Receivers timed at once, each with its own run of failures. */
    static final int MAX_RECEIVERS = 1_000;

    /** How many receivers still told to wait long a new one looks past, at most, for one to give up. */
    private static final int SCANNED = 64;

    private final Duration patience;
    private final int maxReceivers;
    private final LongSupplier nanoTime;
    /**
     * How long after the end of the last wait it told a receiver's outage is over: the {@link Outage} forgets an event
     * that long after its wait (the patience, a minute at least), and reports its problem a minute after a failure.
     */
    private final long overNanos;
    /** Each receiver's outage, the one failed longest ago first; guarded by this. */
    private final Map<String, Timed> byReceiver = new LinkedHashMap<>();
    /** The receivers past the bound that found none to give up: timed as one. */
    private final Timed rest;
    /** Whether anything failed yet: read without the lock on the path of every call that works. */
    private volatile boolean any;

    /** A receiver's outage, when it last failed and when the longest wait it told ends (nanoTime); guarded by owner. */
    private static final class Timed {
        final Outage outage;
        long lastFailed;
        long waitsEnd;
        boolean used;

        Timed(Outage outage) {
            this.outage = outage;
        }
    }

    ReceiverOutages(Duration patience) {
        this(patience, MAX_RECEIVERS, System::nanoTime);
    }

    /** With another bound and clock (a test's). */
    ReceiverOutages(Duration patience, int maxReceivers, LongSupplier nanoTime) {
        this.patience = patience;
        this.maxReceivers = maxReceivers;
        this.nanoTime = nanoTime;
        this.overNanos = Math.max(Durations.nanos(patience), Duration.ofMinutes(1).toNanos());
        this.rest = new Timed(new Outage(patience, nanoTime));
    }

    /**
     * The event {@code key} found {@code receiver} unreachable: {@link Outage#failed(String, String, Duration)} of
     * that receiver's outage — {@code Throttled} for {@code wait} while it lasts less than the patience for the event.
     */
    Outcome failed(String receiver, String key, String problem, Duration wait) {
        String held = held(receiver);
        Timed timed;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            timed = byReceiver.remove(held); // put back last: the one failed longest ago stays first
            if (timed == null) {
                forgetOver(now);
                timed = byReceiver.size() < maxReceivers ? new Timed(new Outage(patience, nanoTime)) : rest;
            }
            if (timed != rest) {
                byReceiver.put(held, timed);
            }
            long waitNanos = wait == null || wait.isNegative() ? 0 : Durations.nanos(wait);
            timed.waitsEnd = !timed.used || now + waitNanos - timed.waitsEnd > 0 ? now + waitNanos : timed.waitsEnd;
            timed.lastFailed = now;
            timed.used = true;
            any = true;
        }
        return timed.outage.failed(key, problem, wait); // its own lock, not held with this one
    }

    /** Whether any receiver failed yet (the outages of none to end before). */
    boolean any() {
        return any;
    }

    /** {@code receiver} answered the event {@code key}: its wait is over, and so is that receiver's run of failures. */
    void worked(String receiver, String key) {
        if (!any) {
            return;
        }
        String held = held(receiver);
        Timed timed;
        synchronized (this) {
            timed = byReceiver.getOrDefault(held, rest);
        }
        timed.outage.worked(key);
    }

    /** A receiver as it is held: a url filled in may be 8 KiB, hashed past 1 KiB as the ledger hashes a key. */
    private static String held(String receiver) {
        return dev.ferry.domain.idempotency.LedgerKeys.bounded(receiver);
    }

    /**
     * The outage under way at the receiver that failed last and still reports one ({@link Outage#holdingBack()}): a
     * receiver's outage over, another's still holding events is said.
     */
    Optional<String> holdingBack() {
        if (!any) {
            return Optional.empty();
        }
        var seen = new ArrayList<Seen>(); // read under the lock, asked outside it: a health probe holds no failure up
        synchronized (this) {
            byReceiver.values().forEach(t -> seen.add(new Seen(t.outage, t.lastFailed)));
            if (rest.used) {
                seen.add(new Seen(rest.outage, rest.lastFailed));
            }
        }
        Seen latest = null;
        Optional<String> said = Optional.empty();
        for (var s : seen) {
            var says = s.outage().holdingBack();
            if (says.isPresent() && (latest == null || s.lastFailed() - latest.lastFailed() > 0)) {
                latest = s;
                said = says;
            }
        }
        return said;
    }

    private record Seen(Outage outage, long lastFailed) {
    }

    /** Receivers timed on their own now (for tests). */
    synchronized int receivers() {
        return byReceiver.size();
    }

    /**
     * Gives up the receivers no event can wait on any more, the one failed longest ago first; looks past a few still
     * told to wait long (a 503's Retry-After of an hour).
     */
    private void forgetOver(long now) {
        int waitingLong = 0;
        for (var it = byReceiver.values().iterator(); it.hasNext() && waitingLong < SCANNED; ) {
            var timed = it.next();
            if (now - timed.lastFailed <= overNanos) {
                break; // the one failed longest ago first: the rest failed later
            }
            if (now - timed.waitsEnd > overNanos) {
                it.remove();
            } else {
                waitingLong++;
            }
        }
    }
}
