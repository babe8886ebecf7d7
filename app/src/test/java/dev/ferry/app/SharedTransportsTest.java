package dev.ferry.app;

import static dev.ferry.app.ConfigReaderTest.errors;
import static dev.ferry.app.ConfigReaderTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sources and sinks sharing what they read or write in ways that break the promise, refused: two Kafka sources
 * on a topic (in one group every rebalance runs one's records in hand again on the other; in two both handle every
 * record), two sinks writing one queue or topic for one event (written twice), and a sink writing to a source's own
 * queue or topic (every event read again as a new one, for ever). Each was accepted.
 */
class SharedTransportsTest {

    private static final String ROUTE_TO_LOG = "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";

    private static void valid(String yaml) {
        var result = parse(yaml);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void twoKafkaSourcesOfOneGroup_onATopicInCommon_areRefused_atTheSecond() {
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092,k2:9092", topics: [orders], group-id: g}}
                  b: {kafka: {bootstrap-servers: "K2:9092, k1:9092", topics: [orders, refunds], group-id: g}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka")
                .contains("source 'a' reads topic orders in group 'g' already")
                // it said "or another group-id": that way out is refused too now (the test below)
                .doesNotContain("another group-id").contains("one source per topic on a cluster"));
        // another topic, or another cluster: nothing read twice. (A source in another group on orders, and two
        // sources in their default groups, were here as valid: both handle every record, refused below.)
        valid("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders], group-id: g}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [refunds], group-id: g}}
                  d: {kafka: {bootstrap-servers: "k9:9092", topics: [orders], group-id: g}}
                """ + ROUTE_TO_LOG);
    }

    @Test // a review: each group is given every record and routes cannot tell one source's events from the other's, so
          // both copies reached the same sinks, each in its source's ledger scope: every record written twice, interleaved
    void twoKafkaSourcesInTwoGroups_onATopicInCommon_areRefused_too() {
        // each source's default group is one of its own (ferry-NAME): two sources on a topic by default are two groups
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka")
                .contains("source 'a' reads topic orders on these servers already, in group 'ferry-a' (this one in "
                        + "'ferry-b')")
                .contains("each group is given every record").contains("routes cannot keep the two apart"));
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders], group-id: g}}
                  c: {kafka: {bootstrap-servers: "k2:9092, K1:9092", topics: [refunds, orders], group-id: audit}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.c.kafka")
                .contains("source 'a' reads topic orders on these servers already, in group 'g' (this one in 'audit')"));
        // a review of the refusal: a tee — the raw archive beside the JSON processing — decodes a record apart, its
        // events of other types routed apart; one source cannot do both (a malformed record is dead-lettered)
        valid("""
                sources:
                  archive: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw}
                  orders: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json}
                sinks: {archived: {type: log}, out: {type: log}}
                routes:
                  - match: {type: raw}
                    to: [archived]
                  - match: {type-prefix: Order}
                    to: [out]
                """);
    }

    @Test // a last look: a source left at `auto` beside a raw archive makes the same event of every plain record (auto
          // falls back to raw), as do two json sources apart only in their time's pointer; one scope named for both is once
    void twoKafkaSourcesInTwoGroups_thatMakeOneEventOfARecord_areRefused_unlessTheyShareALedgerScope() {
        assertThat(errors("""
                sources:
                  archive: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw}
                  orders: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.orders.kafka")
                .contains("each group is given every record"));
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {id: /id, type: /type, time: /at}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {id: /id, type: /type, time: /ts}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka")
                .contains("each group is given every record"));
        valid("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw, ledger-scope: shared}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw, ledger-scope: shared}
                """ + ROUTE_TO_LOG);
    }

    @Test // a review: two sources in two groups were told apart by their formats alone, and passed — each group is given
          // every record, and a catch-all route took the raw archive's event and the json source's of each one (every
          // record written to its sink twice); two json sources apart only in their id pointer made events of the same
          // types, each taken by every route that took the other
    void twoKafkaSourcesInTwoGroups_thatDecodeARecordApart_areRefused_whenOneRouteCanTakeAnEventOfEach() {
        assertThat(errors("""
                sources:
                  archive: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw}
                  orders: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {type: /type}}
                sinks: {out: {type: log}}
                routes:
                  - to: [out]
                """)).anySatisfy(e -> assertThat(e).contains("sources.orders.kafka")
                .contains("each group is given every record").contains("route 'route-0' can take an event of each")
                .contains("every record twice"));
        // a route matching raw and another type takes the archive's event and the json one's
        assertThat(errors("""
                sources:
                  archive: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw}
                  orders: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {type: /type}}
                sinks: {archived: {type: log}, out: {type: log}}
                routes:
                  - {name: both, match: {types: [raw, OrderCreated]}, to: [archived]}
                  - {match: {type-prefix: Order}, to: [out]}
                """)).anySatisfy(e -> assertThat(e).contains("sources.orders.kafka")
                .contains("route 'both' can take an event of each"));
        // one type pointer, the id's apart: events of the same types, whatever the routes
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {id: /id, type: /type}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {id: /orderId, type: /type}}
                sinks: {out: {type: log}}
                routes:
                  - {match: {type-prefix: Order}, to: [out]}
                """)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka")
                .contains("each group is given every record").contains("routes cannot keep the two apart"));
        // nor in one named scope: each makes an id of its own of a record, both claimed
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {id: /id}, ledger-scope: shared}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {id: /orderId}, ledger-scope: shared}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka")
                .contains("each group is given every record"));
        // the tee whose routes never take an event of each: by type, or by a topic only one of the two reads
        valid("""
                sources:
                  archive: {kafka: {bootstrap-servers: "k1:9092", topics: [orders, refunds]}, format: raw}
                  orders: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {type: /type}}
                sinks: {archived: {type: log}, out: {type: log}, refunds: {type: log}}
                routes:
                  - {match: {type: raw}, to: [archived]}
                  - {match: {type-prefix: Order}, to: [out]}
                  - {match: {attributes: {kafka.topic: refunds}}, to: [refunds]}
                """);
    }

    @Test // a review: one named ledger-scope passed a raw archive beside a source left at auto (or sns) as one event of
          // each record ("a plain record is one raw event to both"); a record in an SNS envelope is two — the archive keys
          // it by its place on the topic, auto and sns by sns:<MessageId> — both claimed in the scope, and a catch-all
          // wrote it twice. One scope passes one format only
    void aRawArchiveBesideAnAutoOrSnsSource_inOneLedgerScope_isRefused_andOneFormatInOneScopeIsNot() {
        for (String format : List.of("auto", "sns")) {
            assertThat(errors("""
                    sources:
                      archive: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw, ledger-scope: ledger}
                      proc: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: %s, ledger-scope: ledger}
                    """.formatted(format) + ROUTE_TO_LOG)).as(format).anySatisfy(e -> assertThat(e)
                    .contains("sources.proc.kafka").contains("each group is given every record")
                    .contains("routes cannot keep the two apart"));
        }
        valid("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: sns, ledger-scope: ledger}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: sns, ledger-scope: ledger}
                """ + ROUTE_TO_LOG);
    }

    @Test // a review: "match each route to the events of one source (type: raw for a raw one)" was said of two json sources
          // with two type pointers and of s3 beside mturk too, whose events are each of any type but raw: no match takes one
          // source's and none of the other's, and the advice could not be followed. Given only where it can be
    void aRouteTakingAnEventOfEach_isToldHowToMatchOneSource_onlyWhenOneSourceMakesEventsOfOneTypeTheOtherNeverMakes() {
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {type: /type}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {type: /kind}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka")
                .contains("route 'route-0' can take an event of each").doesNotContain("match each route")
                .contains("no match takes one source's events and none of the other's")
                .contains("one source per topic on a cluster"));
        assertThat(errors("""
                sources:
                  uploads: {kafka: {bootstrap-servers: "k1:9092", topics: [notices]}, format: s3}
                  hits: {kafka: {bootstrap-servers: "k1:9092", topics: [notices]}, format: mturk}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.hits.kafka")
                .contains("route 'route-0' can take an event of each").doesNotContain("match each route")
                .contains("no match takes one source's events and none of the other's"));
        // a raw archive's events are raw alone, and a json source's with a type pointer never are: that match is there
        assertThat(errors("""
                sources:
                  archive: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: raw}
                  orders: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}, format: json, json: {type: /type}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.orders.kafka")
                .contains("match each route to the events of one source (type: raw for source 'archive')"));
    }

    @Test // a review: refused on a may (a name alone beside a partner's URL), the error said nothing of how to keep both
    void aNameAloneBesideAnotherAccountsQueueOfThatName_inOneRoute_isRefusedSayingHowToKeepBoth() {
        assertThat(errors("""
                sources:
                  in: {sqs: {queue: orders}}
                sinks:
                  mine: {type: sqs, queue: events}
                  partner: {type: sqs, queue: "https://sqs.eu-west-1.amazonaws.com/999999999999/events"}
                routes:
                  - to: [mine, partner]
                """)).anySatisfy(e -> assertThat(e).contains("queue events (one setting names no account")
                .contains("if they are two queues, name yours by its URL or ARN"));
    }

    @Test // a last look: ElasticMQ's /queue/NAME names no account — across routes it is the queue named alone
    void elasticMqsQueueUrl_andTheQueueByItsName_inTwoRoutes_areOneQueue() {
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: events}
                  b: {type: sqs, queue: "http://localhost:9324/queue/events"}
                routes:
                  - match: {type: A}
                    to: [a]
                  - to: [b]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.b.queue").contains("written there twice"));
    }

    @Test // one queue decided in four places, ElasticMQ's /queue/NAME taken for account "queue" in three: its URL and
          // its /000000000000/ URL (one queue to ElasticMQ, which finds a queue by its name) passed as two queues for two
          // sources, for a sink on its source's queue (a loop), and for two sinks of one route
    void elasticMqsQueueUrl_andItsAccountUrl_areOneQueue_inEveryCheck() {
        assertThat(errors("""
                sources:
                  a: {sqs: {queue: "http://localhost:9324/queue/orders"}}
                  b: {sqs: {queue: "http://localhost:9324/000000000000/orders"}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.sqs")
                .contains("source 'a' reads queue orders already"));
        assertThat(errors("""
                sources: {in: {sqs: {queue: "http://localhost:9324/000000000000/orders"}}}
                sinks: {again: {type: sqs, queue: "http://localhost:9324/queue/orders"}}
                routes:
                  - to: [again]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.again.queue")
                // neither names an account (000000000000 is the emulators' default): one queue, not a may
                .contains("queue orders is the queue that source 'in' reads"));
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: "http://localhost:9324/queue/audit"}
                  b: {type: sqs, queue: "http://localhost:9324/000000000000/audit"}
                routes:
                  - to: [a, b]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.b.queue").contains("sink 'a' writes")
                .contains("route 'route-0' sends to both"));
    }

    @Test // a review: across routes the emulators' /000000000000/audit was account 000000000000's queue, so ElasticMQ's
          // /queue/audit, or audit by its name alone (LocalStack), beside it in two routes passed as two queues — ElasticMQ
          // finds a queue by its name, and 000000000000 is the default account of ElasticMQ and LocalStack, no real one
    void theEmulatorsDefaultAccountsUrl_besideElasticMqsUrlOrTheNameAlone_inTwoRoutes_isOneQueue() {
        for (String audit : List.of("\"http://localhost:9324/queue/audit\"", "audit")) {
            assertThat(errors("""
                    sources: {in: {sqs: {queue: orders}}}
                    sinks:
                      a: {type: sqs, queue: %s}
                      b: {type: sqs, queue: "http://localhost:9324/000000000000/audit"}
                    routes:
                      - match: {type: A}
                        to: [a]
                      - to: [b]
                    """.formatted(audit))).as(audit).anySatisfy(e -> assertThat(e).contains("sinks.b.queue")
                    .contains("queue audit is the queue that sink 'a' writes").contains("written there twice"));
        }
    }

    @Test // a review: an owner segment of other than twelve digits was read as none, so an SQS-compatible service's queues
          // of one name in two folders (https://host/<folder>/orders) were one queue for two sources and a loop, refused
          // with no hint and no setting to tell them apart; each is its folder's, compared as written
    void queuesOfOneNameInTwoFolders_ofAnSqsCompatibleService_areTwoQueues_andOneFoldersQueueIsOne() {
        valid("""
                sources:
                  a: {sqs: {queue: "https://mq.example.com/folder-a/orders"}}
                  b: {sqs: {queue: "https://mq.example.com/folder-b/orders"}}
                """ + ROUTE_TO_LOG);
        valid("""
                sources: {in: {sqs: {queue: "https://mq.example.com/folder-a/orders"}}}
                sinks: {out: {type: sqs, queue: "https://mq.example.com/folder-b/orders"}}
                routes:
                  - to: [out]
                """);
        assertThat(errors("""
                sources:
                  a: {sqs: {queue: "https://mq.example.com/folder-a/orders"}}
                  b: {sqs: {queue: "https://mq.example.com/folder-a/orders"}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.sqs")
                .contains("source 'a' reads queue orders already"));
    }

    @Test // a review of the refusal across routes: one's own queue by its name and a partner's of that name are two
    void aQueueByItsNameAlone_andAnotherAccountsQueueOfThatName_inTwoRoutes_areTwoQueues() {
        valid("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: events}
                  b: {type: sqs, queue: "https://sqs.eu-west-1.amazonaws.com/999999999999/events"}
                routes:
                  - match: {type: A}
                    to: [a]
                  - to: [b]
                """);
    }

    @Test // a copy-paste or an anchor: every event of the route written twice
    void twoSinksOfOneRoute_writingOneQueueOrTopic_areRefused() {
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: audit}
                  b: {type: sqs, queue: "https://sqs.eu-west-1.amazonaws.com/123456789012/audit"}
                routes:
                  - to: [a, b]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.b.queue").contains("sink 'a' writes")
                .contains("twice"));
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: kafka, bootstrap-servers: "k1:9092", topic: audit}
                  b: {type: kafka, bootstrap-servers: "K1:9092", topic: audit}
                routes:
                  - to: [a, b]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.b.topic").contains("sink 'a' writes"));
    }

    @Test // a review: the router writes a sink once an event, knowing it by its name, and sends an event to the sinks of
          // every route that takes it; two routes that both take it were not compared (a type A route and a catch-all
          // on one queue were asserted valid here): every event of type A written twice
    void twoSinksOnOneQueueOrTopic_inTwoRoutesThatCanTakeOneEvent_areRefused_butRoutesThatNeverCanMayShareIt() {
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: "${A_OUT:-audit}"}
                  b: {type: sqs, queue: "${ALL_OUT:-audit}"}
                routes:
                  - match: {type: A}
                    to: [a]
                  - to: [b]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.b.queue")
                .contains("queue audit is the queue that sink 'a' writes, and routes 'route-0' and 'route-1' can take "
                        + "one event").contains("written there twice"));
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: kafka, bootstrap-servers: "k1:9092", topic: audit}
                  b: {type: kafka, bootstrap-servers: "k2:9092,K1:9092", topic: audit}
                routes:
                  - {name: hits, match: {type-prefix: HIT}, to: [a]}
                  - {name: created, match: {types: [HITCreated, Other]}, to: [b]}
                """)).anySatisfy(e -> assertThat(e).contains("sinks.b.topic").contains("sink 'a' writes")
                .contains("routes 'hits' and 'created'"));
        // one pair of sinks reached together by two pairs of routes: said once
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: audit}
                  b: {type: sqs, queue: audit}
                routes:
                  - to: [a]
                  - {match: {type: A}, to: [b]}
                  - {match: {type: B}, to: [b]}
                """)).filteredOn(e -> e.contains("sinks.b.queue")).hasSize(1);
        // never one event: types apart, one attribute of two values, a type the other route leaves out
        valid("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: audit}
                  b: {type: sqs, queue: audit}
                  c: {type: sqs, queue: archive}
                  d: {type: sqs, queue: archive}
                  e: {type: sqs, queue: rest}
                  f: {type: sqs, queue: rest}
                routes:
                  - {match: {type: A}, to: [a]}
                  - {match: {types: [B, C]}, to: [b]}
                  - {match: {type: D, attributes: {bucket: qa}}, to: [c]}
                  - {match: {attributes: {bucket: prod}}, to: [d]}
                  - {match: {types: [E, F]}, to: [e]}
                  - {match: {not-types: [A, B, C, D, E, F]}, to: [f]}
                """);
    }

    @Test
    void anSqsSinkWritingToASourcesQueue_isRefused_byNameUrlOrArn() {
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks: {again: {type: sqs, queue: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"}}
                routes:
                  - to: [again]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.again.queue")
                .contains("queue orders (one setting names no account").contains("is the queue that source 'in' reads"));
        valid("""
                sources: {in: {sqs: {queue: "arn:aws:sqs:eu-west-1:111111111111:orders"}}}
                sinks: {out: {type: sqs, queue: "arn:aws:sqs:eu-west-1:222222222222:orders"}}
                routes:
                  - to: [out]
                """);
    }

    @Test
    void aKafkaSinkWritingToASourcesTopic_onTheSameServers_isRefused() {
        assertThat(errors("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}}
                sinks: {again: {type: kafka, bootstrap-servers: "k1:9092", topic: orders}}
                routes:
                  - to: [again]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.again.topic")
                .contains("topic orders is a topic that source 'in' reads"));
        valid("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}}
                sinks: {out: {type: kafka, bootstrap-servers: "k2:9092", topic: orders}}
                routes:
                  - to: [out]
                """);
    }

    @Test
    void oneClusterNamedByDifferentServerLists_isOneCluster() {
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders], group-id: g}}
                  b: {kafka: {bootstrap-servers: "k2:9092,k1:9092", topics: [orders], group-id: g}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka"));
    }

    @Test
    void aStagedPipeline_whoseRoutesMatchEachStagesTopic_isNotALoop() {
        valid("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [in]}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [mid]}}
                sinks:
                  mid: {type: kafka, bootstrap-servers: "k1:9092", topic: mid}
                  out: {type: kafka, bootstrap-servers: "k1:9092", topic: out}
                routes:
                  - {match: {attributes: {kafka.topic: in}}, to: [mid]}
                  - {match: {attributes: {kafka.topic: mid}}, to: [out]}
                """);
    }

    @Test // a review: the loop was looked for under routes matching no attribute only, though the copy a sink writes
          // carries the attribute again (an SQS message every attribute of its event): {tenant: acme} sent to the source's
          // own queue was written and read for ever
    void aRouteMatchingAnAttribute_toItsSourcesOwnQueue_isALoop_refused() {
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks: {again: {type: sqs, queue: orders}}
                routes:
                  - {match: {attributes: {tenant: acme}}, to: [again]}
                """)).anySatisfy(e -> assertThat(e).contains("sinks.again.queue")
                .contains("queue orders is the queue that source 'in' reads").contains("for ever"));
    }

    @Test // a review: a staged pipeline's route matches the topic its stage reads; one matching the topic its own sink
          // writes takes every copy again, read back from that topic with a new offset, for ever
    void aRouteMatchingTheTopicItsKafkaSinkWrites_isALoop_refused_andAStageReadingAnotherTopicIsNot() {
        assertThat(errors("""
                sources: {a: {kafka: {bootstrap-servers: "k1:9092", topics: [in, mid]}, format: raw}}
                sinks: {mid: {type: kafka, bootstrap-servers: "k1:9092", topic: mid}}
                routes:
                  - {match: {attributes: {kafka.topic: mid}}, to: [mid]}
                """)).anySatisfy(e -> assertThat(e).contains("sinks.mid.topic")
                .contains("topic mid is a topic that source 'a' reads").contains("for ever"));
        // one source reading both stages' topics: a copy read back from mid carries kafka.topic mid, not in
        valid("""
                sources: {a: {kafka: {bootstrap-servers: "k1:9092", topics: [in, mid]}, format: raw}}
                sinks:
                  mid: {type: kafka, bootstrap-servers: "k1:9092", topic: mid}
                  out: {type: kafka, bootstrap-servers: "k1:9092", topic: out}
                routes:
                  - {match: {attributes: {kafka.topic: in}}, to: [mid]}
                  - {match: {attributes: {kafka.topic: mid}}, to: [out]}
                """);
    }

    @Test // a review: every route matching attributes was refused into a topic its source reads, a stage's alone passed,
          // though a Kafka copy carries none of its event's attributes (the sink writes ferry.event.* and a trace context
          // as its headers): a fan-out by a tenant header into a topic the same raw source reads takes no copy back
    void aFanOutByAHeader_intoATopicItsRawOrJsonSourceReads_isNoLoop_valid() {
        valid("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [events, events-acme]}, format: raw}}
                sinks: {acme: {type: kafka, bootstrap-servers: "k1:9092", topic: events-acme}}
                routes:
                  - {match: {attributes: {tenant: acme}}, to: [acme]}
                """);
        // json makes no attribute of the document; one the copy carries (the sink's ferry.event.source) beside one it
        // cannot is no loop either: a route takes an event having every attribute it matches
        valid("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [events, events-acme]}, format: json}}
                sinks: {acme: {type: kafka, bootstrap-servers: "k1:9092", topic: events-acme}}
                routes:
                  - {match: {attributes: {tenant: acme, ferry.event.source: ferry}}, to: [acme]}
                """);
    }

    @Test // the review's mend kept what does loop: the topic the sink writes matched (b6), a header the sink writes, and
          // any attribute under a format that reads attributes out of the payload (auto: an S3 notice's bucket again);
          // the refusal said only "write to another topic", not the stage's way out, matching the topic read
    void aRouteWhoseAttributesComeBackOnTheKafkaCopy_isStillALoop_andTheRefusalSaysToMatchTheTopicRead() {
        assertThat(errors("""
                sources: {a: {kafka: {bootstrap-servers: "k1:9092", topics: [in, mid]}, format: raw}}
                sinks: {mid: {type: kafka, bootstrap-servers: "k1:9092", topic: mid}}
                routes:
                  - {match: {attributes: {kafka.topic: mid}}, to: [mid]}
                """)).anySatisfy(e -> assertThat(e).contains("sinks.mid.topic")
                .contains("topic mid is a topic that source 'a' reads").contains("for ever")
                .contains("route 'route-0' match the topic it reads its events from with kafka.topic (kafka.topic: in)"));
        // no format given: auto, whose S3, MTurk and SNS decoders make attributes of the payload the copy holds again
        assertThat(errors("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [events, events-acme]}}}
                sinks: {acme: {type: kafka, bootstrap-servers: "k1:9092", topic: events-acme}}
                routes:
                  - {match: {attributes: {tenant: acme}}, to: [acme]}
                """)).anySatisfy(e -> assertThat(e).contains("sinks.acme.topic")
                .contains("topic events-acme is a topic that source 'in' reads").contains("for ever")
                // a review: an s3, mturk or json event carries no kafka.topic, so that advice followed matched nothing
                .doesNotContain("match the topic it reads"));
        // a raw source of three topics: the way out names each of the others, one route for each
        assertThat(errors("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [us, eu, acme]}, format: raw}}
                sinks: {acme: {type: kafka, bootstrap-servers: "k1:9092", topic: acme}}
                routes:
                  - {match: {attributes: {kafka.topic: acme}}, to: [acme]}
                """)).anySatisfy(e -> assertThat(e).contains("sinks.acme.topic")
                .contains("(a route for each: kafka.topic: us, kafka.topic: eu)"));
        // a raw copy's attributes are the headers the sink wrote (its event's type among them), and its place
        assertThat(errors("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [events-acme]}, format: raw}}
                sinks: {acme: {type: kafka, bootstrap-servers: "k1:9092", topic: events-acme}}
                routes:
                  - {match: {attributes: {ferry.event.type: raw, kafka.partition: "0"}}, to: [acme]}
                """)).anySatisfy(e -> assertThat(e).contains("sinks.acme.topic")
                .contains("topic events-acme is a topic that source 'in' reads")
                .contains("with kafka.topic (another than events-acme)"));
    }

    @Test // a review: servers were compared as written, so localhost beside 127.0.0.1, or a listener's PLAINTEXT:// before
          // one, were two clusters: a loop, two groups on one topic and two sinks on one topic all passed
    void oneBrokerOnTheLoopback_writtenTwoWays_isOneCluster_inEveryCheck() {
        assertThat(errors("""
                sources: {in: {kafka: {bootstrap-servers: "localhost:9092", topics: [orders]}}}
                sinks: {again: {type: kafka, bootstrap-servers: "127.0.0.1:9092", topic: orders}}
                routes:
                  - to: [again]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.again.topic")
                .contains("topic orders is a topic that source 'in' reads"));
        assertThat(errors("""
                sources: {in: {kafka: {bootstrap-servers: "PLAINTEXT://localhost:9092", topics: [orders]}}}
                sinks: {again: {type: kafka, bootstrap-servers: "127.0.0.1:9092", topic: orders}}
                routes:
                  - to: [again]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.again.topic")
                .contains("topic orders is a topic that source 'in' reads"));
        assertThat(errors("""
                sources:
                  a: {kafka: {bootstrap-servers: "PLAINTEXT://localhost:9092", topics: [orders], group-id: g}}
                  b: {kafka: {bootstrap-servers: "127.0.0.1:9092", topics: [orders], group-id: g}}
                """ + ROUTE_TO_LOG)).anySatisfy(e -> assertThat(e).contains("sources.b.kafka")
                .contains("source 'a' reads topic orders in group 'g' already"));
        assertThat(errors("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: kafka, bootstrap-servers: "[::1]:9092", topic: audit}
                  b: {type: kafka, bootstrap-servers: "SASL_SSL://LOCALHOST:9092", topic: audit}
                routes:
                  - to: [a, b]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.b.topic")
                .contains("topic audit is the topic that sink 'a' writes"));
        // another port on the loopback is another broker
        valid("""
                sources: {in: {kafka: {bootstrap-servers: "localhost:9092", topics: [orders]}}}
                sinks: {out: {type: kafka, bootstrap-servers: "127.0.0.1:9093", topic: orders}}
                routes:
                  - to: [out]
                """);
        // a review: another address of 127/8 is another broker (a mirror from one tunnel to another), refused when all
        // of 127/8 was folded into one
        valid("""
                sources: {in: {kafka: {bootstrap-servers: "127.0.0.1:9092", topics: [orders]}}}
                sinks: {out: {type: kafka, bootstrap-servers: "127.0.0.2:9092", topic: orders}}
                routes:
                  - to: [out]
                """);
    }

    @Test
    void aSinkMissingItsServers_isReportedMissing_notACrash() {
        assertThat(errors("""
                sources: {in: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}}
                sinks: {again: {type: kafka, topic: orders}}
                routes:
                  - to: [again]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.again").contains("bootstrap-servers"));
    }
}
