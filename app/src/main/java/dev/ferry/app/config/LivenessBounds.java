package dev.ferry.app.config;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.retry.FailureDecision;
import java.time.Duration;

/**
 * Liveness ({@code admin.stall-after}) against what may legitimately keep a source from settling:
 * a wait in hand ({@code listener.hold-limit}) and a handler call running to its timeout
 * ({@code listener.handler-timeout}). Either one at least as long as the stall fails liveness while
 * nothing is wrong, and the restart spends a receive of the message and runs its handler again.
 * What the user set is kept; what was left to its default gives way; both set and in conflict is
 * refused.
 */
final class LivenessBounds {

    /** The listener and admin settings once they agree. */
    record Fitted(FerryConfig.ListenerSpec listener, FerryConfig.Admin admin) {
    }

    private LivenessBounds() {
    }

    /** The default stall: twice the default handler timeout, so that a handler running to it never fails liveness. */
    static final Duration DEFAULT_STALL_AFTER = Duration.ofMinutes(30);

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("ferry");

    static Fitted fit(Section root, Section l, FerryConfig.ListenerSpec listener, FerryConfig.Admin admin, boolean metrics,
                      SinkCalls sinkCalls) {
        boolean liveness = admin.listen() != null || metrics; // /health/live answers on either address
        boolean stallSet = liveness && root.sectionOrEmpty("admin").has("stall-after");
        boolean chosen = l.has("handler-timeout");
        if (!chosen && sinkCalls.cutsShort(listener.handlerTimeout())) {
            // the default gives way to sinks that take longer to answer by themselves; as chosen, it raises a default
            // stall (a stall chosen shortens it again, and is then warned of, saying how long it should be)
            LOG.info("listener.handler-timeout: {} (its default, {}, raised to outlast the sinks of route '{}' when they do "
                    + "not answer)", Durations.text(sinkCalls.needed()), Durations.text(listener.handlerTimeout()), sinkCalls.route());
            listener = listener.withHandlerTimeout(sinkCalls.needed());
            chosen = !stallSet;
        }
        if (!liveness) {
            sinkCalls.check(false, listener.handlerTimeout());
            return new Fitted(listener, admin);
        }
        var fitted = holdLimit(l, stallSet, listener, admin);
        var before = fitted.listener().handlerTimeout();
        fitted = handlerTimeout(l, chosen, stallSet, fitted.listener(), fitted.admin());
        // shortened to fit a stall the user chose: the stall is what to change
        boolean shortened = !fitted.listener().handlerTimeout().equals(before);
        sinkCalls.check(shortened, fitted.listener().handlerTimeout());
        return fitted;
    }

    /** A throttle held in hand may wait a tenth past the hold limit (its spread): liveness must outlast that too. */
    private static Fitted holdLimit(Section l, boolean stallSet, FerryConfig.ListenerSpec listener, FerryConfig.Admin admin) {
        var longestHold = FailureDecision.longestHold(listener.holdLimit());
        if (longestHold.compareTo(admin.stallAfter()) < 0) {
            return new Fitted(listener, admin);
        }
        // a wait in hand that long shows no progress for longer than liveness allows: every replica restarted
        if (l.has("hold-limit") && !stallSet) {
            // a hold limit chosen, the stall left to its default: the stall waits longer than any wait in hand
            // (refused, a configuration that started before would no longer start)
            return new Fitted(listener, stall(admin, listener.holdLimit().multipliedBy(2)));
        }
        if (l.has("hold-limit")) {
            l.error("hold-limit", "must be shorter than admin.stall-after (" + Durations.text(admin.stallAfter()) + "), with "
                    + "a throttle's spread of a tenth past it: a message waiting in hand that long fails liveness, and the "
                    + "restart spends its receive (was " + Durations.text(listener.holdLimit()) + ")");
            return new Fitted(listener, admin);
        }
        return new Fitted(listener.withHoldLimit(admin.stallAfter().dividedBy(2)), admin); // the default, within a short stall
    }

    /**
     * A handler call runs to its timeout, then has its grace to answer the interrupt (as long again,
     * a second to a minute): all that time its source may settle nothing, on a quiet queue or a FIFO
     * group. Liveness must outlast it, or a slow handler is restarted for ever (and its message, its
     * receives spent, dead-lettered without having failed).
     */
    private static Fitted handlerTimeout(Section l, boolean chosen, boolean stallSet, FerryConfig.ListenerSpec listener,
                                         FerryConfig.Admin admin) {
        var timeout = listener.handlerTimeout();
        if (timeout.isZero()) {
            if (!stallSet) { // said, not refused: a configuration that started before still starts (liveness may be unprobed)
                LOG.warn("listener.handler-timeout is 0s (no limit) with liveness on (admin or metrics): a handler running "
                        + "longer than admin.stall-after ({}) fails /health/live, and a restart runs it again; set a limit, "
                        + "or admin.stall-after longer than the longest handler", Durations.text(admin.stallAfter()));
            }
            return new Fitted(listener, admin); // no limit and a stall chosen: the user's own bound
        }
        var longest = longestRun(timeout);
        if (longest.compareTo(admin.stallAfter()) < 0) {
            return new Fitted(listener, admin);
        }
        if (!chosen) {
            // the default timeout within a stall chosen shorter: as long as leaves the grace and a tenth of the stall
            var within = within(admin.stallAfter());
            LOG.info("listener.handler-timeout: {} (its default, {}, shortened to fit within admin.stall-after, {})",
                    Durations.text(within), Durations.text(timeout), Durations.text(admin.stallAfter()));
            return new Fitted(listener.withHandlerTimeout(within), admin);
        }
        if (!stallSet) {
            var twice = timeout.multipliedBy(2);
            var past = longest.plusMinutes(1);
            return new Fitted(listener, stall(admin, twice.compareTo(past) >= 0 ? twice : past));
        }
        l.error("handler-timeout", "must leave admin.stall-after (" + Durations.text(admin.stallAfter()) + ") longer than "
                + "it and its grace to answer the interrupt (" + Durations.text(longest) + " in all): a handler running to "
                + "its timeout on a quiet source fails liveness, and the restart runs it again (was "
                + Durations.text(timeout) + ")");
        return new Fitted(listener, admin);
    }

    /** A handler call's longest run before it counts as failed: its timeout, then as long again to answer, 1 s to 1 min. */
    static Duration longestRun(Duration timeout) {
        var grace = timeout.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
                : timeout.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : timeout;
        return timeout.plus(grace);
    }

    /** The longest timeout whose call, grace included, ends a tenth of {@code stall} before it (a third of a short one). */
    static Duration within(Duration stall) {
        return stall.compareTo(Duration.ofMinutes(2)) <= 0 ? stall.dividedBy(3)
                : stall.minusMinutes(1).minus(stall.dividedBy(10));
    }

    /** {@code admin} with its stall raised to {@code atLeast} (never lowered). */
    private static FerryConfig.Admin stall(FerryConfig.Admin admin, Duration atLeast) {
        return atLeast.compareTo(admin.stallAfter()) <= 0 ? admin
                : new FerryConfig.Admin(admin.listen(), atLeast, admin.token());
    }
}
