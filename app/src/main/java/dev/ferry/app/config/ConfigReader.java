package dev.ferry.app.config;

import dev.ferry.adapters.sqs.SqsSinkConfig;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.Adapters;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.spi.OpenedSource;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.spi.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

/**
 * Reads and checks a Ferry YAML file before anything starts. Every problem is collected — unknown
 * keys, wrong types, impossible values, references to sinks that do not exist, unset
 * {@code ${ENV}} variables — each with the file, the line and the field's path, so one run shows
 * them all.
 */
public final class ConfigReader {

    static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Set<String> FORMATS = Set.of("auto", "s3", "mturk", "sns", "sns+s3", "sns+mturk", "json", "raw");
    private static final Set<String> ON_POISON = new LinkedHashSet<>(List.of("skip", "park"));

    private final String file;
    final Function<String, String> env;
    private final Adapters adapters;
    final List<ConfigError> errors = new ArrayList<>();

    private ConfigReader(String file, Function<String, String> env, Adapters adapters) {
        this.file = file;
        this.env = env;
        this.adapters = adapters;
    }

    /** The configuration, or the errors that stop it from being one. */
    public sealed interface Result {
        record Ok(FerryConfig config) implements Result {
        }

        record Invalid(List<ConfigError> errors) implements Result {
        }
    }

    /**
     * Reads {@code path}, whose source transports, sink types and ledger kinds are those of
     * {@code adapters}; {@code env} gives the {@code ${VAR}} values.
     */
    public static Result read(Path path, Function<String, String> env, Adapters adapters) {
        return switch (ConfigFileText.of(path)) {
            case ConfigFileText.Read.Text text -> parse(path.toString(), text.text(), env, adapters);
            case ConfigFileText.Read.Refused refused -> new Result.Invalid(List.of(refused.error()));
        };
    }

