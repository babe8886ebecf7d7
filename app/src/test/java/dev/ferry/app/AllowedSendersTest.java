package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.ConfigError;
import dev.ferry.app.config.ConfigReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A review: {@code allowed-senders: ["${S}"]} with S set but empty allowed the sender "", and the MTurk
 * example defaulted to a made-up one; either passed {@code ferry validate}, and every real notification was
 * dead-lettered as a foreign sender's.
 */
class AllowedSendersTest {

    private static final String YAML = """
            sources:
              mturk:
                sqs: {queue: q, allowed-senders: %s}
                format: mturk
            sinks: {log: {type: log}}
            routes:
              - to: [log]
            """;

    private static ConfigReader.Result parse(String senders, Map<String, String> env) {
        return ConfigReader.parse("ferry.yaml", YAML.formatted(senders), env::get, ConfigReaderTest.ADAPTERS);
    }

    private static List<String> errors(ConfigReader.Result result) {
        assertThat(result).isInstanceOf(ConfigReader.Result.Invalid.class);
        return ((ConfigReader.Result.Invalid) result).errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void aSenderIdThatIsEmptyOrBlank_isRefusedWhenTheFileIsRead_withItsKeyPath() {
        assertThat(errors(parse("[\"${S}\"]", Map.of("S", "")))).containsExactly(
                "ferry.yaml:3: sources.mturk.sqs.allowed-senders: a list item must not be empty or blank ('${S}' gave '')");
        assertThat(errors(parse("[\"\"]", Map.of()))).singleElement().asString()
                .startsWith("ferry.yaml:3: sources.mturk.sqs.allowed-senders: a list item must not be empty or blank");
        assertThat(errors(parse("[AIDA1, \"${S}\"]", Map.of("S", "  ")))).singleElement().asString()
                .contains("sources.mturk.sqs.allowed-senders").contains("must not be empty or blank");
        assertThat(errors(parse("[\"${S}\"]", Map.of()))).as("unset: said once, as unset").singleElement().asString()
                .contains("environment variable S is not set");

        var set = parse("[\"${S}\"]", Map.of("S", "AIDA1"));
        assertThat(set).isInstanceOfSatisfying(ConfigReader.Result.Ok.class, ok -> assertThat(ok.config().sources().get("mturk")
                .plan()).isInstanceOfSatisfying(SqsSourceConfig.class, sqs -> assertThat(sqs.allowedSenders())
                .containsExactly("AIDA1")));
    }

    @Test
    void anItemLeftEmptyByItsVariable_isRefusedWhereItNamesSomething_andLeftToOtherLists() {
        // a second review: refused in every list, a not-types: ["${EXTRA:-}"] template (and a plugin's list) that had
        // started before no longer did
        var yaml = "sources: {s: {sqs: {queue: q}, format: json}}\nsinks: {log: {type: log}}\n"
                + "routes: [{match: {not-types: [Order, \"${EXTRA:-}\"]}, to: [log, \"${MORE:-}\"]}]\n";
        var result = ConfigReader.parse("ferry.yaml", yaml, Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);
        assertThat(errors(result)).anySatisfy(e -> assertThat(e).contains("routes[0].to: a list item must not be empty"));
        assertThat(errors(result)).noneSatisfy(e -> assertThat(e).contains("not-types"));
    }

    @Test // a review: a SenderId from a Secret made --from-file kept the file's newline; the file passed, and every real
          // notification was dead-lettered as a foreign sender's
    void aSenderIdWhoseVariableAddsWhitespace_isRefused_namingTheKeyAndTheVariable() {
        assertThat(errors(parse("[\"${S}\"]", Map.of("S", "AIDA1\n")))).singleElement().asString()
                .startsWith("ferry.yaml:3: sources.mturk.sqs.allowed-senders: '${S}': the variable S puts \"\\n\" at the "
                        + "value's end, which is kept").doesNotContain("AIDA1");
        assertThat(errors(parse("[AIDA0, \"${S}\"]", Map.of("S", " AIDA1")))).singleElement().asString()
                .contains("sources.mturk.sqs.allowed-senders").contains("variable S puts \" \" at the value's start");
        assertThat(errors(parse("[\"${P}${S}\"]", Map.of("P", "AIDA", "S", "1\r\n")))).as("the variable at the end")
                .singleElement().asString().contains("variable S puts \"\\r\\n\" at the value's end");
    }

    @Test // refused, not trimmed: whitespace written in the file (a default's too) is the writer's, and kept
    void whitespaceWrittenInTheFile_isKept_whileAVariablesBesideItIsRefused() {
        var written = parse("[\"AIDA1 \", \" ${S}\", \"${U:- AIDA3}\"]", Map.of("S", "AIDA2"));
        assertThat(written).as(String.valueOf(written)).isInstanceOfSatisfying(ConfigReader.Result.Ok.class, ok -> assertThat(
                ok.config().sources().get("mturk").plan()).isInstanceOfSatisfying(SqsSourceConfig.class, sqs -> assertThat(
                sqs.allowedSenders()).containsExactly("AIDA1 ", " AIDA2", " AIDA3")));
        assertThat(errors(parse("[\" ${S}\"]", Map.of("S", "AIDA2\t")))).singleElement().asString()
                .contains("variable S puts \"\\t\" at the value's end");
    }

    @Test // a queue name or URL with a variable's newline named no queue the file passed for
    void aQueueWhoseVariableAddsWhitespace_isRefused_inASourceAndASink() {
        var result = ConfigReader.parse("ferry.yaml", """
                sources: {s: {sqs: {queue: "${IN}"}}}
                sinks: {out: {type: sqs, queue: "${OUT}"}}
                routes:
                  - to: [out]
                """, Map.of("IN", "orders\n", "OUT", " https://sqs.us-east-1.amazonaws.com/123456789012/out")::get,
                ConfigReaderTest.ADAPTERS);
        assertThat(errors(result)).hasSize(2)
                .anySatisfy(e -> assertThat(e).startsWith("ferry.yaml:1: sources.s.sqs.queue: '${IN}': the variable IN puts "
                        + "\"\\n\" at the value's end"))
                .anySatisfy(e -> assertThat(e).startsWith("ferry.yaml:2: sinks.out.queue: '${OUT}'")
                        .contains("variable OUT puts \" \" at the value's start"));
    }

    @Test
    void theMturkRouter_withItsSenderIdFromAFileEndingInANewline_isRefused() {
        var example = Path.of("../examples/mturk-router.yaml");
        var fromFile = ConfigReader.read(example, Map.of("MTURK_SENDER_ID", "AIDAEXAMPLE\n")::get, ConfigReaderTest.ADAPTERS);
        assertThat(errors(fromFile)).anySatisfy(e -> assertThat(e).contains("sources.mturk.sqs.allowed-senders")
                .contains("'${MTURK_SENDER_ID}': the variable MTURK_SENDER_ID puts \"\\n\" at the value's end"));
    }

    @Test
    void theMturkRouter_takesItsSenderIdFromTheEnvironment_withNoMadeUpDefault() {
        var example = Path.of("../examples/mturk-router.yaml");
        var missing = ConfigReader.read(example, Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);
        assertThat(errors(missing)).anySatisfy(e -> assertThat(e).contains("environment variable MTURK_SENDER_ID is not set"));
        var empty = ConfigReader.read(example, Map.of("MTURK_SENDER_ID", "")::get, ConfigReaderTest.ADAPTERS);
        assertThat(errors(empty)).anySatisfy(e -> assertThat(e).contains("sources.mturk.sqs.allowed-senders")
                .contains("must not be empty or blank"));
    }
}
