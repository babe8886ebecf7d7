package dev.ferry.test;

import dev.ferry.domain.spi.Settings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A configuration section from a map, to test an adapter's or plugin's config reader without the app: values by
 * key ({@code headers.X-Source} for a mapping's entry, {@code tags.0}, {@code tags.1} for a list's), read the way
 * the app reads its file — a malformed or out-of-range value is a problem, and the read gives the fallback.
 * {@link #problems()} holds every problem recorded, as {@code key: message}.
 */
public final class MapSettings implements Settings {

    /** The longest duration the app takes: "never" in practice, still countable in nanoseconds. */
    private static final Duration MAX_DURATION = Duration.ofDays(36_500);

    private final Map<String, String> values;
    private final List<String> problems;

    public MapSettings(Map<String, String> values) {
        this(values, new ArrayList<>());
    }

    /** Problems are added to {@code problems}, which several sections may share. */
    public MapSettings(Map<String, String> values, List<String> problems) {
        this.values = Objects.requireNonNull(values, "values");
        this.problems = Objects.requireNonNull(problems, "problems");
    }

    /** Every problem recorded so far, as {@code key: message}. */
    public List<String> problems() {
        return problems;
    }

    @Override
    public String name() {
        return "test";
    }

    @Override
    public String string(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    @Override
    public String required(String key) {
        String v = values.get(key);
        if (v == null || v.isBlank()) { // blank, as an empty variable leaves it: the app refuses it too
            problem(key, v == null ? "required" : "must not be empty");
            return null;
        }
        return v;
    }

    @Override
    public String oneOf(String key, String fallback, Set<String> allowed) {
        String v = fallback == null ? required(key) : string(key, fallback);
        if (v != null && !allowed.contains(v)) {
            problem(key, "'" + v + "' is not one of " + allowed);
        }
        return v;
    }

    @Override
    public int integer(String key, int fallback, int min, int max) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
            problem(key, n + " is outside " + min + ".." + max);
        } catch (NumberFormatException e) {
            problem(key, "'" + v + "' is not a whole number");
        }
        return fallback;
    }

    @Override
    public boolean flag(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        return switch (v.trim()) { // as the app reads YAML's words for them
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> {
                problem(key, "'" + v + "' is neither true nor false");
                yield fallback;
            }
        };
    }

    @Override
    public Duration duration(String key, Duration fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        // the app's own reading: 1m30s and PT1M30S as it takes them, and one too large to count a problem, not a throw
        var parsed = dev.ferry.domain.model.Durations.parse(v);
        if (parsed == null) {
            problem(key, "'" + v + "' is not a duration such as 500ms, 30s, 1m30s, 2h or 7d (or ISO-8601 such as PT1M30S)");
            return fallback;
        }
        if (parsed.compareTo(MAX_DURATION) > 0) {
            problem(key, "at most 36500d (100 years), was " + v.trim());
            return fallback;
        }
        return parsed;
    }

    @Override
    public InetSocketAddress hostPort(String key, String fallback) {
        String v = values.get(key);
        var address = v == null ? null : address(v);
        if (v != null && address == null) {
            problem(key, "'" + v + "' is not HOST:PORT with a port of 0..65535");
        }
        return address != null || fallback == null ? address : address(fallback);
    }

    private static InetSocketAddress address(String v) {
        int colon = v.lastIndexOf(':');
        try {
            int port = Integer.parseInt(v.substring(colon + 1));
            return colon > 0 && port >= 0 && port <= 65_535 ? InetSocketAddress.createUnresolved(v.substring(0, colon), port)
                    : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The values under {@code key.0}, {@code key.1}, ... in order; empty when absent. */
    @Override
    public List<String> strings(String key) {
        var out = new ArrayList<String>();
        for (int i = 0; values.containsKey(key + "." + i); i++) {
            out.add(values.get(key + "." + i));
        }
        return out;
    }

    /** The values under {@code key.NAME} (e.g. {@code headers.X-Source}), by NAME. */
    @Override
    public Map<String, String> map(String key) {
        var out = new LinkedHashMap<String, String>();
        values.forEach((k, v) -> {
            if (k.startsWith(key + ".")) {
                out.put(k.substring(key.length() + 1), v);
            }
        });
        return out;
    }

    @Override
    public void problem(String key, String message) {
        problems.add(key + ": " + message);
    }
}
