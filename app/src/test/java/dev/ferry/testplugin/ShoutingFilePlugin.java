package dev.ferry.testplugin;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.spi.FerryPlugin;
import dev.ferry.domain.spi.SinkProvider;
import dev.ferry.domain.transport.Sink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;

/**
 * A third-party adapter as a user would write one: sink type {@code shouting-file} appends each
 * payload in capitals to {@code path}. The end-to-end test packs it into a jar of its own with a
 * {@code META-INF/services} entry and drops it into the plugin folder.
 */
public final class ShoutingFilePlugin implements FerryPlugin {

    @Override
    public Map<String, SinkProvider> sinks() {
        return Map.of("shouting-file", settings -> {
            String name = settings.name();
            Path path = Path.of(settings.required("path"));
            return context -> {
                if (path.getFileName().toString().equals("error-at-open")) {
                    // a plugin built against a class the app does not have: an Error, not an exception
                    throw new NoClassDefFoundError("com/example/MissingClient");
                }
                return new Sink() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public synchronized Outcome publish(Event event) {
                    try {
                        Files.writeString(path, new String(event.payload(), StandardCharsets.UTF_8).toUpperCase(Locale.ROOT) + "\n",
                                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        return Outcome.done();
                    } catch (IOException e) {
                        return Outcome.retry(e.getMessage());
                    }
                }
                };
            };
        });
    }
}
