package dev.ferry.app;

import static dev.ferry.app.ConfigReaderTest.errors;
import static dev.ferry.app.ConfigReaderTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigReader;
import org.junit.jupiter.api.Test;

/**
 * Sources and sinks sharing what they read or write in ways that break the promise, refused: two Kafka sources
 * in one group on a topic (every rebalance runs one's records in hand again on the other), and a sink writing to
 * a source's own queue or topic (every event read again as a new one, for ever). Both were accepted.
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
                .contains("source 'a' reads topic orders in group 'g' already"));
        valid("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders], group-id: g}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [refunds], group-id: g}}
                  c: {kafka: {bootstrap-servers: "k1:9092", topics: [orders], group-id: audit}}
                  d: {kafka: {bootstrap-servers: "k9:9092", topics: [orders], group-id: g}}
                """ + ROUTE_TO_LOG);
        // each source's default group is its own name: two sources on one topic by default are two groups
        valid("""
                sources:
                  a: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}
                  b: {kafka: {bootstrap-servers: "k1:9092", topics: [orders]}}
                """ + ROUTE_TO_LOG);
    }

    @Test // a copy-paste or an anchor: every event of the route written twice
    void twoSinksOfOneRoute_writingOneQueueOrTopic_areRefused_butInTwoRoutesTheyAreNot() {
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
        valid("""
                sources: {in: {sqs: {queue: orders}}}
                sinks:
                  a: {type: sqs, queue: audit}
                  b: {type: sqs, queue: audit}
                routes:
                  - match: {type: A}
                    to: [a]
                  - to: [b]
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
                .contains("queue orders is the queue that source 'in' reads"));
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
