package dev.ferry.app;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.Multibinds;
import dagger.multibindings.StringKey;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.spi.LedgerProvider;
import dev.ferry.domain.spi.SinkProvider;
import dev.ferry.domain.spi.SourceProvider;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Set;

/**
 * The app's own contributions (the {@code log} and {@code file} sinks, the {@code memory} ledger)
 * and the merge of every adapter's maps with the plugins'. The maps are declared with
 * {@code @Multibinds}, so an adapter set without, say, any ledger still builds.
 */
@Module(subcomponents = RunComponent.class)
abstract class FerryModule {

    @Multibinds
    abstract Map<String, SourceProvider> sourceProviders();

    @Multibinds
    abstract Map<String, SinkProvider> sinkProviders();

    @Multibinds
    abstract Map<String, LedgerProvider> ledgerProviders();

    @Provides
    @Singleton
    static Adapters adapters(Map<String, SourceProvider> sources, Map<String, SinkProvider> sinks,
                             Map<String, LedgerProvider> ledgers, Plugins plugins) {
        return Adapters.merge(sources, sinks, ledgers, plugins.load()).noting(plugins.missingFolder());
    }

    @Provides
    @IntoMap
    @StringKey("log")
    static SinkProvider logSink() {
        return settings -> {
            String name = settings.name();
            return context -> new LogSink(name);
        };
    }

    @Provides
    @IntoMap
    @StringKey("file")
    static SinkProvider fileSink() {
        return settings -> {
            String name = settings.name();
            String path = settings.required("path");
            String content = settings.oneOf("content", "json", Set.of("json", "payload"));
            // a write that keeps failing (a disk remounted read-only) is waited out this long, as the other sinks wait
            var patience = settings.duration("outage-patience", dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE);
            return context -> FileSink.open(name, dev.ferry.app.config.FilePaths.of(path), content.equals("json"),
                    patience);
        };
    }

    @Provides
    @IntoMap
    @StringKey("memory")
    static LedgerProvider memoryLedger() {
        return settings -> {
            // the keys held, completed ones within their TTL too: past it the oldest are forgotten (and said so)
            int maxEntries = settings.integer("max-entries", 1_000_000, 1, 100_000_000);
            return context -> InMemoryLedger.of(java.time.Clock.systemUTC(), maxEntries);
        };
    }
}
