package dev.ferry.app.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** The {@code routes:} section: each route's name, matcher and sinks. */
final class RouteSections {

    private RouteSections() {
    }

    /**
     * Every route, in order. Names are unique and not blank: the router refuses two routes of one name (a route
     * named {@code route-1} beside an unnamed second route, which is named so by default) and a blank one, and it
     * did so only once {@code ferry run} had started — after {@code ferry validate} said the file was fine.
     */
    static List<FerryConfig.RouteSpec> routes(Section root, Map<String, FerryConfig.SinkSpec> sinks) {
        var routes = new ArrayList<FerryConfig.RouteSpec>();
        var named = new HashMap<String, Integer>();
        int i = 0;
        for (var r : root.sections("routes")) {
            var route = route(r, i, sinks);
            if (route.name().isBlank()) {
                r.error("name", "a route's name must not be blank; leave name out for route-" + i);
            } else if (named.putIfAbsent(route.name(), i) != null) {
                r.error("name", "another route is named '" + route.name() + "' too"
                        + (r.has("name") ? "" : " (an unnamed route is named route-INDEX, from 0)") + "; route names must differ");
            }
            routes.add(route);
            i++;
        }
        if (routes.isEmpty()) {
            root.error("routes", "at least one route is needed, or every event would be dropped");
        }
        return routes;
    }

    private static FerryConfig.RouteSpec route(Section r, int index, Map<String, FerryConfig.SinkSpec> sinks) {
        r.only("name", "match", "to");
        String name = r.string("name", "route-" + index);
        String type = null;
        String typePrefix = null;
        Map<String, String> attributes = Map.of();
        List<String> types = List.of();
        List<String> notTypes = List.of();
        var match = r.section("match");
        if (match != null) {
            match.only("type", "types", "type-prefix", "not-types", "attributes");
            type = match.string("type", null);
            types = match.strings("types");
            typePrefix = match.string("type-prefix", null);
            notTypes = match.strings("not-types");
            attributes = match.map("attributes");
            if (match.has("types") && types.isEmpty()) {
                // an empty list (a template with nothing to fill in) fell back to no matcher: every event went this way
                match.error("types", "an empty list matches no type; leave types out to match every type");
            }
            // blank (an environment variable set to nothing): it matched no event, and they went the catch-all's way
            if (type != null && type.isBlank()) {
                match.error("type", "is blank (an empty variable?): a route for events without a type is not made this way; "
                        + "leave type out to match every type");
            }
            if (types.stream().anyMatch(String::isBlank)) {
                match.error("types", "holds a blank type (an empty variable?): it matches no type");
            }
            if (typePrefix != null && typePrefix.isEmpty()) {
                match.error("type-prefix", "an empty prefix matches every type; leave type-prefix out to say so");
            }
            // no value (~, null, nothing) fell back to no matcher: every event went this way
            if (match.hasNull("type")) {
                match.error("type", "needs a value; leave type out to match every type");
            }
            if (match.hasNull("type-prefix")) {
                match.error("type-prefix", "needs a value; leave type-prefix out to match every type");
            }
            int given = (type != null ? 1 : 0) + (types.isEmpty() ? 0 : 1) + (typePrefix != null ? 1 : 0);
            if (given > 1) {
                match.error(typePrefix != null ? "type-prefix" : "types", "give one of type, types or type-prefix");
            }
        }
        var to = r.strings("to");
        if (to.isEmpty()) {
            r.error("to", "a route needs at least one sink");
        }
        for (String sink : to) {
            if (!sinks.containsKey(sink)) {
                r.error("to", "no sink named '" + sink + "' (sinks: " + sinks.keySet() + ")");
            }
        }
        if (new LinkedHashSet<>(to).size() != to.size()) {
            r.error("to", "a sink is named twice: " + to);
        }
        return new FerryConfig.RouteSpec(name, type, typePrefix, types, notTypes, attributes, to);
    }

}
