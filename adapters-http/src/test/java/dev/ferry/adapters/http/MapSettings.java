package dev.ferry.adapters.http;

import dev.ferry.domain.spi.Settings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A config section as the app's reader hands it to an adapter: values by key, problems collected. */
record MapSettings(Map<String, String> values, List<String> problems) implements Settings {

    MapSettings(Map<String, String> values) {
        this(values, new ArrayList<>());
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
        if (v == null || v.isEmpty()) {
            problem(key, "required");
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
        return v == null ? fallback : Integer.parseInt(v);
    }

    @Override
    public boolean flag(String key, boolean fallback) {
        String v = values.get(key);
        return v == null ? fallback : Boolean.parseBoolean(v);
    }

    @Override
    public Duration duration(String key, Duration fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        return switch (v.charAt(v.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    @Override
    public InetSocketAddress hostPort(String key, String fallback) {
        String v = values.getOrDefault(key, fallback);
        int colon = v.lastIndexOf(':');
        return InetSocketAddress.createUnresolved(v.substring(0, colon), Integer.parseInt(v.substring(colon + 1)));
    }

    @Override
    public List<String> strings(String key) {
        return List.of();
    }

    /** The values under {@code key.NAME} (e.g. {@code headers.X-Source}), by NAME: a mapping in the file. */
    @Override
    public Map<String, String> map(String key) {
        var out = new java.util.LinkedHashMap<String, String>();
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
