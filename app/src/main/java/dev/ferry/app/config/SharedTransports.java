package dev.ferry.app.config;

import dev.ferry.adapters.http.HttpSourceConfig;
import dev.ferry.adapters.kafka.KafkaSinkConfig;
import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.adapters.sqs.SqsSinkConfig;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Sources and sinks that share what they read or write, in ways that break the promise: two Kafka
 * sources on one topic, in one consumer group or two (each handles records the other handles too:
 * {@link SharedTopics}), two sinks that write one queue or topic for one event (written there twice),
 * and a sink that writes to a source's own queue or topic (each copy is a new message, a new event:
 * handled and written again, for ever). And two servers of one file on one port: validated, then the second failed at
 * start ("Address already in use"), blamed on a key that did not move it.
 */
final class SharedTransports {

    private SharedTransports() {
    }

    /** Two file sinks on one file: validated, then the second refused at start (the first holds the file's lock). */
    private static void oneFilePerSink(Map<String, FerryConfig.SinkSpec> sinks, Map<String, Section> sinkSections) {
        var files = new java.util.HashMap<java.nio.file.Path, String>();
        for (var sink : sinks.values()) {
            var section = sinkSections.get(sink.name());
            // as written, variables left out: read again here, each problem of it was said twice, an unset one made a
            // path of "" that every such sink shared
            String path = section == null || !"file".equals(sink.type()) ? null : section.plain("path");
            java.nio.file.Path file;
            try {
                file = path == null ? null : FilePaths.of(path).toAbsolutePath().normalize();
            } catch (RuntimeException invalid) { // a path no file can have: said when the sink opens it
                continue;
            }
            String first = file == null ? null : files.putIfAbsent(file, sink.name());
            if (first != null) {
                section.error("path", "sink '" + first + "' writes " + file + " already; give each file sink a file of "
                        + "its own (the second would be refused at start)");
            }
        }
    }

    static void check(Map<String, FerryConfig.SourceSpec> sources, Map<String, Section> sourceSections,
                      Map<String, FerryConfig.SinkSpec> sinks, Map<String, Section> sinkSections,
                      java.util.List<FerryConfig.RouteSpec> routes) {
        SharedTopics.check(sources, sourceSections, routes);
        oncePerEvent(sinks, sinkSections, routes);
        oneFilePerSink(sinks, sinkSections);
        // the sinks of a route matching attributes too: a copy that carries them again is taken again. Skipping every
        // such route passed {tenant: acme} to the source's own queue, and kafka.topic: mid to topic mid, each written and
        // read for ever; refusing every one but a stage's refused a fan-out by header into a topic its raw source reads,
        // whose copies carry no tenant: asked of each route and source (takesItsCopy)
        for (var sink : sinks.values()) {
            var section = sinkSections.get(sink.name());
            for (var source : sources.values()) {
                String loop = section == null ? null : loop(sink, source);
                var route = loop == null ? null : routeTakingItsCopy(routes, sink, source);
                if (route != null) {
                    boolean queue = sink.plan() instanceof SqsSinkConfig;
                    String elsewhere = queue ? "queue" : "topic" + wayOut(route, (KafkaSinkConfig) sink.plan(), source);
                    section.error(queue ? "queue" : "topic", loop + " that source '" + source.name() + "' reads: every "
                            + "event written there is read again as a new one, handled and written again, for ever; "
                            + "write to another " + elsewhere);
                    break;
                }
            }
        }
    }

    /** The headers a Kafka sink writes beside {@code ferry.event.*} (a trace context), and what a Kafka source adds. */
    private static final Set<String> ON_EVERY_KAFKA_COPY = Set.of(dev.ferry.app.tracing.Tracing.TRACEPARENT,
            dev.ferry.app.tracing.Tracing.TRACESTATE, "kafka.partition", "kafka.offset", "kafka.tombstone");

    /** The first route to {@code sink} that may take the copy {@code source} reads back ({@link #takesItsCopy}). */
    private static FerryConfig.RouteSpec routeTakingItsCopy(java.util.List<FerryConfig.RouteSpec> routes,
                                                            FerryConfig.SinkSpec sink, FerryConfig.SourceSpec source) {
        for (var route : routes) {
            if (route.to().contains(sink.name()) && takesItsCopy(route, sink, source)) {
                return route;
            }
        }
        return null;
    }