    public static Result parse(String file, String yaml, Function<String, String> env, Adapters adapters) {
        var reader = new ConfigReader(file, env, adapters);
        Node root;
        try {
            var settings = LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(false).build();
            root = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, yaml))).getSingleNode().orElse(null);
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            return new Result.Invalid(List.of(new ConfigError(file, line, "(yaml)", e.getProblem())));
        } catch (YamlEngineException e) {
            return new Result.Invalid(List.of(new ConfigError(file, 0, "(yaml)", e.getMessage())));
        } catch (StackOverflowError e) { // the parser recurses once per level: [[[[... a few thousand deep
            return new Result.Invalid(List.of(new ConfigError(file, 0, "(yaml)", "nested too deeply to read")));
        }
        if (!(root instanceof MappingNode)) {
            return new Result.Invalid(List.of(new ConfigError(file, root == null ? 0 : line(root), "(root)",
                    "expected a mapping of settings (sources, sinks, routes, ...)")));
        }
        YamlTags.check(root, reader);
        var config = reader.config(new Section(reader, "", (MappingNode) root));
        reader.read = true;
        // in the order of the file's lines, as an editor shows them (the order found within a line kept)
        var errors = reader.errors.stream().sorted(java.util.Comparator.comparingInt(ConfigError::line)).toList();
        return errors.isEmpty() ? new Result.Ok(config) : new Result.Invalid(errors);
    }

    /** {@code 30s}, {@code 1m30s}, {@code 1h5m}, {@code 7d}, {@code 500ms} or ISO-8601; null when none (see {@link AppSections}). */
    public static Duration parseDuration(String text) {
        return AppSections.parseDuration(text);
    }

    static int line(Node node) {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    /** The file has been read: a problem an adapter reports now (from its plan's open) cannot join the list. */
    private volatile boolean read;

    void error(Node node, String path, String message) {
        var error = new ConfigError(file, node == null ? 0 : line(node), path, message);
        if (read) {
            // reported from an adapter's open, after the errors were collected: it was dropped and the run started
            throw new IllegalStateException(error.toString());
        }
        if (!errors.contains(error)) { // one section read twice (admin's by two readers) said each problem twice
            errors.add(error);
        }
    }

    private FerryConfig config(Section root) {
        root.only("embedded-sqs", "aws", "ledger", "sources", "sinks", "routes", "unmatched", "listener", "stats-every",
                "metrics", "logging", "admin", "tracing");
        int embeddedPort = 0;
        var embedded = root.section("embedded-sqs");
        if (embedded != null) {
            embedded.only("port");
            embeddedPort = embedded.integer("port", 9324, 1, 65_535); // 0 would read as "no embedded server": real AWS
            if (!AppSections.embeddedServerAvailable()) {
                root.error("embedded-sqs", "this is ferry-slim.jar, which carries no embedded SQS server: run the local "
                        + "example with ferry.jar, or point aws.endpoint at an SQS server");
            }
        }
        var aws = AppSections.aws(root, embeddedPort);
        var l = root.sectionOrEmpty("listener");
        var listener = AppSections.listener(l);

        var ledgerSection = root.sectionOrEmpty("ledger");
        String kind = adapter(ledgerSection, "kind", "mvstore", adapters.ledgers().keySet());
        var ttl = ledgerSection.duration("ttl", Duration.ofDays(7));
        var redeliveries = listener.lease().multipliedBy(listener.maxReceives());
        if (ttl.compareTo(redeliveries) < 0) {
            if (ledgerSection.has("ttl")) {
                ledgerSection.error("ttl", "must outlast every redelivery of a message (max-receives x lease = "
                        + redeliveries.toSeconds() + "s), or a late duplicate is handled twice; was " + ttl.toSeconds() + "s");
            } else { // blame what the user wrote, not a default they never saw
                l.error(l.has("max-receives") ? "max-receives" : "lease", "max-receives x lease = " + redeliveries.toSeconds()
                        + "s outlasts the ledger's default ttl of 7d, so a late duplicate would be handled twice; set "
                        + "ledger.ttl longer than that, or lower these");
            }
        }
        var ledgerProvider = adapters.ledgers().get(kind);
        var ledger = new FerryConfig.Ledger(kind, ledgerProvider == null ? null
                : configure(ledgerSection, "ledger kind '" + kind + "'", ledgerProvider::configure), ttl);
        if (ledgerProvider != null) {
            ledgerSection.reportUnread();
        }

        var sources = new LinkedHashMap<String, FerryConfig.SourceSpec>();
        var sourcesSection = root.section("sources");
        Map<String, Section> sourceSections = Map.of();
        if (sourcesSection == null || sourcesSection.keys().isEmpty()) {
            root.error("sources", "at least one source is needed");
        } else {
            var queues = new java.util.HashMap<String, SqsSourceConfig>(); // the SQS sources so far, by name
            sourceSections = sourcesSection.children();
            for (var e : sourceSections.entrySet()) {
                var source = source(e.getKey(), e.getValue());
                sources.put(e.getKey(), source);
                if (source.plan() instanceof SqsSourceConfig sqs && sqs.queue() != null) {
                    String queue = sqs.queueName(); // a name, a URL's last segment or an ARN's last part: the same queue
                    String first = sameQueue(queues, sqs);
                    queues.put(e.getKey(), sqs);
                    if (first != null) {
                        // two listeners on one queue: each orders groups on its own and claims in its own scope, so a
                        // message both receive (a lease run out, SQS's at-least-once) is handled twice, out of order
                        e.getValue().error("sqs", "source '" + first + "' reads queue " + queue + " already"
                                + SharedTransports.mayBeTwo(queues.get(first).queueAccount(), sqs.queueAccount())
                                + "; one source per queue (raise listener.concurrency or pollers for more throughput)");
                    }
                }
                if (source.onPoison() == OnPoison.PARK && "memory".equals(kind)) {
                    e.getValue().error("on-poison", "park keeps parked groups in the ledger, and ledger kind memory forgets "
                            + "them on restart: the group's next messages would overtake those parked; use mvstore or dynamodb");
                }
            }
            LedgerScopes.warnBorrowed(sources);
        }

        var sinks = new LinkedHashMap<String, FerryConfig.SinkSpec>();
        var sinkSections = new LinkedHashMap<String, Section>();
        for (var e : root.sectionOrEmpty("sinks").children().entrySet()) {
            var s = e.getValue();
            String type = adapter(s, "type", null, adapters.sinks().keySet());
            var provider = type == null ? null : adapters.sinks().get(type);
            sinks.put(e.getKey(), new FerryConfig.SinkSpec(e.getKey(), type, provider == null ? null
                    // named by its whole key: a sink 'orders.out' is not 'out' (two such sinks shared their metrics)
                    : configure(s.named(e.getKey()), "sink type '" + type + "'", provider::configure)));
            sinkSections.put(e.getKey(), s);
            if (provider != null) {
                s.reportUnread();
            }
        }

        var routes = RouteSections.routes(root, sinks);
        fifoSinksNeedGroups(sources, sinks, sinkSections);
        SharedTransports.check(sources, sourceSections, sinks, sinkSections, routes);

        var metrics = AppSections.metrics(root);
        var admin = AppSections.admin(root, env, metrics);
        var fitted = LivenessBounds.fit(root, l, listener, admin, metrics != null, SinkCalls.of(routes, sinks));
        listener = fitted.listener();
        admin = fitted.admin();
        SharedTransports.onePortEach(root, embeddedPort, sources, sourceSections, metrics, admin.listen());
        boolean deadLetterUnmatched = "dead-letter".equals(root.oneOf("unmatched", "dead-letter", Set.of("ignore", "dead-letter")));
        return new FerryConfig(file, embeddedPort, aws, ledger, sources, sinks, routes, listener,
                AppSections.statsEvery(root), metrics, deadLetterUnmatched, AppSections.logging(root),
                admin,
                AppSections.tracing(root));
    }

    /**
     * The source among {@code others} that reads the queue {@code sqs} names, or null: the same name,
     * in the same account where both say which (a bare name is the caller's account, which may be either).
     */
    private static String sameQueue(Map<String, SqsSourceConfig> others, SqsSourceConfig sqs) {
        for (var other : others.entrySet()) {
            var o = other.getValue();
            if (SharedTransports.sameQueue(o.queueName(), o.queueAccount(), sqs.queueName(), sqs.queueAccount(), true)) {
                return other.getKey();
            }
        }
        return null;
    }

    /** A sink type or ledger kind: one of the adapters' names, an unknown one told where plugins were not found. */
    private String adapter(Section s, String key, String fallback, java.util.Set<String> known) {
        String v = fallback == null ? s.required(key) : s.string(key, fallback);
        if (v != null && !known.contains(v)) {
            s.error(key, "'" + v + "' is not one of " + known.stream().sorted().toList() + adapters.pluginsMissing());
        }
        return v;
    }

    private FerryConfig.SourceSpec source(String name, Section s) {
        var transports = s.keys().stream().filter(adapters.sources()::containsKey).toList();
        String transport = null;
        Plan<OpenedSource> plan = null;
        if (transports.size() != 1) {
            if (transports.isEmpty()) {
                s.errorHere("where the source reads from is missing: one of " + Adapters.names(adapters.sources())
                        + " (e.g. sqs: {queue: NAME})" + adapters.pluginsMissing());
            } else {
                s.error(transports.get(1), "a source reads from one place; found " + transports);
            }
        } else {
            transport = transports.getFirst();
            var section = s.section(transport);
            if (section != null) {
                plan = configure(section.named(name), "source '" + transport + "'", adapters.sources().get(transport)::configure);
                section.reportUnread();
            }
        }
        String format = s.oneOf("format", "auto", FORMATS);
        FerryConfig.JsonPointers json = null;
        var pointers = s.section("json");
        if ("json".equals(format)) {
            var p = pointers != null ? pointers : s.sectionOrEmpty("json");
            p.only("id", "type", "group", "time", "default-type");
            json = new FerryConfig.JsonPointers(pointer(p, "id", "/id"), pointer(p, "type", null), pointer(p, "group", null),
                    pointer(p, "time", null), p.string("default-type", "json"));
            notNested(p, json);
        } else if (pointers != null) {
            s.error("json", "only used with format: json");
        }
        String ledgerScope = s.string("ledger-scope", null);
        if (ledgerScope != null && ledgerScope.isBlank()) {
            s.error("ledger-scope", "a scope is a name (or 'shared'), was empty");
        }
        var onPoison = "park".equals(s.oneOf("on-poison", "skip", ON_POISON)) ? OnPoison.PARK : OnPoison.SKIP;
        boolean ordered = "kafka".equals(transport) || plan instanceof SqsSourceConfig sqs && sqs.fifo();
        if (onPoison == OnPoison.PARK && transport != null && !ordered) {
            s.error("on-poison", "park is for SQS FIFO and Kafka sources, whose groups (keys) ferry groups release can "
                    + "put back in order; this source reads from "
                    + ("sqs".equals(transport) ? "a standard queue, which has no groups" : transport));
        }
        s.only(Stream.concat(FerryConfig.SourceSpec.KEYS.stream(), adapters.sources().keySet().stream())
                .toArray(String[]::new));
        return new FerryConfig.SourceSpec(name, transport, plan, format, json, ledgerScope, onPoison);
    }

    /**
     * An adapter's reading of its section. Adapters may come from plugin jars: whatever one throws
     * becomes an error of the file, never a crash.
     */
    private static <T> T configure(Section section, String adapter, Function<Settings, T> configure) {
        try {
            return configure.apply(section);
        } catch (RuntimeException | LinkageError | AssertionError e) { // a plugin built against other classes, too
            section.errorHere("the " + adapter + " adapter could not read its settings: " + dev.ferry.domain.model.Thrown.describe(e));
            section.adapterFailed();
            return null;
        }
    }

    /** A pointer holding another (type /a, id /a/b) would read an object where a value is wanted: every event malformed. */
    private static void notNested(Section p, FerryConfig.JsonPointers json) {
        var named = new java.util.LinkedHashMap<String, String>();
        named.put("id", json.id());
        named.put("type", json.type());
        named.put("group", json.group());
        named.put("time", json.time());
        named.forEach((outer, o) -> named.forEach((inner, i) -> {
            if (o != null && i != null && i.startsWith(o + "/")) {
                p.error(outer, o + " holds " + inner + " " + i + ": it would read an object there, and every event would be "
                        + "malformed");
            }
        }));
    }

    private static String pointer(Section p, String key, String fallback) {
        String v = p.string(key, fallback);
        if (v != null && v.isEmpty()) { // passed the check, then refused the start: "JSON Pointer must start with '/'"
            p.error(key, "a JSON Pointer starts with / (e.g. /order/id); leave " + key + " out to read none");
        } else if (v != null && !v.startsWith("/")) {
            p.error(key, "a JSON Pointer starts with / (e.g. /order/id), was '" + v + "'");
        }
        return v;
    }

    /**
     * A FIFO SQS sink puts every message in a group: the event's group key unless the sink names
     * one group. Refuses a FIFO sink without one when a source's events may have no group key: one
     * its format reads (s3, mturk, a json group pointer), or the delivery's own, which raw, auto,
     * sns and json (where the pointer finds nothing) pass on from a FIFO queue or a Kafka key.
     */
    private void fifoSinksNeedGroups(Map<String, FerryConfig.SourceSpec> sources, Map<String, FerryConfig.SinkSpec> sinks,
                                     Map<String, Section> sections) {
        for (var sink : sinks.values()) {
            if (!(sink.plan() instanceof SqsSinkConfig sqs) || !sqs.fifo() || sqs.messageGroup() != null) {
                continue;
            }
            for (var source : sources.values()) {
                if (!hasGroupKeys(source)) {
                    sections.get(sink.name()).error("queue", "queue '" + sqs.queue() + "' is FIFO, so every message needs a "
                            + "group, but the events of source '" + source.name() + "' (format " + source.format()
                            + ", " + (source.transport() == null ? "?" : source.transport()) + ") may have no group key; "
                            + "set message-group: NAME for one ordered stream, or use a format with group keys");
                    break;
                }
            }
        }
    }

    private static boolean hasGroupKeys(FerryConfig.SourceSpec source) {
        return switch (source.format()) {
            case "s3", "mturk", "sns+s3", "sns+mturk" -> true;
            // a json source without a group pointer was refused here, its events then keyless: they now carry the
            // delivery's group, as raw's do, so a FIFO queue or a Kafka topic gives them one
            case "json" -> (source.json() != null && source.json().group() != null) || groupedDeliveries(source);
            default -> groupedDeliveries(source);
        };
    }

    /**
     * Whether the source gives its deliveries a group: a FIFO queue's MessageGroupId, a Kafka record's key. A standard
     * queue gives none, nor an HTTP source (X-Ferry-Group is the client's to send or not).
     */
    private static boolean groupedDeliveries(FerryConfig.SourceSpec source) {
        return source.plan() instanceof SqsSourceConfig sqs ? sqs.fifo() : "kafka".equals(source.transport());
    }
}
