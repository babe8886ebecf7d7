package dev.ferry.app.config;

import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

/**
 * Reads and checks a Ferry YAML file before anything starts. Every problem is collected — unknown
 * keys, wrong types, impossible values, references to sinks that do not exist, unset
 * {@code ${ENV}} variables — each with the file, the line and the field's path, so one run shows
 * them all.
 */
public final class ConfigReader {

    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Set<String> SINK_TYPES = Set.of("log", "sqs", "http", "kafka");
    private static final Set<String> LEDGER_KINDS = Set.of("memory", "mvstore");

    private final String file;
    private final Function<String, String> env;
    private final List<ConfigError> errors = new ArrayList<>();

    private ConfigReader(String file, Function<String, String> env) {
        this.file = file;
        this.env = env;
    }

    /** The configuration, or the errors that stop it from being one. */
    public sealed interface Result {
        record Ok(FerryConfig config) implements Result {
        }

        record Invalid(List<ConfigError> errors) implements Result {
        }
    }

    public static Result read(Path path) {
        return read(path, System::getenv);
    }

    public static Result read(Path path, Function<String, String> env) {
        try {
            return parse(path.toString(), Files.readString(path), env);
        } catch (IOException e) {
            return new Result.Invalid(List.of(new ConfigError(path.toString(), 0, "(file)", "cannot read: " + e.getMessage())));
        }
    }