    /**
     * Whether {@code route} may take again the copy {@code sink} writes, read back by {@code source}: it matches no
     * attribute, or each one it matches may be on the copy (it takes an event having them all). An SQS copy carries every
     * attribute of its event. A Kafka copy none: the sink writes {@code ferry.event.id}, {@code .type}, {@code .source} and
     * a trace context as its headers, nothing else. Read back, its attributes are those headers, {@code kafka.partition},
     * {@code .offset} ({@code .tombstone} on a tombstone) and {@code kafka.topic}, set afresh from the topic read (a header
     * of that name says nothing, so a stage matching another topic never takes it); and, by a source whose format reads
     * attributes out of the payload (s3, mturk, the sns ones, auto), whatever the payload makes again: an S3 notice's
     * bucket. raw and json make none of their own (raw hands the delivery's on, json none). A loop through two routes
     * (in to mid, mid to in) is not looked for.
     */
    private static boolean takesItsCopy(FerryConfig.RouteSpec route, FerryConfig.SinkSpec sink,
                                        FerryConfig.SourceSpec source) {
        if (route.attributes() == null || !(sink.plan() instanceof KafkaSinkConfig kafka)) {
            return true;
        }
        String format = source.format() == null ? "auto" : source.format();
        boolean fromPayload = !format.equals("raw") && !format.equals("json");
        for (var matched : route.attributes().entrySet()) {
            String name = matched.getKey();
            boolean comesBack = name.equals("kafka.topic") ? kafka.topic().equals(matched.getValue())
                    : name.startsWith("ferry.event.") || ON_EVERY_KAFKA_COPY.contains(name) || fromPayload;
            if (!comesBack) {
                return false;
            }
        }
        return true;
    }

    /**
     * How {@code route} stops taking the copies {@code sink} writes: matching the topic it takes its events from, as a
     * stage does. The refusal said only "write to another topic", where a route fanning out into a topic its own source
     * reads needs that topic.
     */
    private static String wayOut(FerryConfig.RouteSpec route, KafkaSinkConfig sink, FerryConfig.SourceSpec source) {
        // only a raw event carries kafka.topic (the delivery's attributes): an s3, mturk or json event has none, and a
        // route told to match it matched nothing — every event dead-lettered "unmatched"
        if (!"raw".equals(source.format())) {
            return "";
        }
        var topics = source.plan() instanceof KafkaSourceConfig in && in.topics() != null ? in.topics()
                : java.util.List.<String>of();
        var others = topics.stream().filter(t -> !sink.topic().equals(t)).map(t -> "kafka.topic: " + t).toList();
        return ", or have route '" + route.name() + "' match the topic it reads its events from with kafka.topic ("
                + (others.isEmpty() ? "another than " + sink.topic() : others.size() == 1 ? others.get(0)
                : "a route for each: " + String.join(", ", others)) + "): a copy read back from "
                + sink.topic() + " carries kafka.topic " + sink.topic() + ", and is not taken again";
    }

    /** A server the run starts: what it is (as said in a sentence), where it listens, and the key that sets that. */
    private record Listening(String what, String host, int port, Section section, String key, String unwritten) {

        /** Whether the file writes its address (else a default, or FERRY_ADMIN_LISTEN): the other one is blamed first. */
        boolean written() {
            return section != null && section.has(key);
        }

        /** Its address, and where it came from when the file does not write it. */
        String where() {
            return host + ":" + port + (written() ? "" : " (" + unwritten + ")");
        }

        /** Both bind one port: the same host, or either every address (0.0.0.0, ::); port 0 is a free one each. */
        boolean clashesWith(Listening other) {
            return port > 0 && port == other.port && (wildcard(host) || wildcard(other.host)
                    || loopbackAsIs(host).equalsIgnoreCase(loopbackAsIs(other.host)));
        }

        private static boolean wildcard(String host) {
            return switch (host) {
                case "", "0.0.0.0", "::", "[::]" -> true;
                default -> false;
            };
        }

