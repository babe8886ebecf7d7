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
 */
public record ShutdownReport(
        String reason,
        long finished,
        long releasedWaiting,
        long releasedRunning,
        long flushed,
        Duration took,
        ListenerStats stats,
        long keptPastDeadline) {

    /** A report without deliveries kept past the deadline (the form before {@code keptPastDeadline}). */
    public ShutdownReport(String reason, long finished, long releasedWaiting, long releasedRunning, long flushed,
                          Duration took, ListenerStats stats) {
        this(reason, finished, releasedWaiting, releasedRunning, flushed, took, stats, 0);
    }

    /** True when every delivery was settled before the deadline, those its handler kept too. */
    public boolean clean() {
        return releasedRunning == 0 && keptPastDeadline == 0;
    }
}
