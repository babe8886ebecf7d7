package dev.ferry.domain.routing;

import dev.ferry.domain.model.Event;
import java.util.Objects;
import java.util.Set;

/** A predicate on an event: its type, its attributes, or both. */
@FunctionalInterface
public interface EventMatcher {

    boolean matches(Event event);

    static EventMatcher any() {
        return e -> true;
    }

    static EventMatcher type(String type) {
        Objects.requireNonNull(type, "type");
        return e -> e.type().equals(type);
    }

    static EventMatcher typeIn(Set<String> types) {
        var copy = Set.copyOf(types);
        return e -> copy.contains(e.type());
    }

    /** Type starts with {@code prefix}, e.g. {@code ObjectCreated:} for every S3 create event. */
    static EventMatcher typePrefix(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return e -> e.type().startsWith(prefix);
    }

    static EventMatcher attribute(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        return e -> value.equals(e.attributes().get(name));
    }

    static EventMatcher hasAttribute(String name) {
        Objects.requireNonNull(name, "name");
        return e -> e.attributes().containsKey(name);
    }

    default EventMatcher and(EventMatcher other) {
        return e -> matches(e) && other.matches(e);
    }

    default EventMatcher or(EventMatcher other) {
        return e -> matches(e) || other.matches(e);
    }

    default EventMatcher negate() {
        return e -> !matches(e);
    }
}
