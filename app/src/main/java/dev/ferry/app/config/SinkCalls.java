package dev.ferry.app.config;

import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A handler call publishes to each of an event's sinks in turn — those of every route that takes it — and a sink
 * whose destination does not answer runs its timeouts and in-process retries out before it answers by itself: an
 * outage, waited out without spending the event's attempts. The handler timeout must outlast the longest such run,
 * or the call is interrupted first: an attempt spent, and after {@code max-attempts} the event dead-lettered while
 * its destination was only down.
 *
 * @param route   the route whose event may reach the sinks that take longest together, or null when no sink says
 * @param longest their longest calls together
 */
record SinkCalls(String route, Duration longest) {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("ferry");

    static SinkCalls of(List<FerryConfig.RouteSpec> routes, Map<String, FerryConfig.SinkSpec> sinks) {
        String route = null;
        var longest = Duration.ZERO;
        for (var r : routes) {
            // an event this route takes may be taken by others too: the router sends it to all their sinks in one call
            var reached = new LinkedHashSet<>(r.to());
            for (var other : routes) {
                if (other != r && mayMatchTogether(r, other)) {
                    reached.addAll(other.to());
                }
            }
            var together = Duration.ZERO;
            for (var target : reached) {
                together = together.plus(longestCall(sinks.get(target)));
            }
            if (together.compareTo(longest) > 0) {
                route = r.name();
                longest = together;
            }
        }
        return new SinkCalls(route, longest);
    }

    /**
     * What the sink's plan says, zero when it says nothing usable (a plugin's that throws, or a negative figure), and
     * {@link #LONGEST} at most: a plugin's "for ever" ({@code ChronoUnit.FOREVER.getDuration()}) overflowed the sum over
     * a route's sinks and the margin added to it, and the ArithmeticException ended the reading of the file with
     * "long overflow", no sink named. Clamped, a route's sum fits, and the handler timeout it asks for is LONGEST.
     */
    private static Duration longestCall(FerryConfig.SinkSpec sink) {
        if (sink == null || sink.plan() == null) {
            return Duration.ZERO;
        }
        try {
            var d = sink.plan().longestCall();
            return d == null || d.isNegative() ? Duration.ZERO : d.compareTo(LONGEST) > 0 ? LONGEST : d;
        } catch (RuntimeException | LinkageError e) { // a plugin's (a class it lacks, too): not known; open() says why
            return Duration.ZERO;
        }
    }

    /** False only when the routes' event types cannot be the same: literal types apart, or a prefix none of them has. */
    static boolean mayMatchTogether(FerryConfig.RouteSpec a, FerryConfig.RouteSpec b) {
        Set<String> typesA = literalTypes(a);
        Set<String> typesB = literalTypes(b);
        if (typesA != null && typesB != null) {
            return typesA.stream().anyMatch(typesB::contains);
        }
        if (typesA != null && b.typePrefix() != null) {
            return typesA.stream().anyMatch(t -> t.startsWith(b.typePrefix()));
        }
        if (typesB != null && a.typePrefix() != null) {
            return typesB.stream().anyMatch(t -> t.startsWith(a.typePrefix()));
        }
        if (a.typePrefix() != null && b.typePrefix() != null) {
            return a.typePrefix().startsWith(b.typePrefix()) || b.typePrefix().startsWith(a.typePrefix());
        }
        return true;
    }

    /** The exact types a route takes, or null when it takes types not listed. */
    private static Set<String> literalTypes(FerryConfig.RouteSpec r) {
        if (r.type() != null) {
            return Set.of(r.type());
        }
        return r.types().isEmpty() ? null : Set.copyOf(r.types());
    }

    /** The shortest handler timeout that outlasts them: a tenth more, a second at least; zero when none is needed. */
    /** The longest handler timeout the engine takes (a hundred years). */
    static final Duration LONGEST = Duration.ofDays(36_500);

    Duration needed() {
        if (route == null) {
            return Duration.ZERO;
        }
        var margin = longest.dividedBy(10);
        var needed = longest.plus(margin.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : margin);
        // a sink's "never time out" (timeout: 36500d, its retries' calls each as long): the handler timeout it raised
        // was centuries, past the engine's limit, and a file `ferry validate` passed did not start
        return needed.compareTo(LONGEST) > 0 ? LONGEST : needed;
    }

    /** Whether {@code timeout} (zero: no limit) ends a call before the sinks answer by themselves. */
    boolean cutsShort(Duration timeout) {
        return !timeout.isZero() && timeout.compareTo(needed()) < 0;
    }

    /**
     * Warns at start when {@code timeout} {@link #cutsShort cuts the sinks short}: of {@code admin.stall-after} when
     * {@code stallToBlame} (the timeout was shortened to fit it), else of {@code listener.handler-timeout}. Said, not
     * refused: a configuration that started before still starts (refused, a rollout of a new version stalled on it).
     */
    void check(boolean stallToBlame, Duration timeout) {
        if (!cutsShort(timeout)) {
            return;
        }
        String why = "an event of route '" + route + "' goes to sinks that, when they do not answer, take up to "
                + Durations.text(longest) + " together before waiting the outage out; a handler call interrupted sooner "
                + "spends an attempt, and the event is dead-lettered after max-attempts while its destination was only down";
        if (stallToBlame) {
            LOG.warn("admin.stall-after is too short for the sinks: the handler timeout it leaves ({}) should be at least "
                    + "{}: {}; set it to {} or more, or lower the sinks' timeout settings", Durations.text(timeout),
                    Durations.text(needed()), why, Durations.text(stallFor(needed())));
        } else {
            LOG.warn("listener.handler-timeout ({}) should be at least {}: {}; raise it, or lower the sinks' timeout "
                    + "settings", Durations.text(timeout), Durations.text(needed()), why);
        }
    }

    /** The shortest stall that leaves a handler timeout of {@code timeout} ({@link LivenessBounds#within}'s inverse). */
    static Duration stallFor(Duration timeout) {
        var third = timeout.multipliedBy(3);
        if (third.compareTo(Duration.ofMinutes(2)) <= 0) {
            return Duration.ofSeconds((third.toMillis() + 999) / 1000); // whole seconds, as it is said, and not less
        }
        long millis = timeout.plusMinutes(1).toMillis();
        // past 2m a stall leaves itself less a minute and a tenth: at least 2m1s (2m itself leaves a third)
        return Duration.ofSeconds(Math.max((millis * 10 / 9 + 999) / 1000, 121));
    }
}
