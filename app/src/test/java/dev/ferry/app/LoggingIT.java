package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar's logs, configured from the YAML file: text lines and JSON lines with the message's context. */
class LoggingIT {

    private static final String MTURK = """
            {"EventDocVersion":"2014-08-15","EventDocId":"doc-1","CustomerId":"C","Events":[{"EventType":"HITReviewable",\
            "EventTimestamp":"2026-11-30T10:00:00Z","HITId":"HIT-7","HITTypeId":"T"}]}""";

    @Test
    void jsonFormat_everyLineIsJson_withTheMessagesContext_andOneLinePerDeadLetter(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var config = write(dir, "json", "{dev.ferry.domain.listener.Listener: warn}");
            create(sqs, config);
            try (var ferry = FerryProcess.start(sqs.env(), "run", "--config", config.toString())) {
                ferry.awaitLine("listening on 'mturk'", Duration.ofSeconds(60));
                sqs.send("mturk-events", MTURK);
                sqs.send("mturk-events", "not an event document");
                ferry.awaitLine("dead-lettered message", Duration.ofSeconds(30));
                ferry.awaitLine("HITReviewable", Duration.ofSeconds(30));
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();

                var records = new ArrayList<Map<String, String>>();
                for (String line : ferry.output().lines().toList()) {
                    if (line.startsWith("WARNING: ")) {
                        continue; // the JVM's own warnings (sun.misc.Unsafe in Pekko), not a logger's
                    }
                    records.add(parse(line)); // fails on any line that is not one JSON object
                }
                assertThat(records).allSatisfy(r -> assertThat(r).containsKeys("time", "level", "thread", "logger", "message"));
                assertThat(records).extracting(r -> r.get("time")).allMatch(t -> t.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));

                var handled = only(records, r -> r.get("logger").equals("ferry.sink.log"));
                assertThat(handled).containsEntry("source", "mturk").containsEntry("event_key", "mturk:doc-1#0")
                        .containsEntry("group", "HIT-7").containsKey("message_id");
                var deadLetters = records.stream().filter(r -> r.get("message").contains("dead-letter")).toList();
                assertThat(deadLetters).as("one line per dead letter").hasSize(1);
                assertThat(deadLetters.getFirst()).containsEntry("source", "mturk").containsEntry("level", "WARN")
                        .containsKey("message_id");
                assertThat(records).as("third-party INFO stays out").noneMatch(r -> r.get("logger").startsWith("org.apache.pekko")
                        && r.get("level").equals("INFO"));
                assertThat(records).as("a level per logger: the listener's at warn").anyMatch(r -> r.get("logger").equals("ferry"))
                        .noneMatch(r -> r.get("logger").equals("dev.ferry.domain.listener.Listener") && r.get("level").equals("INFO"));
            }
        }
    }

    @Test
    void textFormat_linesCarryAnIsoTimestamp_level_thread_andLogger(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var config = write(dir, "text", "{}");
            create(sqs, config);
            try (var ferry = FerryProcess.start(sqs.env(), "run", "--config", config.toString())) {
                ferry.awaitLine("listening on 'mturk'", Duration.ofSeconds(60));
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
                assertThat(ferry.output().lines().filter(l -> l.contains("listening on 'mturk'")).findFirst().orElseThrow())
                        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  \\[main] ferry - "
                                + "listening on 'mturk' .*");
                assertThat(ferry.output()).contains("dev.ferry.domain.listener.Listener - listener 'mturk' started:")
                        .contains("lease 30s").doesNotContain("PT30S");
            }
        }
    }

    @Test // a review: level warn to quiet Ferry silenced the log sink too; its events were acked and no line written
    void levelWarn_quietsFerrysOwnLines_butALogSinkStillWritesItsLinePerEvent(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var config = dir.resolve("ferry.yaml");
            Files.writeString(config, """
                    aws: {region: us-east-1, endpoint: "${AWS_ENDPOINT_URL:-}"}
                    ledger: {kind: memory}
                    logging: {level: warn, levels: {ferry.sink.quiet: warn}}
                    admin: {listen: "off"}
                    sources:
                      mturk: {sqs: {queue: mturk-events}, format: mturk}
                    sinks:
                      log: {type: log}
                      quiet: {type: log}
                    routes:
                      - to: [log, quiet]
                    """);
            create(sqs, config);
            sqs.send("mturk-events", MTURK); // sent before the start: at warn no line says when Ferry listens
            try (var ferry = FerryProcess.start(sqs.env(), "run", "--config", config.toString())) {
                ferry.awaitLine("ferry.sink.log - HITReviewable", Duration.ofSeconds(60));
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
                assertThat(ferry.output()).as("Ferry's own INFO lines, and a sink turned down by name, stay quiet")
                        .doesNotContain("listening on 'mturk'").doesNotContain("ferry.sink.quiet");
            }
        }
    }

    private static void create(LocalSqs sqs, Path config) {
        var env = new java.util.HashMap<>(System.getenv());
        env.putAll(sqs.env());
        assertThat(Ferry.run(new String[] {"queues", "create", "-c", config.toString()}, System.out, System.err, env::get)).isZero();
    }

    private static Path write(Path dir, String format, String levels) throws IOException {
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, """
                aws: {region: us-east-1, endpoint: "${AWS_ENDPOINT_URL:-}"}
                ledger: {kind: memory}
                logging: {level: info, format: %s, levels: %s}
                sources:
                  mturk: {sqs: {queue: mturk-events}, format: mturk}
                sinks:
                  log: {type: log}
                routes:
                  - to: [log]
                """.formatted(format, levels));
        return file;
    }

    private static Map<String, String> only(List<Map<String, String>> records, java.util.function.Predicate<Map<String, String>> which) {
        var found = records.stream().filter(which).toList();
        assertThat(found).hasSize(1);
        return found.getFirst();
    }

    /** A flat JSON object of strings; an assertion error for anything else. */
    static Map<String, String> parse(String line) {
        var fields = new LinkedHashMap<String, String>();
        try (var p = new JsonFactory().createParser(line)) {
            assertThat(p.nextToken()).as(line).isEqualTo(JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                assertThat(p.nextToken()).as(line).isEqualTo(JsonToken.VALUE_STRING);
                fields.put(name, p.getText());
            }
            assertThat(p.currentToken()).as(line).isEqualTo(JsonToken.END_OBJECT);
            assertThat(p.nextToken()).as("nothing after the object: " + line).isNull();
        } catch (IOException e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
        return fields;
    }
}
