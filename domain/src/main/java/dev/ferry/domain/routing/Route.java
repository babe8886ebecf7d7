package dev.ferry.domain.routing;

import java.util.List;
import java.util.Objects;

/**
 * Events that match go to every sink in {@code sinks} (fan-out). Routes are not exclusive: an event
 * goes to the sinks of every route it matches. A route with no sinks ({@link #ignore}) adds none, so
 * an event that only such routes match is acknowledged without effect (e.g. S3's TestEvent); one
 * that another route matches too (a catch-all) still goes to that route's sinks — narrow that
 * route's matcher to keep the event out of it.
 */
public record Route(String name, EventMatcher matcher, List<String> sinks) {

    public Route {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("route name must be non-blank");
        }
        Objects.requireNonNull(matcher, "matcher of route " + name);
        sinks = List.copyOf(sinks);
        if (sinks.stream().distinct().count() != sinks.size()) {
            throw new IllegalArgumentException("route '" + name + "' lists a sink twice: " + sinks);
        }
    }

    public static Route of(String name, EventMatcher matcher, String... sinks) {
        return new Route(name, matcher, List.of(sinks));
    }

    public static Route ignore(String name, EventMatcher matcher) {
        return new Route(name, matcher, List.of());
    }
}