        /** localhost binds 127.0.0.1 (Java prefers IPv4): one address written two ways. */
        private static String loopbackAsIs(String host) {
            return "localhost".equalsIgnoreCase(host) ? "127.0.0.1" : host;
        }
    }

    /**
     * The servers a run starts, on one port each: the embedded SQS server (127.0.0.1), every HTTP source (each
     * binds a server of its own, whatever its path), the metrics server and the admin server (not when it is the
     * metrics address: that is one server). Refused at the second one the file writes: two HTTP sources on one
     * listen passed, and the run failed "Address already in use"; an HTTP source beside metrics on its port made
     * the metrics server fail, saying to set admin.listen.
     */
    static void onePortEach(Section root, int embeddedPort, Map<String, FerryConfig.SourceSpec> sources,
                            Map<String, Section> sourceSections, FerryConfig.Address metrics, FerryConfig.Address admin) {
        var servers = new java.util.ArrayList<Listening>();
        if (embeddedPort > 0) {
            servers.add(new Listening("the embedded SQS server", "127.0.0.1", embeddedPort, root.section("embedded-sqs"),
                    "port", "the default"));
        }
        for (var source : sources.values()) {
            var section = sourceSections.get(source.name());
            if (source.plan() instanceof HttpSourceConfig http && section != null) {
                servers.add(new Listening("source '" + source.name() + "'", http.host(), http.port(),
                        section.section("http"), "listen", "the default"));
            }
        }
        if (metrics != null) {
            servers.add(new Listening("the metrics server", metrics.host(), metrics.port(), root.section("metrics"),
                    "listen", "the default"));
        }
        if (admin != null && !admin.equals(metrics)) {
            servers.add(new Listening("the admin server", admin.host(), admin.port(), root.section("admin"),
                    "listen", "FERRY_ADMIN_LISTEN, or the default"));
        }
        for (int i = 1; i < servers.size(); i++) {
            for (int j = 0; j < i; j++) {
                var first = servers.get(j);
                var second = servers.get(i);
                if (second.clashesWith(first)) {
                    // blame what the user wrote: an admin address from FERRY_ADMIN_LISTEN is no key of the file, and
                    // with no admin section at all it has no line to name
                    var blamed = second.written() || !first.written() ? second : first;
                    blamed = blamed.section() != null ? blamed : blamed == first ? second : first;
                    var other = blamed == first ? second : first;
                    blamed.section().error(blamed.key(), blamed.what() + " on " + blamed.where() + " and " + other.what()
                            + " on " + other.where() + " take one port: the second to start fails (address already in "
                            + "use); give each a port of its own");
                    break;
                }
            }
        }
    }

    /**
     * Two sinks that write the same queue or topic under two names (a copy-paste, a YAML anchor, one default of a
     * variable), both reached by one event: it was written there twice. The router sends an event to the sinks of
     * every route that takes it, each sink once by its name alone, so two routes that can take one event are as one
     * route here: two such sinks in one route were refused, in two (one for type A, a catch-all) they passed. Routes
     * that never take one event (types apart, one attribute of two values) may share a target. Refused at the second.
     */
    private static void oncePerEvent(Map<String, FerryConfig.SinkSpec> sinks, Map<String, Section> sections,
                                     java.util.List<FerryConfig.RouteSpec> routes) {
        var said = new HashSet<java.util.List<String>>(); // a pair two routes, or three, reach together: said once
        for (int r = 0; r < routes.size(); r++) {
            var route = routes.get(r);
            var to = sinksOf(route, sinks);
            for (int i = 1; i < to.size(); i++) {
                for (int j = 0; j < i; j++) {
                    twice(to.get(j), to.get(i), false, "route '" + route.name() + "' sends to both: each of its events would "
                            + "be written there twice; send the route to one of them", sections, said);
                }
            }
            for (int q = 0; q < r; q++) {
                var earlier = routes.get(q);
                if (!mayTakeOneEvent(earlier, route)) {
                    continue;
                }
                for (var first : sinksOf(earlier, sinks)) {
                    for (var second : to) {
                        twice(first, second, true, "routes '" + earlier.name() + "' and '" + route.name() + "' can take one "
                                + "event and send it to both: it would be written there twice (the router writes a "
                                + "sink once an event, knowing sinks by their names, not by what they write); name one "
                                + "of the sinks in both routes, or match the routes apart", sections, said);
                    }
                }
            }
        }
    }

