package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigReader;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.spi.FerryPlugin;
import dev.ferry.domain.spi.OpenedSource;
import dev.ferry.domain.spi.SourceProvider;
import dev.ferry.domain.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin's source names itself as its author chose (a queue's name, the transport's): two sources of
 * one plugin type reading two brokers' "orders" queues scoped their events by that name, so order 1001
 * of the second was taken for a duplicate of order 1001 of the first and dropped. Each source's events
 * are scoped by the name the file gives it.
 */
class PluginSourceScopeTest {

    private final Map<String, InMemoryQueue> queues = new ConcurrentHashMap<>();

    @Test
    void twoSourcesOfAPluginThatNamesThemAlike_keepTheirSameIdEventsApart(@TempDir Path dir) throws Exception {
        SourceProvider memq = settings -> {
            String broker = settings.string("broker", "?");
            return context -> OpenedSource.of(queues.computeIfAbsent(broker, b -> InMemoryQueue.standard("orders")),
                    "the orders queue of " + broker);
        };
        FerryPlugin plugin = new FerryPlugin() {
            @Override
            public Map<String, SourceProvider> sources() {
                return Map.of("memq", memq);
            }
        };
        var built = FerryComponent.builtIn().adapters();
        var adapters = Adapters.merge(built.sources(), built.sinks(), built.ledgers(),
                List.of(new Plugins.Loaded(plugin, "memq.jar")));
        var out = dir.resolve("out.jsonl");
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, """
                ledger: {kind: memory}
                sources:
                  eu: {memq: {broker: eu}, format: json, json: {id: /id}}
                  us: {memq: {broker: us}, format: json, json: {id: /id}}
                sinks:
                  out: {type: file, path: "%s"}
                routes:
                  - to: [out]
                """.formatted(out.toString().replace('\\', '/')));
        var read = ConfigReader.read(file, name -> null, adapters);
        assertThat(read).as(String.valueOf(read)).isInstanceOf(ConfigReader.Result.Ok.class);
        try (var runtime = FerryAppIT.runtime(((ConfigReader.Result.Ok) read).config()).start()) {
            queues.get("eu").send("{\"id\": \"1001\", \"from\": \"eu\"}");
            queues.get("us").send("{\"id\": \"1001\", \"from\": \"us\"}");
            assertThat(Await.until(Duration.ofSeconds(20), () -> lines(out) == 2))
                    .as("both orders 1001 written, one of each broker: %s", read(out)).isTrue();
        }
    }

    private static long lines(Path file) {
        return read(file).lines().count();
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
