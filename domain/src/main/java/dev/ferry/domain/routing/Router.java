package dev.ferry.domain.routing;

import dev.ferry.domain.model.Event;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Decides which sinks an event goes to. Every route whose matcher accepts the event contributes
 * its sinks, in route order, each sink once. Immutable and thread-safe.
 */
public final class Router {

    /** What happens to an event no route matches. */
    public enum Unmatched {
        /** Dead-letter it: nothing is dropped without someone deciding so. The default. */
        REJECT,
        /** Acknowledge it without effect. */
        IGNORE
    }

    /** Where one event goes. {@code matched} is false when no route accepted it. */
    public record Decision(boolean matched, List<String> sinks, List<String> routes) {
    }

    private final List<Route> routes;
    private final Unmatched unmatched;

    private Router(List<Route> routes, Unmatched unmatched) {
        this.routes = List.copyOf(routes);
        this.unmatched = Objects.requireNonNull(unmatched, "unmatched");
        var names = new LinkedHashSet<String>();
        for (var route : this.routes) {
            if (!names.add(route.name())) {
                throw new IllegalArgumentException("two routes are named '" + route.name() + "'");
            }
        }
    }

    public static Router of(List<Route> routes, Unmatched unmatched) {
        return new Router(routes, unmatched);
    }

    public static Router of(Route... routes) {
        return new Router(List.of(routes), Unmatched.REJECT);
    }

    public Decision route(Event event) {
        LinkedHashSet<String> sinks = null;
        List<String> matchedRoutes = null;
        for (var route : routes) {
            if (route.matcher().matches(event)) {
                if (sinks == null) {
                    sinks = new LinkedHashSet<>();
                    matchedRoutes = new ArrayList<>(2);
                }
                sinks.addAll(route.sinks());
                matchedRoutes.add(route.name());
            }
        }
        if (sinks == null) {
            return new Decision(false, List.of(), List.of());
        }
        return new Decision(true, List.copyOf(sinks), List.copyOf(matchedRoutes));
    }

    public Unmatched unmatched() {
        return unmatched;
    }

    public List<Route> routes() {
        return routes;
    }

    /** Every sink name any route refers to, for checking that they all exist. */
    public List<String> referencedSinks() {
        var all = new LinkedHashSet<String>();
        routes.forEach(r -> all.addAll(r.sinks()));
        return List.copyOf(all);
    }
}
