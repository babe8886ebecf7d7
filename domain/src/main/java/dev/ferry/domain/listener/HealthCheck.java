package dev.ferry.domain.listener;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What keeps a running listener from making progress: a thread of its own that died, the intake's
 * brakes (a failing ledger, failing polls), and a call into the transport that has not returned —
 * a poll, an acknowledgement or a lease extension that hangs takes nothing in, settles nothing or
 * extends nothing, and nothing else would say so.
 */
final class HealthCheck {

    /** The least time an acknowledgement or extension call may take before it is reported (two leases, at least this). */
    static final Duration STUCK_CALL_FLOOR = Duration.ofSeconds(5);

    private HealthCheck() {
    }

    static ListenerHealth of(List<Thread> threads, Intake intake, Poller poller, Settler settler, LeaseKeeper leases,
                             HandlerWatch watch, Duration lease, Source source) {
        var problems = new ArrayList<>(wedges(threads, poller, watch));
        var limit = lease.multipliedBy(2).compareTo(STUCK_CALL_FLOOR) < 0 ? STUCK_CALL_FLOOR : lease.multipliedBy(2);
        // an acknowledgement call that hangs: everything handled since waits behind it, un-acked
        var stuckSend = settler.calls.stuck(limit);
        if (stuckSend != null) {
            problems.add("an acknowledgement call to the source has not returned for " + Durations.text(stuckSend));
        }
        var failing = settler.calls.failing(limit); // or that returns, carrying out nothing: the same messages run again
        if (failing != null) {
            problems.add(failing);
        }
        // a lease extension that hangs: every lease runs out while the listener counts on it
        var stuckExtension = leases.stuckExtension(limit);
        if (stuckExtension != null) {
            problems.add("a lease extension call to the source has not returned for " + Durations.text(stuckExtension));
        }
        problems.addAll(intake.problems());
        try {
            source.problem().ifPresent(p -> problems.add("source: " + p));
        } catch (Throwable e) { // the source's own report failing is its problem, not every other's
            problems.add("source: its problem() threw " + JournalNotes.describe(e));
        }
        return ListenerHealth.of(problems);
    }

    /**
     * The problems a restart clears: a thread that died, a poll that does not return, a handler that did not
     * return from its timeout's interrupt (its worker and group held for as long as it runs). Not the intake's brakes
     * (a ledger or a source failing: a restart would only spend a receive of each message), nor a slow
     * acknowledgement or extension (a batch of dead-letter writes to a partition without a leader takes
     * minutes, and goes on: restarted, every replica would meet it again).
     */
    static List<String> wedges(List<Thread> threads, Poller poller, HandlerWatch watch) {
        var problems = new ArrayList<String>();
        threads.stream().filter(t -> !t.isAlive()).forEach(t -> problems.add("thread " + t.getName() + " died"));
        var stuck = poller.stuckPoll();
        if (stuck != null) {
            problems.add(stuck);
        }
        problems.addAll(watch.wedges());
        return problems;
    }
}
