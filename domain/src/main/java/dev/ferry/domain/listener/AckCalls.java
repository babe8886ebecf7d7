package dev.ferry.domain.listener;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.List;

/**
 * The acknowledger's calls as the health check sees them: one under way that has not returned, and a run
 * of calls that each carried out nothing they were given (a role allowed to receive but not to delete:
 * every message came back each lease and ran again, for ever, while the listener stood ready). Thread-safe.
 */
final class AckCalls {

    /** When the call under way began (nanoTime), 0 when none is. */
    private volatile long sendingSince;
    /** When the run of calls that carried out nothing began (nanoTime), 0 while calls carry out what they are given. */
    private volatile long failingSince;
    private volatile long lastFailure;
    private volatile String lastReason;
    /** A gap between failures longer than this starts a new run: the health check's limit, as it last asked. */
    private volatile long quietNanos = Duration.ofMinutes(1).toNanos();

    void begin() {
        sendingSince = System.nanoTime() | 1; // never 0 while a call is under way
    }

    void end() {
        sendingSince = 0;
    }

    /** A call under way for longer than {@code limit}: for how long; else null. */
    Duration stuck(Duration limit) {
        long since = sendingSince;
        if (since == 0) {
            return null;
        }
        long took = System.nanoTime() - since;
        return took > Durations.nanos(limit) ? Duration.ofNanos(took) : null;
    }

    /** How long the call under way has taken, in words. */
    String stuckFor() {
        long since = sendingSince;
        return since == 0 ? "a while" : Durations.text(Duration.ofNanos(System.nanoTime() - since));
    }

    /** A call threw (or answered nothing usable): nothing it was given was carried out. */
    void failed(String reason) {
        long now = System.nanoTime() | 1;
        long last = lastFailure;
        lastReason = reason;
        lastFailure = now;
        if (failingSince == 0 || now - last > quietNanos) {
            failingSince = now; // a failure after a quiet while (an idle listener makes no calls) starts a run of its own
        }
    }

    /**
     * A call answered for {@code given}; {@code failed} of them were not carried out. Judged by its acks alone: a
     * role that may change visibility but not delete had its redeliveries carried out, and its acks' run hidden.
     */
    void answered(List<Settlement> given, List<Settlement.Failure> failed) {
        long acks = given.stream().filter(s -> s.disposition() instanceof Disposition.Ack).count();
        if (acks == 0) {
            return;
        }
        var failedAcks = failed.stream().filter(f -> f.settlement().disposition() instanceof Disposition.Ack).toList();
        if (failedAcks.size() >= acks) {
            failed(failedAcks.getFirst().reason());
        } else {
            failingSince = 0;
        }
    }

    /**
     * Calls that have carried out nothing for longer than {@code limit}, the last of them within it: what to
     * report; else null (a run that stopped when the messages did is not reported for ever).
     */
    String failing(Duration limit) {
        long since = failingSince;
        long last = lastFailure;
        long now = System.nanoTime();
        long bound = Durations.nanos(limit);
        quietNanos = bound;
        if (since == 0 || now - since <= bound || now - last > bound) {
            return null;
        }
        return "every acknowledgement call to the source has failed for " + Durations.text(Duration.ofNanos(now - since))
                + " (messages come back when their leases run out, and run again): " + lastReason;
    }
}
