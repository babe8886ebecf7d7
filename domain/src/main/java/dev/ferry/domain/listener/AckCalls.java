package dev.ferry.domain.listener;

import dev.ferry.domain.model.Durations;
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
        lastReason = reason;
        lastFailure = now;
        if (failingSince == 0) {
            failingSince = now;
        }
    }

    /** A call of {@code given} settlements answered; {@code failed} of them were not carried out. */
    void answered(int given, List<Settlement.Failure> failed) {
        if (given == 0) {
            return;
        }
        if (failed.size() >= given) {
            failed(failed.getFirst().reason());
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
        if (since == 0 || now - since <= bound || now - last > bound) {
            return null;
        }
        return "every acknowledgement call to the source has failed for " + Durations.text(Duration.ofNanos(now - since))
                + " (messages come back when their leases run out, and run again): " + lastReason;
    }
}