    private static java.util.List<FerryConfig.SinkSpec> sinksOf(FerryConfig.RouteSpec route,
                                                                 Map<String, FerryConfig.SinkSpec> sinks) {
        return route.to().stream().map(sinks::get).filter(java.util.Objects::nonNull).toList();
    }

    /** Refuses {@code second} when it writes what {@code first} writes under another name, once for the two. */
    private static void twice(FerryConfig.SinkSpec first, FerryConfig.SinkSpec second, boolean acrossRoutes, String why,
                              Map<String, Section> sections, Set<java.util.List<String>> said) {
        // one sink in two routes is written once: the router knows it by its name
        String same = first.name().equals(second.name()) ? null : sameTarget(first, second, acrossRoutes);
        var section = sections.get(second.name());
        if (same != null && section != null
                && said.add(java.util.List.of(first.name(), second.name()).stream().sorted().toList())) {
            section.error(second.plan() instanceof SqsSinkConfig ? "queue" : "topic", same + " that sink '"
                    + first.name() + "' writes, and " + why);
        }
    }

    /**
     * Whether one event may match both routes: their types may meet ({@link SinkCalls#mayMatchTogether}), no attribute
     * both match is given two values (a staged pipeline's {@code kafka.topic}), and neither's {@code not-types} leaves
     * out every type the other lists. Said apart here, they pass: they never take one event. {@link SharedTopics} asks it
     * of a route and a source's events (as a route that takes just those).
     */
    static boolean mayTakeOneEvent(FerryConfig.RouteSpec a, FerryConfig.RouteSpec b) {
        if (!SinkCalls.mayMatchTogether(a, b)) {
            return false;
        }
        var attributes = b.attributes() == null ? Map.<String, String>of() : b.attributes();
        for (var attribute : a.attributes() == null ? Map.<String, String>of().entrySet() : a.attributes().entrySet()) {
            String theOther = attributes.get(attribute.getKey());
            if (theOther != null && !theOther.equals(attribute.getValue())) {
                return false;
            }
        }
        return !leavesOutEveryType(a, b) && !leavesOutEveryType(b, a);
    }

    /** Whether {@code excluding}'s {@code not-types} hold every type {@code listing} takes (false when it lists none). */
    private static boolean leavesOutEveryType(FerryConfig.RouteSpec excluding, FerryConfig.RouteSpec listing) {
        var types = listing.type() != null ? java.util.List.of(listing.type()) : listing.types();
        return types != null && !types.isEmpty() && excluding.notTypes() != null
                && excluding.notTypes().containsAll(types);
    }

    /**
     * Whether two SQS queue settings, each a name and the owner it names ({@code queueAccount()}: an account, a folder's
     * id, or null for none), name one queue: one name of one owner. A name alone is in the caller's account, which the
     * file does not say, and so are ElasticMQ's {@code /queue/x} and the emulators' {@code /000000000000/x}. With
     * {@code bareNameIsAnyAccount} that may be either owner named, and a may is refused: two sources on one queue, a
     * sink on its source's queue, two sinks of one route. Without, it is one's own queue, and another owner's of that
     * name a partner's: two sinks across routes (a catch-all to one's own and a route to a partner's was refused). Each
     * check kept a copy of this rule, and ElasticMQ's {@code /queue/x} was the queue {@code x} across routes but account
     * "queue"'s in the other three.
     */
    static boolean sameQueue(String nameA, String accountA, String nameB, String accountB, boolean bareNameIsAnyAccount) {
        return nameA.equals(nameB) && (java.util.Objects.equals(accountA, accountB)
                || bareNameIsAnyAccount && (accountA == null || accountB == null));
    }

    /**
     * What to add to a refusal of two queue settings {@link #sameQueue} took for one only because one names no account: a
     * name alone and a partner's queue of that name were refused with no word of how to keep both (a review).
     */
    static String mayBeTwo(String accountA, String accountB) {
        return java.util.Objects.equals(accountA, accountB) ? "" : " (one setting names no account: the caller's, which "
                + "may be the other's; if they are two queues, name yours by its URL or ARN)";
    }

