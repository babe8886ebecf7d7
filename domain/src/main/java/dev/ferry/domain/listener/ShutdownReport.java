package dev.ferry.domain.listener;

import java.time.Duration;

/**
 * What a listener's shutdown did.
 *
 * @param reason            why it stopped (requested, idle timeout, before-poll hook, ...)
 * @param finished          deliveries whose handling completed during the shutdown
 * @param releasedWaiting   deliveries received but not started, put back at once
 * @param releasedRunning   deliveries whose handler outlived the deadline, put back (the ledger fences a late completion)
 * @param flushed           settlements sent to the transport during the shutdown
 * @param took              how long the shutdown took
 * @param stats             the counters at the end
 * @param keptPastDeadline  deliveries their handler kept (skip-delete) and had not settled by the deadline: no longer
 *                          extended, they come back when their lease runs out
 * @param failed            the shutdown threw before its end (the reason says what): what it had not yet settled was
 *                          left as it stood, to come back when its lease runs out, and the counts are not known
 */
public record ShutdownReport(
        String reason,
        long finished,
        long releasedWaiting,
        long releasedRunning,
        long flushed,
        Duration took,
        ListenerStats stats,
        long keptPastDeadline,
        boolean failed) {

    /** A report without deliveries kept past the deadline (the form before {@code keptPastDeadline}). */
    public ShutdownReport(String reason, long finished, long releasedWaiting, long releasedRunning, long flushed,
                          Duration took, ListenerStats stats) {
        this(reason, finished, releasedWaiting, releasedRunning, flushed, took, stats, 0);
    }

    /** A report of a shutdown that ran to its end (the form before {@code failed}). */
    public ShutdownReport(String reason, long finished, long releasedWaiting, long releasedRunning, long flushed,
                          Duration took, ListenerStats stats, long keptPastDeadline) {
        this(reason, finished, releasedWaiting, releasedRunning, flushed, took, stats, keptPastDeadline, false);
    }

    /** True when the shutdown ran to its end and every delivery was settled before the deadline, those kept too. */
    public boolean clean() {
        return !failed && releasedRunning == 0 && keptPastDeadline == 0;
    }
}
