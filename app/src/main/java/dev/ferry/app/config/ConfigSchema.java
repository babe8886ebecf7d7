package dev.ferry.app.config;

import dev.ferry.app.Adapters;
import dev.ferry.app.Json;
import dev.ferry.app.logging.FerryLogging;
import dev.ferry.domain.spi.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The configuration file's JSON Schema ({@code ferry config schema}), for editors that complete and
 * check YAML against one. The adapters' sections come from the adapters themselves: each provider's
 * {@code configure} runs on a {@link DeclaredSettings} that writes down every key it reads, once
 * for each value of every choice it makes, so conditional keys are found too. Values may also be
 * {@code ${VAR}} references, which a schema cannot check: those are accepted as strings.
 */
public final class ConfigSchema {

    private static final String VARIABLE = ".*\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?}.*";
    private static final String DURATION = "^\\s*((\\d+(ms|s|m|h|d))+|[Pp][0-9A-Za-z.]+)\\s*$";

    private ConfigSchema() {
    }

    /** The schema, as JSON. */
    public static String json(Adapters adapters) {
        return Json.write(schema(adapters));
    }

    /** The schema as maps and lists. */
    public static Map<String, Object> schema(Adapters adapters) {
        var root = object();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.put("$id", "https://ferry.dev/schema/ferry-config.json");
        root.put("title", "Ferry configuration");
        root.put("description", "One Ferry process: where events come from, where they go, how they are handled.");
        var p = properties(root);
        p.put("embedded-sqs", object("port", described(orVariable(integer(9324, 1, 65_535)),
                "the port of the SQS-compatible server started on 127.0.0.1")));
        p.put("aws", object("region", described(string(null), "default: the AWS SDK's chain (AWS_REGION, the profile, the instance)"),
                "endpoint", described(string(null), "the SQS endpoint (the DynamoDB ledger takes its own, ledger.endpoint); default: AWS itself, or the embedded server")));
        p.put("ledger", ledger(adapters));
        p.put("sources", map(source(adapters), "each source by its name"));
        p.put("sinks", map(sink(adapters), "each sink by its name"));
        p.put("routes", route());
        p.put("unmatched", described(enumOf("dead-letter", "dead-letter", "ignore"), "an event no route matches"));
        p.put("listener", object("pollers", orVariable(integer(2, 1, 64)), "concurrency", orVariable(integer(64, 1, 1024)),
                "lease", duration(Duration.ofSeconds(30)), "extend-every", duration(null),
                "extend-leases", orVariable(bool(true)), "max-receives", orVariable(integer(5, 1, 1000)),
                "max-attempts", orVariable(integer(5, 1, 1000)), "shutdown-deadline", duration(Duration.ofSeconds(20)),
                "hold-limit", duration(Duration.ofMinutes(5)), "max-in-flight", orVariable(integer(null, 10, 100_000)),
                "handler-timeout", duration(AppSections.DEFAULT_HANDLER_TIMEOUT)));
        var statsEvery = new LinkedHashMap<String, Object>();
        statsEvery.put("anyOf", List.of(duration(Duration.ofMinutes(1)), ConfigSchema.ordered("const", "off")));
        p.put("stats-every", described(statsEvery, "a statistics line per source; off for none"));
        p.put("metrics", object("listen", hostPort("127.0.0.1:9464")));
        var adminListen = new LinkedHashMap<String, Object>();
        adminListen.put("anyOf", List.of(hostPort("127.0.0.1:9465"), ConfigSchema.ordered("const", "off")));
        p.put("admin", object("listen", adminListen, "stall-after", duration(LivenessBounds.DEFAULT_STALL_AFTER),
                "token", described(string(null), "what requests that change anything (releasing a parked group) must "
                        + "bring as Authorization: Bearer TOKEN; at least 16 characters; none: nothing may be changed")));
        p.put("logging", object("level", enumOf("info", FerryLogging.LEVELS.toArray(String[]::new)),
                "format", enumOf("text", FerryLogging.FORMATS.toArray(String[]::new)),
                "levels", ConfigSchema.ordered("type", "object", "additionalProperties", enumOf(null, FerryLogging.LEVELS.toArray(String[]::new)))));
        p.put("tracing", object("otlp-endpoint", described(string(null), "an OpenTelemetry collector, e.g. http://127.0.0.1:4318"),
                "service-name", string("ferry"), "sample-ratio", orVariable(number(1.0, 0, 1))));
        root.put("required", List.of("sources", "routes"));
        return root;
    }

    private static Map<String, Object> ledger(Adapters adapters) {
        var s = object();
        var p = properties(s);
        p.put("kind", enumOf("mvstore", adapters.ledgers().keySet().toArray(String[]::new)));
        p.put("ttl", duration(Duration.ofDays(7)));
        var branches = new ArrayList<Object>();
        for (var e : new java.util.TreeMap<>(adapters.ledgers()).entrySet()) {
            var keys = declared("ledger kind '" + e.getKey() + "'", e.getValue(), e.getValue()::configure);
            keys.forEach((k, v) -> p.putIfAbsent(k, v.schema()));
            branches.add(when("kind", e.getKey(), keys));
        }
        s.put("allOf", branches);
        return s;
    }

