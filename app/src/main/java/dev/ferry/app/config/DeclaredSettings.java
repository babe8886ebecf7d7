package dev.ferry.app.config;

import dev.ferry.domain.spi.Settings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@link Settings} that answers an adapter's reads with their fallbacks (or plain stand-ins) and
 * writes down what was asked: each key with its type, default, allowed values and bounds. Running
 * a provider's {@code configure} on it gives the adapter's part of the configuration's JSON Schema,
 * from the adapter's own code, so the schema cannot drift from what the adapter reads.
 */
final class DeclaredSettings implements Settings {

    /** One key an adapter reads, as a JSON Schema property. */
    record Key(Map<String, Object> schema, boolean required) {
    }

    private final Map<String, Key> keys = new LinkedHashMap<>();
    private final Map<String, Set<String>> choices = new LinkedHashMap<>();
    private final Map<String, String> answers;

    /** {@code answers}: what {@link #oneOf} answers for a key, to explore the keys another choice reads. */
    DeclaredSettings(Map<String, String> answers) {
        this.answers = answers;
    }

    Map<String, Key> keys() {
        return keys;
    }

    /** The keys read with {@link #oneOf} and their allowed values: the branches worth exploring. */
    Map<String, Set<String>> choices() {
        return choices;
    }

    private void declare(String key, Map<String, Object> schema, boolean required) {
        keys.merge(key, new Key(schema, required), (a, b) -> new Key(a.schema(), a.required() && b.required()));
    }

    private static Map<String, Object> typed(String type, Object fallback) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", type);
        if (fallback != null) {
            s.put("default", fallback);
        }
        return s;
    }

    @Override
    public String name() {
        return "NAME";
    }

    @Override
    public String string(String key, String fallback) {
        declare(key, typed("string", fallback), false);
        return fallback;
    }

    @Override
    public String required(String key) {
        declare(key, typed("string", null), true);
        return "stand-in";
    }

    @Override
    public String oneOf(String key, String fallback, Set<String> allowed) {
        var s = new LinkedHashMap<String, Object>();
        s.put("enum", List.copyOf(new TreeSet<>(allowed)));
        if (fallback != null) {
            s.put("default", fallback);
        }
        declare(key, s, fallback == null);
        choices.put(key, new TreeSet<>(allowed));
        String answer = answers.get(key);
        return answer != null ? answer : fallback != null ? fallback : allowed.stream().sorted().findFirst().orElse(null);
    }

    @Override
    public int integer(String key, int fallback, int min, int max) {
        var s = typed("integer", fallback);
        s.put("minimum", min);
        s.put("maximum", max);
        declare(key, ConfigSchema.orVariable(s), false);
        return fallback;
    }

    @Override
    public boolean flag(String key, boolean fallback) {
        declare(key, ConfigSchema.orVariable(typed("boolean", fallback)), false);
        return fallback;
    }

    @Override
    public Duration duration(String key, Duration fallback) {
        declare(key, ConfigSchema.duration(fallback), false);
        return fallback != null ? fallback : Duration.ofSeconds(1);
    }

    @Override
    public InetSocketAddress hostPort(String key, String fallback) {
        declare(key, ConfigSchema.hostPort(fallback), false);
        return InetSocketAddress.createUnresolved("127.0.0.1", 0);
    }

    @Override
    public List<String> strings(String key) {
        declare(key, ConfigSchema.ordered("type", "array", "items", ConfigSchema.ordered("type", "string")), false);
        return List.of();
    }

    @Override
    public Map<String, String> map(String key) {
        declare(key, ConfigSchema.ordered("type", "object", "additionalProperties", ConfigSchema.ordered("type", "string")), false);
        return Map.of();
    }

    @Override
    public void problem(String key, String message) {
        // a rule between keys: not part of a schema of single keys
    }
}
