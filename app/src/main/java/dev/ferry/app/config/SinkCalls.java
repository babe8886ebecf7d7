package dev.ferry.app.config;

import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A handler call publishes to each of an event's sinks in turn, and a sink whose destination does not
 * answer runs its timeouts and in-process retries out before it answers by itself — an outage, waited
 * out without spending the event's attempts. The handler timeout must outlast the longest such run of
 * a route, or the call is interrupted first: an attempt spent, and after {@code max-attempts} the event
 * dead-lettered while its destination was only down.
 *
 * @param route   the route whose sinks take longest together, or null when no sink says how long it takes
 * @param longest their longest calls together
 */
record SinkCalls(String route, Duration longest) {

    static SinkCalls of(List<FerryConfig.RouteSpec> routes, Map<String, FerryConfig.SinkSpec> sinks) {
        String route = null;
        var longest = Duration.ZERO;
        for (var r : routes) {
            var together = Duration.ZERO;
            for (var target : r.to()) {
                var sink = sinks.get(target);
                if (sink != null && sink.plan() != null) {
                    together = together.plus(sink.plan().longestCall());
                }
            }
            if (together.compareTo(longest) > 0) {
                route = r.name();
                longest = together;
            }
        }
        return new SinkCalls(route, longest);
    }

    /** The shortest handler timeout that outlasts them: a tenth more, a second at least. */
    Duration needed() {
        var margin = longest.dividedBy(10);
        return longest.plus(margin.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : margin);
    }

    /**
     * Refuses {@code timeout} when it is shorter than {@link #needed}: on {@code admin.stall-after} when
     * {@code stall} is given (the timeout was derived from it), else on {@code listener.handler-timeout}.
     */
    void check(Section listener, Section stall, Duration timeout) {
        if (route == null || timeout.isZero() || timeout.compareTo(needed()) >= 0) {
            return;
        }
        String why = "route '" + route + "' publishes to its sinks in turn, and when they do not answer they take up to "
                + Durations.text(longest) + " together before waiting the outage out; a handler call interrupted sooner "
                + "spends an attempt, and the event is dead-lettered after max-attempts while its destination was only down";
        if (stall != null) {
            stall.error("stall-after", "too short for the sinks: the handler timeout it leaves (" + Durations.text(timeout)
                    + ") must be at least " + Durations.text(needed()) + ": " + why + "; raise it, or lower the sinks' "
                    + "timeout settings");
        } else {
            listener.error("handler-timeout", "must be at least " + Durations.text(needed()) + ": " + why + " (was "
                    + Durations.text(timeout) + (listener.has("handler-timeout") ? "" : ", its default")
                    + "); raise it, or lower the sinks' timeout settings");
        }
    }
}