    private static Map<String, Object> source(Adapters adapters) {
        var s = object();
        var p = properties(s);
        for (var e : new java.util.TreeMap<>(adapters.sources()).entrySet()) {
            p.put(e.getKey(), section(declared("source '" + e.getKey() + "'", e.getValue(), e.getValue()::configure),
                    "reads from " + e.getKey()));
        }
        p.put("format", enumOf("auto", "auto", "s3", "mturk", "sns", "sns+s3", "sns+mturk", "json", "raw"));
        p.put("json", object("id", string("/id"), "type", string(null), "group", string(null), "time", string(null),
                "default-type", string("json")));
        p.put("ledger-scope", described(string(null), "the scope of this source's event keys in the ledger; 'shared' for all"));
        p.put("on-poison", described(enumOf("skip", "skip", "park"), "when a message of an ordered group is dead-lettered: "
                + "the group goes on (skip) or waits in the DLQ until released (park)"));
        s.put("minProperties", 1);
        return s;
    }

    private static Map<String, Object> sink(Adapters adapters) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "object");
        s.put("additionalProperties", false);
        s.put("required", List.of("type"));
        var p = properties(s);
        p.put("type", enumOf(null, adapters.sinks().keySet().toArray(String[]::new)));
        var branches = new ArrayList<Object>();
        for (var e : new java.util.TreeMap<>(adapters.sinks()).entrySet()) {
            var keys = declared("sink type '" + e.getKey() + "'", e.getValue(), e.getValue()::configure);
            keys.forEach((k, v) -> p.putIfAbsent(k, v.schema()));
            branches.add(when("type", e.getKey(), keys));
        }
        s.put("allOf", branches);
        return s;
    }

    private static Map<String, Object> route() {
        var match = object("type", string(null), "types", strings(), "type-prefix", string(null), "not-types", strings(),
                "attributes", ConfigSchema.ordered("type", "object", "additionalProperties", ConfigSchema.ordered("type", "string")));
        var r = object("name", string(null), "match", match, "to", strings());
        r.put("required", List.of("to"));
        return ConfigSchema.ordered("type", "array", "items", r);
    }

    /** {@code if key == value then only these keys (and the section's own) may be there}. */
    private static Map<String, Object> when(String key, String value, Map<String, DeclaredSettings.Key> keys) {
        var condition = ConfigSchema.ordered("properties", ConfigSchema.ordered(key, ConfigSchema.ordered("const", value)), "required", List.of(key));
        var then = new LinkedHashMap<String, Object>();
        var required = keys.entrySet().stream().filter(k -> k.getValue().required()).map(Map.Entry::getKey).toList();
        if (!required.isEmpty()) {
            then.put("required", required);
        }
        return ConfigSchema.ordered("if", condition, "then", then);
    }

    /**
     * Every key a provider reads, each choice it makes explored; required only where every branch requires it.
     * {@code adapter} names it as {@code ferry validate} does ("sink type 'x'"), {@code provider} tells its jar.
     */
    static Map<String, DeclaredSettings.Key> declared(String adapter, Object provider, Function<Settings, ?> configure) {
        var first = run(adapter, provider, configure, Map.of());
        var all = new LinkedHashMap<>(first.keys());
        var requiredEverywhere = new LinkedHashSet<String>();
        first.keys().forEach((k, v) -> {
            if (v.required()) {
                requiredEverywhere.add(k);
            }
        });
        for (var choice : first.choices().entrySet()) {
            for (String value : choice.getValue()) {
                var branch = run(adapter, provider, configure, Map.of(choice.getKey(), value));
                branch.keys().forEach(all::putIfAbsent);
                requiredEverywhere.removeIf(k -> !branch.keys().containsKey(k) || !branch.keys().get(k).required());
            }
        }
        var out = new LinkedHashMap<String, DeclaredSettings.Key>();
        all.forEach((k, v) -> out.put(k, new DeclaredSettings.Key(v.schema(), requiredEverywhere.contains(k))));
        return out;
    }

    private static DeclaredSettings run(String adapter, Object provider, Function<Settings, ?> configure,
                                        Map<String, String> answers) {
        var settings = new DeclaredSettings(answers);
        try {
            configure.apply(settings);
        } catch (RuntimeException standInsRefused) {
            // what was read before a stand-in value was refused is declared all the same
        } catch (LinkageError | AssertionError broken) {
            // a plugin built against classes the app has not: an Error, which picocli lets through, and the JVM's last
            // catch said "ferry: java.lang.NoClassDefFoundError: ...", exit 1, no plugin named. Said as validate says it
            throw new UnreadableAdapter("the " + adapter + " adapter could not read its settings: "
                    + dev.ferry.domain.model.Thrown.describe(broken) + from(provider), broken);
        }
        return settings;
    }

    /** " (from JAR)" for an adapter whose class comes from another file than the app's (a plugin's jar), else "". */
    private static String from(Object provider) {
        try {
            var source = provider.getClass().getProtectionDomain().getCodeSource();
            var own = ConfigSchema.class.getProtectionDomain().getCodeSource();
            return source == null || source.getLocation() == null
                    || own != null && source.getLocation().equals(own.getLocation()) ? ""
                    : " (from " + source.getLocation().getPath() + ")";
        } catch (RuntimeException unknown) { // not told: the adapter is named all the same
            return "";
        }
    }

    /**
     * An adapter whose reading of its settings failed other than by refusing a stand-in value: no schema can be
     * written for it. {@code ferry config schema} says so and exits 2, as {@code ferry validate} does for that adapter.
     */
    public static final class UnreadableAdapter extends RuntimeException {

        UnreadableAdapter(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static Map<String, Object> section(Map<String, DeclaredSettings.Key> keys, String description) {
        var s = object();
        var p = properties(s);
        keys.forEach((k, v) -> p.put(k, v.schema()));
        var required = keys.entrySet().stream().filter(e -> e.getValue().required()).map(Map.Entry::getKey).toList();
        if (!required.isEmpty()) {
            s.put("required", required);
        }
        s.put("description", description);
        return s;
    }

    // ---- building blocks

    /** A map that keeps its keys in the order given: the schema comes out the same on every run. */
    static Map<String, Object> ordered(Object... keyAndValue) {
        var m = new LinkedHashMap<String, Object>();
        for (int i = 0; i < keyAndValue.length; i += 2) {
            m.put((String) keyAndValue[i], keyAndValue[i + 1]);
        }
        return m;
    }

    private static LinkedHashMap<String, Object> object(Object... keyAndSchema) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "object");
        s.put("additionalProperties", false);
        var p = new LinkedHashMap<String, Object>();
        for (int i = 0; i < keyAndSchema.length; i += 2) {
            p.put((String) keyAndSchema[i], keyAndSchema[i + 1]);
        }
        s.put("properties", p);
        return s;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> properties(Map<String, Object> object) {
        return (Map<String, Object>) object.computeIfAbsent("properties", k -> new LinkedHashMap<String, Object>());
    }

    private static Map<String, Object> map(Map<String, Object> values, String description) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "object");
        s.put("additionalProperties", values);
        s.put("description", description);
        return s;
    }

    private static Map<String, Object> described(Map<String, Object> schema, String description) {
        var s = new LinkedHashMap<>(schema);
        s.put("description", description);
        return s;
    }

    private static Map<String, Object> string(String fallback) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "string");
        if (fallback != null) {
            s.put("default", fallback);
        }
        return s;
    }

    private static Map<String, Object> strings() {
        return ConfigSchema.ordered("type", "array", "items", ConfigSchema.ordered("type", "string"));
    }

    private static Map<String, Object> integer(Integer fallback, int min, int max) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "integer");
        s.put("minimum", min);
        s.put("maximum", max);
        if (fallback != null) {
            s.put("default", fallback);
        }
        return s;
    }

    private static Map<String, Object> number(double fallback, double min, double max) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "number");
        s.put("minimum", min);
        s.put("maximum", max);
        s.put("default", fallback);
        return s;
    }

    private static Map<String, Object> bool(boolean fallback) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "boolean");
        s.put("default", fallback);
        return s;
    }

    private static Map<String, Object> enumOf(String fallback, String... values) {
        var s = new LinkedHashMap<String, Object>();
        s.put("enum", List.copyOf(new TreeSet<>(List.of(values))));
        if (fallback != null) {
            s.put("default", fallback);
        }
        return s;
    }

    /** A number or flag, or a {@code ${VAR}} that becomes one. */
    static Map<String, Object> orVariable(Map<String, Object> schema) {
        return ConfigSchema.ordered("anyOf", List.of(schema, ConfigSchema.ordered("type", "string", "pattern", VARIABLE)));
    }

    static Map<String, Object> duration(Duration fallback) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "string");
        s.put("pattern", DURATION + "|" + VARIABLE);
        s.put("description", "a duration: 500ms, 30s, 1m30s, 2h, 7d, or ISO-8601 (PT30S)");
        if (fallback != null) {
            s.put("default", dev.ferry.domain.model.Durations.text(fallback));
        }
        return s;
    }

    static Map<String, Object> hostPort(String fallback) {
        var s = new LinkedHashMap<String, Object>();
        s.put("type", "string");
        s.put("pattern", "^[^:\\s]+:\\d{1,5}$|" + VARIABLE);
        s.put("description", "HOST:PORT");
        if (fallback != null) {
            s.put("default", fallback);
        }
        return s;
    }
}
