package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Broken configurations, each with the exact {@code file:line: field: problem} it must produce.
 * Every file is otherwise valid, so the message asserted is the reason it is refused.
 */
class BrokenConfigTest {

    private static final String OK_TAIL = """
            sinks:
              log: {type: log}
            routes:
              - to: [log]
            """;

    static Stream<Arguments> brokenConfigs() {
        return Stream.of(
                broken("unknown top-level key", """
                        sources: {s: {sqs: {queue: q}}}
                        colour: blue
                        """ + OK_TAIL, "ferry.yaml:2: colour: unknown key; expected one of [embedded-sqs, aws, ledger, "
                        + "sources, sinks, routes, unmatched, listener, stats-every, metrics, logging, admin, tracing]"),
                broken("a stall bound too short to mean a wedge", """
                        sources: {s: {sqs: {queue: q}}}
                        admin:
                          stall-after: 2s
                        """ + OK_TAIL, "ferry.yaml:3: admin.stall-after: must be at least 10s"),
                broken("a stall bound past what a clock can count (a 'never')", """
                        sources: {s: {sqs: {queue: q}}}
                        admin:
                          stall-after: 200000d
                        """ + OK_TAIL, "ferry.yaml:3: admin.stall-after: at most 36500d (100 years), was 200000d"),
                broken("a shutdown deadline past what a clock can count", """
                        sources: {s: {sqs: {queue: q}}}
                        listener:
                          shutdown-deadline: 200000d
                        """ + OK_TAIL, "ferry.yaml:3: listener.shutdown-deadline: at most 36500d (100 years), was 200000d"),
                broken("an OTLP endpoint that is not a URL", """
                        sources: {s: {sqs: {queue: q}}}
                        tracing:
                          otlp-endpoint: collector:4318
                        """ + OK_TAIL, "ferry.yaml:3: tracing.otlp-endpoint: not an http(s) URL such as http://127.0.0.1:4318"),
                broken("a sample ratio above 1", """
                        sources: {s: {sqs: {queue: q}}}
                        tracing:
                          sample-ratio: 10
                        """ + OK_TAIL, "ferry.yaml:3: tracing.sample-ratio: must be a number from 0 to 1"),
                broken("unknown log format", """
                        sources: {s: {sqs: {queue: q}}}
                        logging:
                          format: yaml
                        """ + OK_TAIL, "ferry.yaml:3: logging.format: 'yaml' is not one of [json, text]"),
                broken("unknown level of one logger", """
                        sources: {s: {sqs: {queue: q}}}
                        logging:
                          levels: {org.apache.kafka: loud}
                        """ + OK_TAIL, "ferry.yaml:3: logging.levels: org.apache.kafka: 'loud' is not one of [debug, error, info, "
                        + "off, trace, warn]"),
                broken("unknown key in an adapter's section", """
                        sources:
                          s:
                            sqs: {queue: q, visibility: 30s}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.visibility: unknown key; expected one of "
                        + "[queue, max-wait, allowed-senders]"),
                broken("source with no transport", """
                        sources:
                          s:
                            format: raw
                        """ + OK_TAIL, "ferry.yaml:3: sources.s: where the source reads from is missing: one of "
                        + "[http, kafka, sqs]"),
                broken("source with two transports", """
                        sources:
                          s:
                            sqs: {queue: q}
                            kafka: {bootstrap-servers: "h:9092", topics: [t]}
                        """ + OK_TAIL, "ferry.yaml:4: sources.s.kafka: a source reads from one place; found [sqs, kafka]"),
                broken("unknown format", """
                        sources:
                          s: {sqs: {queue: q}, format: xml}
                        """ + OK_TAIL, "ferry.yaml:2: sources.s.format: 'xml' is not one of [auto, json, mturk, raw, s3, "
                        + "sns, sns+mturk, sns+s3]"),
                broken("missing queue", """
                        sources:
                          s:
                            sqs: {}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.queue: missing"),
                broken("long poll over 20 s", """
                        sources:
                          s:
                            sqs: {queue: q, max-wait: 30s}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.max-wait: SQS long polls last at most 20s, was 30s"),
                broken("kafka source without topics", """
                        sources:
                          s:
                            kafka:
                              bootstrap-servers: "h:9092"
                        """ + OK_TAIL, "ferry.yaml:4: sources.s.kafka.topics: at least one topic is needed"),
                broken("kafka source overriding auto-commit", """
                        sources:
                          s:
                            kafka: {bootstrap-servers: "h:9092", topics: [t], properties: {enable.auto.commit: "true"}}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.kafka.properties: 'enable.auto.commit' is Ferry's to set"),
                broken("kafka source weakening its dead-letter producer", """
                        sources:
                          s:
                            kafka: {bootstrap-servers: "h:9092", topics: [t], properties: {acks: "1"}}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.kafka.properties: 'acks' is Ferry's to set for the dead-letter producer"),
                broken("kafka source with a transactional dead-letter producer", """
                        sources:
                          s:
                            kafka: {bootstrap-servers: "h:9092", topics: [t], properties: {transactional.id: "x"}}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.kafka.properties: 'transactional.id' is Ferry's to set"),
                broken("http source without auth", """
                        sources:
                          s:
                            http: {listen: "127.0.0.1:8080"}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.http.auth: missing"),
                broken("http source with a bad address", """
                        sources:
                          s:
                            http: {listen: "8080", auth: none}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.http.listen: expected HOST:PORT such as 127.0.0.1:8080, was '8080'"),
                broken("bearer auth without a token", """
                        sources:
                          s:
                            http: {auth: bearer}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.http.token: auth: bearer needs a token"),
                broken("unknown sink type", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks:
                          out: {type: carrier-pigeon}
                        routes: [{to: [out]}]
                        """, "ferry.yaml:3: sinks.out.type: 'carrier-pigeon' is not one of [file, http, kafka, log, sqs]"),
                broken("http sink with a non-HTTP URL", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks:
                          api:
                            type: http
                            url: ftp://example.com/x
                        routes: [{to: [api]}]
                        """, "ferry.yaml:5: sinks.api.url: url 'ftp://example.com/…' must start with http:// or https://"),
                broken("http sink with an unsupported method", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks:
                          api: {type: http, url: "http://127.0.0.1/x", method: GET}
                        routes: [{to: [api]}]
                        """, "ferry.yaml:3: sinks.api.method: 'GET' is not one of [PATCH, POST, PUT]"),
                broken("kafka sink with an invalid topic", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks:
                          k: {type: kafka, bootstrap-servers: "h:9092", topic: "new archive"}
                        routes: [{to: [k]}]
                        """, "ferry.yaml:3: sinks.k.topic: Kafka topic names are 1-249 of [A-Za-z0-9._-], was 'new archive'"),
                broken("FIFO sink fed by events without group keys", """
                        sources:
                          s: {sqs: {queue: plain}, format: raw}
                        sinks:
                          out:
                            type: sqs
                            queue: out.fifo
                        routes: [{to: [out]}]
                        """, "ferry.yaml:6: sinks.out.queue: queue 'out.fifo' is FIFO, so every message needs a group, but "
                        + "the events of source 's' (format raw, sqs) may have no group key"),
                broken("delay on a FIFO sink", """
                        sources: {s: {sqs: {queue: q}, format: mturk}}
                        sinks:
                          out: {type: sqs, queue: out.fifo, delay: 5s}
                        routes: [{to: [out]}]
                        """, "ferry.yaml:3: sinks.out.delay: FIFO queues take no per-message delay"),
                broken("deduplication on a standard queue", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks:
                          out: {type: sqs, queue: out, deduplication: content}
                        routes: [{to: [out]}]
                        """, "ferry.yaml:3: sinks.out.deduplication: only FIFO queues (names ending in .fifo) deduplicate"),
                broken("route to a missing sink", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks: {log: {type: log}}
                        routes:
                          - to: [log, nowhere]
                        """, "ferry.yaml:4: routes[0].to: no sink named 'nowhere' (sinks: [log])"),
                broken("route with type and type-prefix", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks: {log: {type: log}}
                        routes:
                          - match: {type: A, type-prefix: B}
                            to: [log]
                        """, "ferry.yaml:4: routes[0].match.type-prefix: give one of type, types or type-prefix"),
                broken("lease not a duration", """
                        sources: {s: {sqs: {queue: q}}}
                        listener:
                          lease: 30 seconds
                        """ + OK_TAIL, "ferry.yaml:3: listener.lease: expected a duration like 500ms, 30s, 1m30s, 2h or 7d "
                        + "(or ISO-8601 such as PT1M30S), was '30 seconds'"),
                broken("visibility shorter than the extension period", """
                        sources: {s: {sqs: {queue: q}}}
                        listener:
                          lease: 30s
                          extend-every: 45s
                        """ + OK_TAIL, "ferry.yaml:4: listener.extend-every: must be shorter than the lease by at least 1s"),
                broken("pollers out of range", """
                        sources: {s: {sqs: {queue: q}}}
                        listener: {pollers: 0}
                        """ + OK_TAIL, "ferry.yaml:2: listener.pollers: must be 1..64, was 0"),
                broken("ledger forgetting before redeliveries end", """
                        sources: {s: {sqs: {queue: q}}}
                        ledger: {kind: memory, ttl: 1m}
                        listener: {lease: 60s, max-receives: 5}
                        """ + OK_TAIL, "ferry.yaml:2: ledger.ttl: must outlast every redelivery of a message "
                        + "(max-receives x lease = 300s)"),
                broken("an in-memory ledger with no room", """
                        sources: {s: {sqs: {queue: q}}}
                        ledger: {kind: memory, max-entries: 0}
                        """ + OK_TAIL, "ferry.yaml:2: ledger.max-entries: must be 1..100000000, was 0"),
                broken("unknown ledger kind", """
                        sources: {s: {sqs: {queue: q}}}
                        ledger: {kind: redis}
                        """ + OK_TAIL, "ferry.yaml:2: ledger.kind: 'redis' is not one of [dynamodb, memory, mvstore]"),
                broken("unknown key in the ledger's section", """
                        sources: {s: {sqs: {queue: q}}}
                        ledger:
                          kind: mvstore
                          file: x.db
                        """ + OK_TAIL, "ferry.yaml:4: ledger.file: unknown key; expected one of [kind, ttl, path, fsync]"),
                broken("unset environment variable", """
                        sources:
                          s:
                            sqs: {queue: "${MISSING_QUEUE}"}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.queue: environment variable MISSING_QUEUE is not set "
                        + "(write ${MISSING_QUEUE:-default} for a default)"),
                broken("a shell's $NAME for a variable that is set (taken as the text, a guessable secret)", """
                        sources:
                          s:
                            sqs: {queue: $HOME_DIR}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.queue: '$HOME_DIR' is taken as it is written, not as "
                        + "the variable HOME_DIR; write ${HOME_DIR}"),
                broken("Kubernetes' $(NAME)", """
                        sources:
                          s:
                            sqs: {queue: "$(HOME_DIR)"}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.queue: '$(HOME_DIR)' is taken as it is written"),
                broken("a ${...} form Ferry does not read", """
                        sources:
                          s:
                            sqs: {queue: "${HOME_DIR:?required}"}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.queue: '${HOME_DIR:?required}' holds a ${...} Ferry does "
                        + "not read: only ${NAME} and ${NAME:-default} are"),
                broken("Spring's ${NAME:default}, a secret's default kept as the text anyone reads", """
                        sources:
                          s:
                            http: {auth: bearer, token: "${INGEST_TOKEN:changeme-changeme}"}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.http.token: '${INGEST_TOKEN:changeme-changeme}' holds a "
                        + "${...} Ferry does not read"),
                broken("an admin token no header can carry", """
                        sources:
                          s: {sqs: {queue: q}}
                        admin: {token: "ferry\u2014admin\u2014token\u20142024"}
                        """ + OK_TAIL, "ferry.yaml:3: admin.token: an admin token is sent in a header: printable ASCII only"),
                broken("an embedded SQS server beside an endpoint elsewhere", """
                        embedded-sqs: {port: 9324}
                        aws: {endpoint: "https://sqs.eu-west-1.amazonaws.com"}
                        sources:
                          s: {sqs: {queue: q}}
                        """ + OK_TAIL, "ferry.yaml:2: aws.endpoint: with embedded-sqs the endpoint is the embedded server's"),
                broken("a reference written with spaces", """
                        sources:
                          s:
                            sqs: {queue: "${ HOME_DIR }"}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.queue: '${ HOME_DIR }' holds a ${...} Ferry does not read"),
                broken("a reference in a key", """
                        sources:
                          s: {sqs: {queue: q}}
                        sinks: {log: {type: log}}
                        routes:
                          - match: {attributes: {"${HOME_DIR}": acme}}
                            to: [log]
                        """, "ferry.yaml:5: routes[0].match.attributes.${HOME_DIR}: a key is taken as written: ${...} is read in values only"),
                broken("an empty JSON Pointer", """
                        sources:
                          s:
                            sqs: {queue: q}
                            format: json
                            json: {id: ""}
                        """ + OK_TAIL, "ferry.yaml:5: sources.s.json.id: a JSON Pointer starts with / (e.g. /order/id); "
                        + "leave id out to read none"),
                broken("a default holding another reference", """
                        sources:
                          s:
                            sqs: {queue: "${NO_QUEUE:-${HOME_DIR}}"}
                        """ + OK_TAIL, "ferry.yaml:3: sources.s.sqs.queue: '${NO_QUEUE:-${HOME_DIR}}': a default holding "
                        + "another ${...} is not read"),
                broken("json pointers without format json", """
                        sources:
                          s: {sqs: {queue: q}, format: raw, json: {id: /id}}
                        """ + OK_TAIL, "ferry.yaml:2: sources.s.json: only used with format: json"),
                broken("a JSON Pointer without its slash", """
                        sources:
                          s:
                            sqs: {queue: q}
                            format: json
                            json: {id: trade}
                        """ + OK_TAIL, "ferry.yaml:5: sources.s.json.id: a JSON Pointer starts with / (e.g. /order/id), was 'trade'"),
                broken("a JSON Pointer holding another", """
                        sources:
                          s:
                            sqs: {queue: q}
                            format: json
                            json: {id: /order/id, type: /order}
                        """ + OK_TAIL, "ferry.yaml:5: sources.s.json.type: /order holds id /order/id: it would read an object "
                        + "there, and every event would be malformed"),
                broken("metrics on a bad address", """
                        sources: {s: {sqs: {queue: q}}}
                        metrics: {listen: "localhost"}
                        """ + OK_TAIL, "ferry.yaml:2: metrics.listen: expected HOST:PORT such as 127.0.0.1:9464, was 'localhost'"),
                broken("two routes of one name", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks: {log: {type: log}}
                        routes:
                          - {name: audit, to: [log]}
                          - {name: audit, to: [log]}
                        """, "ferry.yaml:5: routes[1].name: another route is named 'audit' too"),
                broken("a named route colliding with an unnamed one's default name", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks: {log: {type: log}}
                        routes:
                          - {name: route-1, to: [log]}
                          - {to: [log]}
                        """, "ferry.yaml:5: routes[1].name: another route is named 'route-1' too (an unnamed route"),
                broken("a blank route name", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks: {log: {type: log}}
                        routes:
                          - {name: " ", to: [log]}
                        """, "ferry.yaml:4: routes[0].name: a route's name must not be blank"),
                broken("an attribute to match left without a value", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks: {log: {type: log}}
                        routes:
                          - {match: {attributes: {tenant: }}, to: [log]}
                        """, "ferry.yaml:4: routes[0].match.attributes.tenant: needs a value"),
                broken("a list item left without a value", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks: {log: {type: log}}
                        routes:
                          - {match: {types: [Order, ~]}, to: [log]}
                        """, "ferry.yaml:4: routes[0].match.types: a list item needs a value"),
                broken("a boolean that is not one", """
                        sources: {s: {sqs: {queue: q}}}
                        ledger: {kind: dynamodb, create-table: sometimes}
                        """ + OK_TAIL, "ferry.yaml:2: ledger.create-table: expected true or false, was 'sometimes'"),
                broken("a tag this reader does not read (a review: !ENV NAME became the text NAME, a token anyone knows)",
                        """
                        sources: {s: {sqs: {queue: q}}}
                        admin: {token: !ENV FERRY_ADMIN_TOKEN}
                        """ + OK_TAIL, "ferry.yaml:2: (yaml): the tag !ENV is not read here"),
                broken("a key that is a list (a review: dropped with its value, the default used)", """
                        sources: {s: {sqs: {queue: q}}}
                        listener: {[concurrency]: 8}
                        """ + OK_TAIL, "ferry.yaml:2: listener: a key must be a single value, not a list or a mapping"),
                broken("two file sinks on one file (a review: validated, then the second refused at start)", """
                        sources: {s: {sqs: {queue: q}}}
                        sinks:
                          a: {type: file, path: ~/out.jsonl}
                          b: {type: file, path: "%s/./out.jsonl"}
                        routes:
                          - to: [a, b]
                        """.formatted(System.getProperty("user.home")), "ferry.yaml:4: sinks.b.path: sink 'a' writes "),
                broken("an embedded SQS server beside an endpoint on this machine's other port (a review: LocalStack's "
                        + "queues were made and read as the embedded server's)", """
                        embedded-sqs: {port: 9324}
                        aws: {endpoint: "${AWS_ENDPOINT_URL:-http://localhost:4566}"}
                        sources:
                          s: {sqs: {queue: q}}
                        """ + OK_TAIL, "ferry.yaml:2: aws.endpoint: with embedded-sqs the endpoint is the embedded "
                        + "server's, port 9324 (embedded-sqs.port), but 'http://localhost:4566' is port 4566"),
                broken("two HTTP sources on one listen, other paths (a review: each binds a server of its own, and the "
                        + "run failed \"Address already in use\")", """
                        sources:
                          a: {http: {listen: "127.0.0.1:8080", path: /a, auth: none}, format: raw}
                          b: {http: {listen: "127.0.0.1:8080", path: /b, auth: none}, format: raw}
                        """ + OK_TAIL, "ferry.yaml:3: sources.b.http.listen: source 'b' on 127.0.0.1:8080 and source 'a' "
                        + "on 127.0.0.1:8080 take one port"),
                broken("metrics on every address at an HTTP source's default port (a review: the run said to set "
                        + "admin.listen)", """
                        sources:
                          s: {http: {auth: none}, format: raw}
                        metrics: {listen: "0.0.0.0:8080"}
                        """ + OK_TAIL, "ferry.yaml:3: metrics.listen: the metrics server on 0.0.0.0:8080 and source 's' "
                        + "on 127.0.0.1:8080 (the default) take one port"),
                broken("an HTTP source on the embedded SQS server's port", """
                        embedded-sqs: {port: 9324}
                        sources:
                          s: {sqs: {queue: q}}
                          web: {http: {listen: "localhost:9324", auth: none}, format: raw}
                        """ + OK_TAIL, "ferry.yaml:4: sources.web.http.listen: source 'web' on localhost:9324 and the "
                        + "embedded SQS server on 127.0.0.1:9324 take one port"));
    }

    private static Arguments broken(String what, String yaml, String expected) {
        return Arguments.of(what, yaml, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenConfigs")
    void brokenConfig_isRefused_withFileLineFieldAndReason(String what, String yaml, String expected) {
        assertThat(ConfigReaderTest.errors(yaml)).as(what).anySatisfy(error -> assertThat(error).startsWith(expected));
    }

    @org.junit.jupiter.api.Test // a review of the fix: a token with spaces inside worked end to end; it stays accepted
    void anAdminTokenWithSpacesInside_isAccepted() {
        var result = ConfigReaderTest.parse("""
                sources:
                  s: {sqs: {queue: q}}
                admin: {token: "correct horse battery staple x"}
                """ + OK_TAIL);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(dev.ferry.app.config.ConfigReader.Result.Ok.class);
    }

    @org.junit.jupiter.api.Test // a review: ${AWS_ENDPOINT_URL:-} unset made the endpoint "", and the run went to real AWS
    void aBlankEndpointBesideTheEmbeddedServer_isTheEmbeddedServer() {
        var result = ConfigReaderTest.parse("""
                embedded-sqs: {port: 9324}
                aws: {endpoint: "${AWS_ENDPOINT_URL:-}"}
                sources:
                  s: {sqs: {queue: q}}
                """ + OK_TAIL);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(dev.ferry.app.config.ConfigReader.Result.Ok.class);
        var config = ((dev.ferry.app.config.ConfigReader.Result.Ok) result).config();
        assertThat(config.aws().endpoint()).hasToString("http://127.0.0.1:9324");
        assertThat(new RunContext(config, true).awsEndpoint()).as("where the run's SQS client goes")
                .contains(java.net.URI.create("http://127.0.0.1:9324"));
    }

    @org.junit.jupiter.api.Test // metrics on the admin address is one server; on another address of the port, two
    void metricsAndAdmin_onOnePort_areRefused_unlessTheyAreOneAddress() {
        String tail = "sources: {s: {sqs: {queue: q}}}\n" + OK_TAIL;
        assertThat(ConfigReaderTest.parse("metrics: {listen: \"0.0.0.0:9464\"}\nadmin: {listen: \"0.0.0.0:9464\"}\n"
                + tail)).isInstanceOf(dev.ferry.app.config.ConfigReader.Result.Ok.class);
        assertThat(ConfigReaderTest.errors("metrics: {listen: \"0.0.0.0:9464\"}\nadmin: {listen: \"127.0.0.1:9464\"}\n"
                + tail)).anySatisfy(e -> assertThat(e).startsWith("ferry.yaml:2: admin.listen: the admin server on "
                + "127.0.0.1:9464 and the metrics server on 0.0.0.0:9464 take one port"));
    }

    @org.junit.jupiter.api.Test // FERRY_ADMIN_LISTEN is no key of the file: the source the file places there is named
    void anHttpSourceOnTheAdminAddressFromTheEnvironment_isRefusedAtTheSource() {
        var result = dev.ferry.app.config.ConfigReader.parse("ferry.yaml", """
                sources:
                  web: {http: {listen: "127.0.0.1:9465", auth: none}, format: raw}
                """ + OK_TAIL, java.util.Map.of("FERRY_ADMIN_LISTEN", "0.0.0.0:9465")::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).isInstanceOf(dev.ferry.app.config.ConfigReader.Result.Invalid.class);
        assertThat(((dev.ferry.app.config.ConfigReader.Result.Invalid) result).errors().stream().map(Object::toString)
                .toList()).anySatisfy(e -> assertThat(e).startsWith("ferry.yaml:2: sources.web.http.listen: source 'web' on "
                        + "127.0.0.1:9465 and the admin server on 0.0.0.0:9465 (FERRY_ADMIN_LISTEN, or the default) take "
                        + "one port"));
    }

    @org.junit.jupiter.api.Test // a review: the metrics server alone, its port taken, said to set admin.listen
    void aMetricsPortTakenAtRun_namesMetricsListen() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             var observability = new Observability()) {
            var address = new dev.ferry.app.config.FerryConfig.Address("127.0.0.1", taken.getLocalPort());
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> observability.serve(address, false))
                    .hasMessageContaining("set metrics.listen").hasMessageNotContaining("admin.listen");
        }
    }

    @org.junit.jupiter.api.Test
    void thereAreAtLeastTwentyBrokenConfigs() {
        assertThat(brokenConfigs().count()).isGreaterThanOrEqualTo(20);
    }
}
