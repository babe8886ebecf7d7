package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigSchema;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The configuration's JSON Schema holds to what Ferry reads: the same keys as the reader accepts,
 * every key of every example, every key documented in docs/config.md, and the copy in the jar
 * is today's.
 */
class ConfigSchemaTest {

    private static final Map<String, Object> SCHEMA = ConfigSchema.schema(ConfigReaderTest.ADAPTERS);
    private static final String TAIL = "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";

    @Test
    void theSchemaInTheJar_isTodays() throws Exception {
        var out = new ByteArrayOutputStream();
        assertThat(Ferry.run(new String[] {"config", "schema"}, out, new ByteArrayOutputStream(), name -> null)).isZero();
        String shipped = Files.readString(Path.of("src/main/resources/dev/ferry/app/ferry-config.schema.json"));
        assertThat(out.toString(StandardCharsets.UTF_8).equals(shipped))
                .as("the shipped schema is out of date; regenerate it: java -jar app/target/ferry.jar config schema > "
                        + "app/src/main/resources/dev/ferry/app/ferry-config.schema.json")
                .isTrue();
        assertThat(Ferry.class.getResource("ferry-config.schema.json")).isNotNull();
    }

    @Test // a review: the writer swallowed what failed: `ferry config schema > file` on a full disk cut the file short, exit 0
    void anOutputThatCannotBeWritten_failsTheCommand_sayingSo() {
        var full = new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("No space left on device");
            }
        };
        var err = new ByteArrayOutputStream();
        assertThat(Ferry.run(new String[] {"config", "schema"}, full, err, name -> null)).isEqualTo(Ferry.FAILED);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("could not be written");
    }

    @Test
    void everySection_listsTheKeysTheReaderAccepts() {
        // the reader names the keys it accepts when it meets one it does not: compare those lists with the schema's
        assertThat(accepted("bogus: 1\n" + TAIL, "bogus")).isEqualTo(keys(SCHEMA));
        for (String section : List.of("listener", "admin", "logging", "tracing", "aws", "metrics", "embedded-sqs")) {
            assertThat(accepted(section + ": {bogus: 1}\n" + TAIL, section + ".bogus")).as(section)
                    .isEqualTo(keys(child(SCHEMA, section)));
        }
        var source = child(child(SCHEMA, "sources"), "additionalProperties");
        assertThat(accepted("sources: {s: {sqs: {queue: q}, bogus: 1}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n",
                "sources.s.bogus")).isEqualTo(keys(source));
        assertThat(accepted("sources: {s: {sqs: {queue: q, bogus: 1}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n",
                "sources.s.sqs.bogus")).isEqualTo(keys(child(source, "sqs")));
    }

    @Test
    void conditionalKeys_areFound_byExploringEachChoice() {
        var http = child(child(child(SCHEMA, "sources"), "additionalProperties"), "http");
        assertThat(keys(http)).contains("auth", "token", "secret", "tls");
        assertThat(http.get("required")).as("token only with auth: bearer, so not required").isEqualTo(List.of("auth"));
        var sinkKeys = keys(child(child(SCHEMA, "sinks"), "additionalProperties"));
        assertThat(sinkKeys).contains("type", "url", "headers", "topic", "queue", "message-group", "path");
    }

    @Test
    void everyKeyOfEveryExample_isInTheSchema() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("../examples"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                var unknown = new ArrayList<String>();
                walk(new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file)), SCHEMA, "", unknown);
                assertThat(unknown).as(file.toString()).isEmpty();
            }
        }
    }

    @Test
    void everyKeyInTheSchema_isDocumented() throws Exception {
        String docs = Files.readString(Path.of("../docs/config.md"));
        var missing = new TreeSet<String>();
        collectKeys(SCHEMA, missing);
        missing.removeIf(key -> docs.contains("`" + key + "`") || Pattern.compile("(?m)^\\s*" + Pattern.quote(key) + ":").matcher(docs).find()
                || docs.contains("`" + key + ":") || docs.contains(" " + key + ": ") || docs.contains("{" + key + ": "));
        assertThat(missing).as("keys the schema has and docs/config.md does not mention").isEmpty();
    }

    // ---- helpers

    private static Set<String> accepted(String yaml, String path) {
        var errors = ConfigReaderTest.errors(yaml);
        var line = errors.stream().filter(e -> e.contains(": " + path + ": unknown key; expected one of [")).findFirst()
                .orElseThrow(() -> new AssertionError("no unknown-key error for " + path + " in " + errors));
        String list = line.substring(line.indexOf("expected one of [") + "expected one of [".length(), line.lastIndexOf(']'));
        return new TreeSet<>(List.of(list.split(", ")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> child(Map<String, Object> schema, String key) {
        if (key.equals("additionalProperties")) {
            return (Map<String, Object>) schema.get("additionalProperties");
        }
        return (Map<String, Object>) ((Map<String, Object>) schema.get("properties")).get(key);
    }

    @SuppressWarnings("unchecked")
    private static Set<String> keys(Map<String, Object> schema) {
        return new TreeSet<>(((Map<String, Object>) schema.get("properties")).keySet());
    }

    @SuppressWarnings("unchecked")
    private static void walk(Object yaml, Map<String, Object> schema, String at, List<String> unknown) {
        if (schema == null) {
            return;
        }
        if (yaml instanceof Map<?, ?> map) {
            var properties = (Map<String, Object>) schema.get("properties");
            var any = schema.get("additionalProperties");
            for (var e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                Object sub = properties != null ? properties.get(key) : null;
                if (sub == null && any instanceof Map<?, ?> anySchema) {
                    sub = anySchema;
                }
                if (sub == null) {
                    unknown.add(at + key);
                    continue;
                }
                walk(e.getValue(), (Map<String, Object>) sub, at + key + ".", unknown);
            }
        } else if (yaml instanceof List<?> list && schema.get("items") instanceof Map<?, ?> items) {
            list.forEach(item -> walk(item, (Map<String, Object>) items, at, unknown));
        }
    }

    /** The property names of a schema and of every schema under it (not the keywords). */
    @SuppressWarnings("unchecked")
    private static void collectKeys(Object schema, Set<String> into) {
        if (!(schema instanceof Map<?, ?> map)) {
            return;
        }
        if (map.get("properties") instanceof Map<?, ?> properties) {
            properties.forEach((name, sub) -> {
                into.add(String.valueOf(name));
                collectKeys(sub, into);
            });
        }
        collectKeys(map.get("additionalProperties"), into);
        collectKeys(map.get("items"), into);
        if (map.get("anyOf") instanceof List<?> any) {
            any.forEach(s -> collectKeys(s, into));
        }
    }
}