    public static Result parse(String file, String yaml, Function<String, String> env) {
        var reader = new ConfigReader(file, env);
        Node root;
        try {
            var settings = LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(false).build();
            root = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, yaml))).getSingleNode().orElse(null);
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            return new Result.Invalid(List.of(new ConfigError(file, line, "(yaml)", e.getProblem())));
        } catch (YamlEngineException e) {
            return new Result.Invalid(List.of(new ConfigError(file, 0, "(yaml)", e.getMessage())));
        }
        if (!(root instanceof MappingNode)) {
            return new Result.Invalid(List.of(new ConfigError(file, root == null ? 0 : line(root), "(root)",
                    "expected a mapping of settings (sources, sinks, routes, ...)")));
        }
        var config = reader.config(new Section(reader, "", (MappingNode) root));
        return reader.errors.isEmpty() ? new Result.Ok(config) : new Result.Invalid(List.copyOf(reader.errors));
    }

    static int line(Node node) {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    void error(Node node, String path, String message) {
        errors.add(new ConfigError(file, node == null ? 0 : line(node), path, message));
    }

    private FerryConfig config(Section root) {
        root.only("embedded-sqs", "aws", "ledger", "sources", "sinks", "routes", "listener", "stats-every");
        int embeddedPort = 0;
        var embedded = root.section("embedded-sqs");
        if (embedded != null) {
            embedded.only("port");
            embeddedPort = embedded.integer("port", 9324, 0, 65_535);
        }
        var awsSection = root.sectionOrEmpty("aws");
        awsSection.only("region", "endpoint");
        String endpoint = awsSection.string("endpoint", embeddedPort > 0 ? "http://127.0.0.1:" + embeddedPort : null);
        URI endpointUri = null;
        if (endpoint != null) {
            try {
                endpointUri = URI.create(endpoint);
                if (endpointUri.getScheme() == null || endpointUri.getHost() == null) {
                    throw new IllegalArgumentException("no scheme or host");
                }
            } catch (IllegalArgumentException e) {
                awsSection.error("endpoint", "not a URL: '" + endpoint + "'");
            }
        }
        var aws = new FerryConfig.Aws(awsSection.string("region", "us-east-1"), endpointUri);

        var ledgerSection = root.sectionOrEmpty("ledger");
        ledgerSection.only("kind", "path", "ttl");
        String kind = ledgerSection.oneOf("kind", "mvstore", LEDGER_KINDS);
        var ledger = new FerryConfig.Ledger(kind, Path.of(ledgerSection.string("path", "ferry-ledger.db")),
                ledgerSection.duration("ttl", Duration.ofDays(7)));

        var sources = new LinkedHashMap<String, FerryConfig.SourceSpec>();
        var sourcesSection = root.section("sources");
        if (sourcesSection == null || sourcesSection.keys().isEmpty()) {
            root.error("sources", "at least one source is needed");
        } else {
            for (var e : sourcesSection.children().entrySet()) {
                var s = e.getValue();
                s.only("sqs", "format", "allowed-senders");
                var sqs = s.section("sqs");
                String queue = null;
                if (sqs == null) {
                    s.error("sqs", "missing: where the source reads from (sqs: {queue: NAME})");
                } else {
                    sqs.only("queue");
                    queue = sqs.required("queue");
                }
                String format = s.string("format", "auto");
                try {
                    Codecs.named(format, JsonLimits.defaults());
                } catch (IllegalArgumentException ex) {
                    s.error("format", ex.getMessage());
                }
                sources.put(e.getKey(), new FerryConfig.SourceSpec(e.getKey(), queue, format,
                        new LinkedHashSet<>(s.strings("allowed-senders"))));
            }
        }

        var sinks = new LinkedHashMap<String, FerryConfig.SinkSpec>();
        var sinksSection = root.sectionOrEmpty("sinks");
        for (var e : sinksSection.children().entrySet()) {
            var s = e.getValue();
            String type = s.oneOf("type", null, SINK_TYPES);
            var options = new LinkedHashMap<String, String>();
            switch (type == null ? "" : type) {
                case "sqs" -> {
                    s.only("type", "queue");
                    options.put("queue", s.required("queue"));
                }
                case "http" -> {
                    s.only("type", "url", "method", "bearer-token-env", "timeout", "max-concurrent", "throttle-default");
                    String url = s.required("url");
                    if (url != null && !url.startsWith("http://") && !url.startsWith("https://")) {
                        s.error("url", "must start with http:// or https://, was '" + url + "'");
                    }
                    options.put("url", url);
                    options.put("method", s.oneOf("method", "POST", Set.of("POST", "PUT", "PATCH")));
                    putIfSet(options, "bearer-token-env", s.string("bearer-token-env", null));
                    options.put("timeout", Long.toString(s.duration("timeout", Duration.ofSeconds(10)).toMillis()));
                    options.put("max-concurrent", Integer.toString(s.integer("max-concurrent", 64, 1, 10_000)));
                    options.put("throttle-default",
                            Long.toString(s.duration("throttle-default", Duration.ofMinutes(5)).toMillis()));
                }
                case "kafka" -> {
                    s.only("type", "bootstrap-servers", "topic", "value-from-attribute");
                    options.put("bootstrap-servers", s.required("bootstrap-servers"));
                    options.put("topic", s.required("topic"));
                    putIfSet(options, "value-from-attribute", s.string("value-from-attribute", null));
                }
                default -> s.only("type");
            }
            sinks.put(e.getKey(), new FerryConfig.SinkSpec(e.getKey(), type, options));
        }

        var routes = new ArrayList<FerryConfig.RouteSpec>();
        int i = 0;
        for (var r : root.sections("routes")) {
            r.only("name", "match", "to");
            String name = r.string("name", "route-" + i);
            String type = null;
            String typePrefix = null;
            var match = r.section("match");
            if (match != null) {
                match.only("type", "type-prefix");
                type = match.string("type", null);
                typePrefix = match.string("type-prefix", null);
                if (type != null && typePrefix != null) {
                    match.error("type-prefix", "give either type or type-prefix, not both");
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
            routes.add(new FerryConfig.RouteSpec(name, type, typePrefix, to));
            i++;
        }
        if (routes.isEmpty()) {
            root.error("routes", "at least one route is needed, or every event would be dropped");
        }

        var l = root.sectionOrEmpty("listener");
        l.only("pollers", "concurrency", "lease", "max-receives", "max-attempts", "shutdown-deadline");
        var lease = l.duration("lease", Duration.ofSeconds(30));
        if (lease.compareTo(Duration.ofSeconds(2)) < 0 || lease.compareTo(Duration.ofHours(12)) > 0) {
            l.error("lease", "must be 2 s .. 12 h (the SQS visibility timeout Ferry extends halfway), was " + lease);
        }
        var listener = new FerryConfig.ListenerSpec(l.integer("pollers", 2, 1, 64), l.integer("concurrency", 16, 1, 1024),
                lease, l.integer("max-receives", 5, 1, 1000), l.integer("max-attempts", 5, 1, 1000),
                l.duration("shutdown-deadline", Duration.ofSeconds(20)));
        return new FerryConfig(file, embeddedPort, aws, ledger, sources, sinks, routes, listener,
                root.duration("stats-every", Duration.ofMinutes(1)));
    }

    private static void putIfSet(Map<String, String> options, String key, String value) {
        if (value != null) {
            options.put(key, value);
        }
    }

    /** A mapping in the file, with typed reads that record errors instead of throwing. */
    static final class Section {
        private final ConfigReader reader;
        private final String path;
        private final MappingNode node;
        private final Map<String, Node> values = new LinkedHashMap<>();
        private final Map<String, Node> keyNodes = new LinkedHashMap<>();

        Section(ConfigReader reader, String path, MappingNode node) {
            this.reader = reader;
            this.path = path;
            this.node = node;
            if (node != null) {
                for (var t : node.getValue()) {
                    if (t.getKeyNode() instanceof ScalarNode k) {
                        if (values.containsKey(k.getValue())) {
                            reader.error(k, at(k.getValue()), "duplicate key (first at line "
                                    + line(keyNodes.get(k.getValue())) + ")");
                        }
                        values.put(k.getValue(), t.getValueNode());
                        keyNodes.put(k.getValue(), k);
                    }
                }
            }
        }

        private String at(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        Set<String> keys() {
            return values.keySet();
        }

        void error(String key, String message) {
            reader.error(values.getOrDefault(key, node), at(key), message);
        }

        void only(String... allowed) {
            var ok = Set.of(allowed);
            for (var key : values.keySet()) {
                if (!ok.contains(key)) {
                    reader.error(keyNodes.get(key), at(key), "unknown key; expected one of " + List.of(allowed));
                }
            }
        }

        Section section(String key) {
            var n = values.get(key);
            if (n == null) {
                return null;
            }
            if (n instanceof MappingNode m) {
                return new Section(reader, at(key), m);
            }
            error(key, "expected a mapping");
            return null;
        }

        Section sectionOrEmpty(String key) {
            var s = section(key);
            return s != null ? s : new Section(reader, at(key), null);
        }

        Map<String, Section> children() {
            var out = new LinkedHashMap<String, Section>();
            for (var key : values.keySet()) {
                var s = section(key);
                if (s != null) {
                    out.put(key, s);
                }
            }
            return out;
        }

        /** The items of a list; empty (with an error when it is something else) when not a list. */
        private List<Node> items(String key) {
            var n = values.get(key);
            if (n == null) {
                return List.of();
            }
            if (!(n instanceof SequenceNode seq)) {
                error(key, "expected a list");
                return List.of();
            }
            return seq.getValue();
        }

        List<Section> sections(String key) {
            var out = new ArrayList<Section>();
            int i = 0;
            for (var item : items(key)) {
                if (item instanceof MappingNode m) {
                    out.add(new Section(reader, at(key) + "[" + i + "]", m));
                } else {
                    reader.error(item, at(key) + "[" + i + "]", "expected a mapping");
                }
                i++;
            }
            return out;
        }

        String string(String key, String fallback) {
            var n = values.get(key);
            if (n == null) {
                return fallback;
            }
            if (!(n instanceof ScalarNode s)) {
                error(key, "expected a single value");
                return fallback;
            }
            return substitute(key, s.getValue());
        }

        String required(String key) {
            String v = string(key, null);
            if (v == null || v.isBlank()) {
                if (!values.containsKey(key)) {
                    reader.error(node, at(key), "missing");
                } else {
                    error(key, "must not be empty");
                }
            }
            return v;
        }

        String oneOf(String key, String fallback, Set<String> allowed) {
            String v = fallback == null ? required(key) : string(key, fallback);
            if (v != null && !allowed.contains(v)) {
                error(key, "'" + v + "' is not one of " + allowed.stream().sorted().toList());
            }
            return v;
        }

        int integer(String key, int fallback, int min, int max) {
            String v = string(key, null);
            if (v == null) {
                return fallback;
            }
            try {
                int i = Integer.parseInt(v.trim());
                if (i < min || i > max) {
                    error(key, "must be " + min + ".." + max + ", was " + i);
                    return fallback;
                }
                return i;
            } catch (NumberFormatException e) {
                error(key, "expected a whole number, was '" + v + "'");
                return fallback;
            }
        }

        Duration duration(String key, Duration fallback) {
            String v = string(key, null);
            if (v == null) {
                return fallback;
            }
            Matcher m = DURATION.matcher(v.trim());
            if (!m.matches()) {
                error(key, "expected a duration like 500ms, 30s, 5m, 2h or 7d, was '" + v + "'");
                return fallback;
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }

        List<String> strings(String key) {
            var out = new ArrayList<String>();
            for (var item : items(key)) {
                if (item instanceof ScalarNode s) {
                    out.add(substitute(key, s.getValue()));
                } else {
                    reader.error(item, at(key), "expected a single value in the list");
                }
            }
            return out;
        }

        private String substitute(String key, String value) {
            var m = ENV.matcher(value);
            var sb = new StringBuilder();
            while (m.find()) {
                String v = reader.env.apply(m.group(1));
                if (v == null) {
                    v = m.group(2);
                }
                if (v == null) {
                    error(key, "environment variable " + m.group(1) + " is not set (write ${" + m.group(1)
                            + ":-default} for a default)");
                    v = "";
                }
                m.appendReplacement(sb, Matcher.quoteReplacement(v));
            }
            m.appendTail(sb);
            return sb.toString();
        }
    }
}
