package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.app.config.ConfigReader;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What passes as text among the {@code $} forms Ferry does not read (the refused ones are in
 * {@link BrokenConfigTest}): a Kafka config provider's {@code ${file:...}} is for Kafka to read, and a
 * value that only looks like {@code $NAME} is a value when no such variable is set.
 */
class EnvReferencesTest {

    private static final String TAIL = "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";

    @Test
    void aKafkaConfigProvidersReference_isPassedOnAsText() {
        var result = ConfigReader.parse("ferry.yaml", """
                sources:
                  s:
                    kafka:
                      bootstrap-servers: "k1:9092"
                      topics: [orders]
                      properties: {sasl.jaas.config: "x password=\\"${file:/etc/kafka/secrets:pw}\\";", ssl.key.password: "${env:PW}",
                                   ssl.truststore.password: "${aws-secrets:kafka/prod:truststore}",
                                   config.providers: "file, env,aws-secrets"}
                """ + TAIL, Map.of("HOME_DIR", "/srv")::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
        var kafka = (KafkaSourceConfig) ((ConfigReader.Result.Ok) result).config().sources().get("s").plan();
        assertThat(kafka.properties()).containsEntry("sasl.jaas.config", "x password=\"${file:/etc/kafka/secrets:pw}\";")
                .containsEntry("ssl.key.password", "${env:PW}")
                .containsEntry("ssl.truststore.password", "${aws-secrets:kafka/prod:truststore}"); // a review: a provider's
                // name with a hyphen was read as the shell's ${NAME-x}

    }

    @Test // a last review: Spring's ${BROKERS:localhost:9092} has a provider's shape; with no such provider Kafka keeps it
          // as the text (a password sent as "${KAFKA_PW:changeme}")
    void aReferenceOfAProviderKafkaIsNotGiven_isRefused() {
        var result = ConfigReader.parse("ferry.yaml", """
                sources:
                  s:
                    kafka:
                      bootstrap-servers: "k1:9092"
                      topics: [orders]
                      properties: {sasl.jaas.config: "x password=\\"${KAFKA_PW:changeme}\\";", config.providers: file}
                """ + TAIL, Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(String.valueOf(result)).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class,
                invalid -> assertThat(String.valueOf(invalid)).contains("holds a ${...} Ferry does not read"));
    }

    @Test // a variable set to nothing made a route match no type: its events went the catch-all's way, or were dropped
    void aRouteTypeFromAnEmptyVariable_isRefused() {
        // (a blank not-types item leaves nothing out: a template's "${EXTRA:-}" there is accepted, AllowedSendersTest)
        for (String match : new String[] {"type: \"${T}\"", "types: [\"${T}\"]", "attributes: {tenant: \"${T}\"}"}) {
            var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: orders}}}\n"
                    + "sinks: {log: {type: log}}\nroutes:\n  - match: {" + match + "}\n    to: [log]\n  - to: [log]\n",
                    Map.of("T", "")::get, ConfigReaderTest.ADAPTERS);
            assertThat(result).as(match + ": " + result).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class,
                    invalid -> assertThat(String.valueOf(invalid)).contains("blank"));
        }
    }

    @Test // a review: "Orders\n" from a variable (a Secret made --from-file) matched no event: each was dead-lettered as
          // unmatched, or acked unhandled under unmatched: ignore
    void aRouteMatchWhoseVariableAddsWhitespace_isRefused_namingTheKeyAndTheVariable() {
        for (String key : new String[] {"type", "types", "type-prefix", "not-types", "attributes"}) {
            String match = switch (key) {
                case "types", "not-types" -> key + ": [Other, \"${T}\"]";
                case "attributes" -> "attributes: {tenant: \"${T}\"}";
                default -> key + ": \"${T}\"";
            };
            var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: orders}}}\n"
                    + "sinks: {log: {type: log}}\nroutes:\n  - match: {" + match + "}\n    to: [log]\n  - to: [log]\n",
                    Map.of("T", "Orders\n")::get, ConfigReaderTest.ADAPTERS);
            assertThat(result).as(match + ": " + result).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class,
                    invalid -> assertThat(invalid.errors()).singleElement().asString().startsWith("ferry.yaml:4: routes[0]"
                            + ".match." + key + ": '${T}': the variable T puts \"\\n\" at the value's end")
                            .doesNotContain("Orders"));
        }
        // written in the file, whitespace is meant (and only a route's match is compared so: a route's name may hold it)
        var written = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: orders}}}\nsinks: {log: {type: log}}\n"
                + "routes:\n  - name: \"${N}\"\n    match: {type: \" Orders\", attributes: {tenant: \"${T} \"}}\n"
                + "    to: [log]\n", Map.of("T", "acme", "N", "orders ")::get, ConfigReaderTest.ADAPTERS);
        assertThat(written).as(String.valueOf(written)).isInstanceOfSatisfying(ConfigReader.Result.Ok.class, ok -> {
            var route = ok.config().routes().getFirst();
            assertThat(route.type()).isEqualTo(" Orders");
            assertThat(route.attributes()).containsEntry("tenant", "acme ");
        });
    }

    @Test // a Kafka topic or a route's sink from a variable ending in a newline: named nothing the file passed for
    void aTopicOrARoutesSinkWhoseVariableAddsWhitespace_isRefused_namingTheVariable() {
        var result = ConfigReader.parse("ferry.yaml", """
                sources: {s: {kafka: {bootstrap-servers: "127.0.0.1:9092", topics: [returns, "${TOPIC}"], group-id: g}}}
                sinks: {log: {type: log}}
                routes:
                  - to: ["${SINK}"]
                """, Map.of("TOPIC", "orders\n", "SINK", "\tlog")::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(String.valueOf(result)).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class, invalid ->
                assertThat(invalid.errors())
                        .anySatisfy(e -> assertThat(e).asString().startsWith("ferry.yaml:1: sources.s.kafka.topics: '${TOPIC}': "
                                + "the variable TOPIC puts \"\\n\" at the value's end"))
                        .anySatisfy(e -> assertThat(e).asString().startsWith("ferry.yaml:4: routes[0].to: '${SINK}': the "
                                + "variable SINK puts \"\\t\" at the value's start")));
    }

    @Test // the whitespace check ran when the reader's count of errors had not grown, and a problem said already is
          // listed once: the second item naming the unset variable the first named was judged, filled in without it, and
          // refused for the set variable beside it while the first, alike, was not
    void twoItemsNamingOneUnsetVariable_areSaidUnset_andNeitherIsJudgedForWhitespace() {
        var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: orders, allowed-senders: "
                + "[\"${A}${MISSING}\", \"${B}${MISSING}\"]}, format: mturk}}\n" + TAIL,
                Map.of("A", "AIDA1\n", "B", "AIDA2\n")::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(String.valueOf(result)).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class,
                invalid -> assertThat(invalid.errors()).singleElement().asString().startsWith("ferry.yaml:1: "
                        + "sources.s.sqs.allowed-senders: environment variable MISSING is not set"));
    }

    @Test // a review: the blank refusal hit every mapping, and files that started before no longer did
    void otherMapsValues_blankFromAVariable_areValues() {
        var result = ConfigReader.parse("ferry.yaml", """
                sources: {s: {kafka: {bootstrap-servers: "127.0.0.1:9092", topics: [t], group-id: g,
                                      properties: {client.rack: "${KAFKA_RACK:-}"}}}}
                sinks: {api: {type: http, url: "http://127.0.0.1:9/x", headers: {X-Env: "${ENV:-}"}}}
                routes:
                  - to: [api]
                """, Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test // an attribute written empty is a match for events whose attribute is empty, on purpose
    void aRouteAttributeWrittenEmpty_isAValue() {
        var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: orders}}}\n"
                + "sinks: {log: {type: log}}\nroutes:\n  - match: {attributes: {tenant: \"\"}}\n    to: [log]\n",
                Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void aValueThatOnlyLooksLikeAVariable_isAValue_whenNoneSuchIsSet() {
        var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: \"$orders\"}}}\n" + TAIL,
                Map.of("HOME_DIR", "/srv")::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(String.valueOf(result)).isInstanceOf(ConfigReader.Result.Ok.class);
    }
}
