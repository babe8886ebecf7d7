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