    /** What two sinks both write to (described), or null. */
    private static String sameTarget(FerryConfig.SinkSpec a, FerryConfig.SinkSpec b, boolean acrossRoutes) {
        // across routes a name alone and another account's queue of that name are two queues (one's own "events", a
        // partner's): taken for one, a config writing each from its own route was refused. In one route every event
        // reaches both sinks, so one that may be the other's queue is refused
        if (a.plan() instanceof SqsSinkConfig x && b.plan() instanceof SqsSinkConfig y && x.queue() != null
                && y.queue() != null
                && sameQueue(x.queueName(), x.queueAccount(), y.queueName(), y.queueAccount(), !acrossRoutes)) {
            return "queue " + y.queueName() + mayBeTwo(x.queueAccount(), y.queueAccount()) + " is the queue";
        }
        if (a.plan() instanceof KafkaSinkConfig x && b.plan() instanceof KafkaSinkConfig y && x.topic() != null
                && x.topic().equals(y.topic()) && sameCluster(x.bootstrapServers(), y.bootstrapServers())) {
            return "topic " + y.topic() + " is the topic";
        }
        return null;
    }

    /** What {@code sink} writes to that {@code source} reads (described), or null. */
    private static String loop(FerryConfig.SinkSpec sink, FerryConfig.SourceSpec source) {
        if (sink.plan() instanceof SqsSinkConfig out && source.plan() instanceof SqsSourceConfig in && in.queue() != null
                && out.queue() != null
                // a name alone may be the very queue the source's URL names: a loop refused on a may
                && sameQueue(out.queueName(), out.queueAccount(), in.queueName(), in.queueAccount(), true)) {
            return "queue " + out.queueName() + mayBeTwo(out.queueAccount(), in.queueAccount()) + " is the queue";
        }
        if (sink.plan() instanceof KafkaSinkConfig out && source.plan() instanceof KafkaSourceConfig in
                // a sink missing its topic (reported where it is read) writes nothing here; contains(null) may throw
                && out.topic() != null && in.topics() != null && in.topics().contains(out.topic())
                && sameCluster(in.bootstrapServers(), out.bootstrapServers())) {
            return "topic " + out.topic() + " is a topic";
        }
        return null;
    }

    /** Two lists of bootstrap servers sharing an address ({@link #servers}): one cluster; false when one is missing. */
    static boolean sameCluster(String a, String b) {
        if (a == null || b == null) {
            return false; // reported missing where it is read
        }
        var shared = servers(a);
        shared.retainAll(servers(b));
        return !shared.isEmpty();
    }

    /**
     * The addresses of a list as the client reaches them: a listener's {@code SCHEME://} left off (the client leaves it
     * off too), and the loopback one name however it is written (localhost, 127.0.0.1, ::1), as {@link
     * Listening#clashesWith} takes it. Compared as written, {@code localhost:9092} beside {@code 127.0.0.1:9092} were two
     * clusters: a loop, two groups on one topic and two sinks on one topic all passed. Another name of one broker (a DNS
     * alias) and another broker of one cluster are not known here: those still pass as two clusters.
     */
    private static Set<String> servers(String list) {
        return Arrays.stream(list.split(",")).map(SharedTransports::server).filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(HashSet::new));
    }

    /** One address of a list, host and port, its scheme left off and a loopback host named {@code loopback}. */
    private static String server(String written) {
        String server = written.strip().toLowerCase(Locale.ROOT).replaceFirst("^[a-z][a-z0-9_+.-]*://", "");
        // [::1]:9092 holds its host in brackets; else the port follows the last colon, as the client reads ::1:9092
        int portAt = server.startsWith("[") ? server.indexOf("]:") + 1 : server.lastIndexOf(':');
        String host = portAt <= 0 ? server : server.substring(0, portAt);
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        // 127.0.0.1 alone of 127/8: a broker bound to 127.0.0.2 is another (two tunnels, a mirror between two clusters)
        boolean loopback = bare.equals("localhost") || bare.equals("127.0.0.1") || bare.equals("::1")
                || bare.equals("0:0:0:0:0:0:0:1");
        return loopback ? "loopback" + server.substring(host.length()) : server;
    }
}
