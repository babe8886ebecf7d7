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
    /** Per route, the decision when it is the only one that matches (the common case): made once. */
    private final Decision[] alone;
    private static final Decision NONE = new Decision(false, List.of(), List.of());

    private Router(List<Route> routes, Unmatched unmatched) {
        this.routes = List.copyOf(routes);
        this.unmatched = Objects.requireNonNull(unmatched, "unmatched");
        var names = new LinkedHashSet<String>();
        this.alone = new Decision[this.routes.size()];
        for (int i = 0; i < alone.length; i++) {
            var route = this.routes.get(i);
            if (!names.add(route.name())) {
                throw new IllegalArgumentException("two routes are named '" + route.name() + "'");
            }
            alone[i] = new Decision(true, List.copyOf(new LinkedHashSet<>(route.sinks())), List.of(route.name()));
        }
    }

    public static Router of(List<Route> routes, Unmatched unmatched) {
        return new Router(routes, unmatched);
    }

    public static Router of(Route... routes) {
        return new Router(List.of(routes), Unmatched.REJECT);
    }

    public Decision route(Event event) {
        int first = -1;
        LinkedHashSet<String> sinks = null;
        List<String> matchedRoutes = null;
        for (int i = 0; i < alone.length; i++) {
            var route = routes.get(i);
            if (!route.matcher().matches(event)) {
                continue;
            }
            if (first < 0) {
                first = i;
                continue;
            }
            if (sinks == null) {
                sinks = new LinkedHashSet<>(alone[first].sinks());
                matchedRoutes = new ArrayList<>(alone[first].routes());
            }
            sinks.addAll(route.sinks());
            matchedRoutes.add(route.name());
        }
        if (first < 0) {
            return NONE;
        }
        if (sinks == null) {
            return alone[first];
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
