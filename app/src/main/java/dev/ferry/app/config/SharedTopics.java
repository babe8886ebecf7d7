package dev.ferry.app.config;

import dev.ferry.adapters.kafka.KafkaSourceConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Two Kafka sources on the same servers reading a topic in common, refused at the second when one record would reach a
 * sink twice. In one group each orders and claims on its own, so every rebalance hands records one has in hand to the
 * other, which runs them again. In two (each source's default is a group of its own, {@code ferry-NAME}) each group is
 * given every record: both sources handle it, and routes, which match events and never the source they came from, send
 * both copies to the same sinks, each in its own source's ledger scope, where neither is the other's duplicate. Two
 * groups pass as a tee only: events of types apart (a raw archive beside the JSON processing) that no route takes both
 * of. Told apart by their formats alone, a raw archive beside a json source under a catch-all route ({@code - to: [out]})
 * wrote every record to {@code out} twice, and two json sources apart in their id pointer alone passed, their events of
 * the same types taken by every route.
 */
final class SharedTopics {

    private SharedTopics() {
    }

    static void check(Map<String, FerryConfig.SourceSpec> sources, Map<String, Section> sections,
                      List<FerryConfig.RouteSpec> routes) {
        var seen = new java.util.ArrayList<FerryConfig.SourceSpec>();
        for (var source : sources.values()) {
            if (!(source.plan() instanceof KafkaSourceConfig kafka)) {
                continue;
            }
            var section = sections.get(source.name());
            for (var other : seen) {
                var o = (KafkaSourceConfig) other.plan();
                var common = new HashSet<String>(o.topics() == null ? Set.of() : o.topics());
                common.retainAll(kafka.topics() == null ? Set.of() : kafka.topics());
                if (common.isEmpty() || !SharedTransports.sameCluster(o.bootstrapServers(), kafka.bootstrapServers())
                        || section == null) {
                    continue;
                }
                String why = why(other, source, common, routes);
                if (why != null) {
                    // "or another group-id" was the way out of the first refusal: that is the second, refused as well
                    section.error("kafka", "source '" + other.name() + "' reads topic "
                            + common.stream().sorted().collect(Collectors.joining(", ")) + why + "; one source per topic "
                            + "on a cluster (a source may read several topics; raise listener.concurrency for more "
                            + "throughput)");
                    break;
                }
            }
            seen.add(source);
        }
    }

    /** What is wrong with {@code second} reading the topics {@code first} reads, said after "reads topic T"; null: nothing. */
    private static String why(FerryConfig.SourceSpec first, FerryConfig.SourceSpec second, Set<String> common,
                              List<FerryConfig.RouteSpec> routes) {
        var a = (KafkaSourceConfig) first.plan();
        var b = (KafkaSourceConfig) second.plan();
        if (a.groupId() != null && a.groupId().equals(b.groupId())) {
            return " in group '" + b.groupId() + "' already: each source orders and claims on its own, so every "
                    + "rebalance hands records one has in hand to the other, which runs them again";
        }
        if (oneScope(first, second) && oneEventOfARecord(first, second)) {
            return null; // one event of each record, in one scope: handled once, by whichever source claims it first
        }
        String twoGroups = " on these servers already, in group '" + a.groupId() + "' (this one in '" + b.groupId()
                + "'): each group is given every record, so both sources would handle each one, and ";
        if (typesAlike(first, second)) {
            return twoGroups + "routes cannot keep the two apart (they match events, not the source they came from, and "
                    + "both make a record's events of the same types)";
        }
        var ofFirst = eventsOf(first, common);
        var ofSecond = eventsOf(second, common);
        var route = takingEach(ofFirst, ofSecond, routes);
        if (route == null) {
            return null;
        }
        String taken = twoGroups + "route '" + route.name() + "' can take an event of each (it matches events, not the "
                + "source they came from): its sinks would be given every record twice";
        // "type: raw for a raw one" was said of two json sources with two type pointers too, and of s3 beside mturk:
        // events of any type but raw from each, no match taking one source's and none of the other's — advice that
        // could not be followed. Then one source per topic, said after this, is the way
        String lone = loneType(ofFirst, ofSecond);
        String whose = first.name();
        if (lone == null) {
            lone = loneType(ofSecond, ofFirst);
            whose = second.name();
        }
        return lone != null ? taken + "; match each route to the events of one source (type: " + lone + " for source '"
                + whose + "')"
                : taken + ", and no match takes one source's events and none of the other's (a type one makes, the other "
                + "may make too)";
    }

    /**
     * The one type {@code of}'s events are all of ({@code raw}'s raw, a json source's default type without a type
     * pointer) when {@code other} never makes an event of it; else null. Only then can a route be matched to the events
     * of one source.
     */
    private static String loneType(FerryConfig.RouteSpec of, FerryConfig.RouteSpec other) {
        String type = of.type();
        if (type == null) {
            return null; // of any type (but raw): a match of one type takes some, and the other's of that type too
        }
        boolean otherNever = other.type() != null ? !other.type().equals(type) : other.notTypes().contains(type);
        return otherNever ? type : null;
    }

    /**
     * Whether two sources make a record's events of the same types: two {@code json} sources with one type pointer (or
     * default type) — apart in their id's, time's or group's pointer, one route takes both events all the same — or two
     * other formats alike or either sniffing ({@code auto} and {@code sns} fall back to {@code raw}: beside a {@code raw}
     * archive, every plain record was one event twice). A {@code json} source beside another format makes events of
     * other types: a tee, if no route takes an event of each ({@link #takingEach}).
     */
    private static boolean typesAlike(FerryConfig.SourceSpec a, FerryConfig.SourceSpec b) {
        boolean aJson = "json".equals(a.format());
        boolean bJson = "json".equals(b.format());
        if (aJson || bJson) {
            return aJson && bJson && Objects.equals(typeOf(a), typeOf(b));
        }
        return format(a).equals(format(b)) || sniffs(a) || sniffs(b);
    }

    /**
     * Whether two sources make one event of a record, one id of one type, which one scope holds once: one format (one
     * decoder, one key of each record), or two json sources with one id and one type pointer. Apart in their id pointer,
     * two json sources make two ids of each record, both claimed: in one scope too, twice. A format beside one sniffing
     * passed as one event ("a plain record is one raw event to both"), and a record in an SNS envelope is not plain: a
     * {@code raw} archive keys it by its place on the topic, {@code auto} or {@code sns} by {@code sns:<MessageId>} —
     * two keys in one scope, both claimed, and a route taking raw events wrote the record twice. Refused below, with
     * the types a route cannot tell apart.
     */
    private static boolean oneEventOfARecord(FerryConfig.SourceSpec a, FerryConfig.SourceSpec b) {
        if ("json".equals(a.format()) || "json".equals(b.format())) {
            return typesAlike(a, b) && a.json() != null && b.json() != null && Objects.equals(a.json().id(), b.json().id());
        }
        return format(a).equals(format(b));
    }

    /** Both name one ledger scope ({@code ledger-scope}): an event id both make is handled once, by whichever claims it. */
    private static boolean oneScope(FerryConfig.SourceSpec a, FerryConfig.SourceSpec b) {
        return a.ledgerScope() != null && b.ledgerScope() != null && a.listenerScope().equals(b.listenerScope());
    }

    /**
     * The first route that may take an event of each source ({@link #eventsOf}), or null: their events kept apart by
     * type (or topic).
     */
    private static FerryConfig.RouteSpec takingEach(FerryConfig.RouteSpec ofA, FerryConfig.RouteSpec ofB,
                                                    List<FerryConfig.RouteSpec> routes) {
        for (var route : routes) {
            if (SharedTransports.mayTakeOneEvent(route, ofA) && SharedTransports.mayTakeOneEvent(route, ofB)) {
                return route;
            }
        }
        return null;
    }

    /**
     * The events a source makes of the records in common, as a route that takes just those: {@code raw}'s are of type
     * raw, a json source's without a type pointer of its default type. A type pointer's, and s3's, mturk's and their sns
     * forms', are of any type but raw (a document naming itself raw is not looked for: a tee's archive route matches
     * type raw); auto and sns fall back to raw, so of any type at all. One topic in common: its records carry it
     * ({@code kafka.topic}), and a route matching another topic takes none of them.
     */
    private static FerryConfig.RouteSpec eventsOf(FerryConfig.SourceSpec source, Set<String> common) {
        var json = source.json();
        String only = format(source).equals("raw") ? "raw" : json != null && json.type() == null ? json.defaultType() : null;
        boolean mayBeRaw = only != null || sniffs(source) || json != null && "raw".equals(json.defaultType());
        var topic = common.size() == 1 ? Map.of("kafka.topic", common.iterator().next()) : Map.<String, String>of();
        return new FerryConfig.RouteSpec(source.name(), only, null, List.of(), mayBeRaw ? List.of() : List.of("raw"), topic,
                List.of());
    }

    private static String typeOf(FerryConfig.SourceSpec source) {
        var json = source.json();
        return json == null ? null : json.type() != null ? json.type() : "=" + json.defaultType();
    }

    private static String format(FerryConfig.SourceSpec source) {
        return source.format() == null ? "auto" : source.format();
    }

    private static boolean sniffs(FerryConfig.SourceSpec source) {
        return format(source).equals("auto") || format(source).equals("sns");
    }
}
