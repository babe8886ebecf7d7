package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigError;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigReaderTest {

    private static ConfigReader.Result parse(String yaml) {
        return ConfigReader.parse("ferry.yaml", yaml, Map.of("HOME_DIR", "/srv")::get);
    }

    private static List<String> errors(String yaml) {
        var result = parse(yaml);
        assertThat(result).isInstanceOf(ConfigReader.Result.Invalid.class);
        return ((ConfigReader.Result.Invalid) result).errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void theLocalExample_isValid() {
        var result = ConfigReader.read(Path.of("../examples/local.yaml"), Map.<String, String>of()::get);
        assertThat(result).isInstanceOf(ConfigReader.Result.Ok.class);
        FerryConfig config = ((ConfigReader.Result.Ok) result).config();
        assertThat(config.embeddedSqsPort()).isEqualTo(9324);
        assertThat(config.aws().endpoint()).hasToString("http://127.0.0.1:9324");
        assertThat(config.ledger().path()).isEqualTo(Path.of("ferry-ledger.db"));
        assertThat(config.sources().get("mturk").queue()).isEqualTo("mturk-events");
        assertThat(config.routes()).extracting(FerryConfig.RouteSpec::type).containsExactly("AssignmentSubmitted", null);
        var router = ((ConfigReader.Result.Ok) ConfigReader.read(Path.of("../examples/mturk-router.yaml"),
                Map.of("MTURK_SENDER_ID", "AIDA123")::get)).config();
        assertThat(router.routes()).extracting(FerryConfig.RouteSpec::typePrefix).containsExactly(null, "HIT", null);
        assertThat(router.sources().get("mturk").allowedSenders()).containsExactly("AIDA123");
        assertThat(config.listener().lease()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void everyExample_isValid() throws Exception {
        try (var files = java.nio.file.Files.list(Path.of("../examples"))) {
            var examples = files.filter(f -> f.toString().endsWith(".yaml")).toList();
            assertThat(examples).hasSizeGreaterThanOrEqualTo(4);
            for (var example : examples) {
                var result = ConfigReader.read(example, Map.<String, String>of()::get);
                assertThat(result).as(example + ": " + result).isInstanceOf(ConfigReader.Result.Ok.class);
            }
        }
    }

    @Test
    void httpAndKafkaSinks_areRead_withTheirSettings() {
        var config = ((ConfigReader.Result.Ok) ConfigReader.read(Path.of("../examples/s3-to-kafka.yaml"),
                Map.of("QA_KAFKA", "qa:9092")::get)).config();
        assertThat(config.sinks().get("qa").options()).containsEntry("bootstrap-servers", "qa:9092")
                .containsEntry("topic", "qa-archive-new").containsEntry("value-from-attribute", "objectKey");
        var listener = ((ConfigReader.Result.Ok) ConfigReader.read(Path.of("../examples/event-listener.yaml"),
                Map.<String, String>of()::get)).config();
        assertThat(listener.sinks().get("api").options()).containsEntry("method", "POST")
                .containsEntry("throttle-default", "300000").containsEntry("bearer-token-env", "API_TOKEN");
        assertThat(errors("""
                sources: {s: {sqs: {queue: q}}}
                sinks:
                  api: {type: http, url: ftp://x, method: GET}
                routes: [{to: [api]}]
                """)).anySatisfy(e -> assertThat(e).contains("sinks.api.url: must start with http"))
                .anySatisfy(e -> assertThat(e).contains("sinks.api.method: 'GET' is not one of [PATCH, POST, PUT]"));
    }

    @Test
    void everyError_isListed_withFileLineAndField() {
        var errors = errors("""
                sources:
                  events:
                    sqs:
                      queue: events
                    format: xml
                    colour: blue
                sinks:
                  out:
                    type: carrier-pigeon
                routes:
                  - to: [out, nowhere]
                listener:
                  lease: 30 seconds
                  pollers: 0
                ledger:
                  path: ${MISSING_DIR}/ledger.db
                """);
        assertThat(errors).contains(
                "ferry.yaml:6: sources.events.colour: unknown key; expected one of [sqs, format, allowed-senders]",
                "ferry.yaml:9: sinks.out.type: 'carrier-pigeon' is not one of [http, kafka, log, sqs]",
                "ferry.yaml:11: routes[0].to: no sink named 'nowhere' (sinks: [out])",
                "ferry.yaml:13: listener.lease: expected a duration like 500ms, 30s, 5m, 2h or 7d, was '30 seconds'",
                "ferry.yaml:14: listener.pollers: must be 1..64, was 0");
        assertThat(errors).anySatisfy(e -> assertThat(e).startsWith("ferry.yaml:5: sources.events.format:").contains("xml"));
        assertThat(errors).anySatisfy(e -> assertThat(e).startsWith("ferry.yaml:16: ledger.path: environment variable MISSING_DIR is not set"));
    }

    @Test
    void environmentVariables_areSubstituted_withDefaults() {
        var result = parse("""
                ledger:
                  path: ${HOME_DIR}/ledger-${SUFFIX:-a}.db
                sources:
                  s:
                    sqs: {queue: q}
                sinks:
                  log: {type: log}
                routes:
                  - to: [log]
                """);
        assertThat(((ConfigReader.Result.Ok) result).config().ledger().path()).isEqualTo(Path.of("/srv/ledger-a.db"));
    }

    @Test
    void brokenYaml_andMissingParts_areErrorsNotExceptions() {
        assertThat(errors("sources: [unclosed")).singleElement().asString().startsWith("ferry.yaml:");
        assertThat(errors("just a string")).singleElement().asString().contains("expected a mapping");
        assertThat(errors("sinks: {}\n")).anySatisfy(e -> assertThat(e).contains("sources: at least one source"))
                .anySatisfy(e -> assertThat(e).contains("routes: at least one route"));
        assertThat(errors("sources:\n  a:\n    sqs: {queue: q}\n  a:\n    sqs: {queue: r}\nroutes: []\n"))
                .anySatisfy(e -> assertThat(e).containsIgnoringCase("duplicate"));
    }
}
