package dev.ferry.app;

import dev.ferry.domain.spi.FerryPlugin;
import dev.ferry.domain.spi.LedgerProvider;
import dev.ferry.domain.spi.SinkProvider;
import dev.ferry.domain.spi.SourceProvider;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every source transport, sink type and ledger kind the configuration file may name: the built-in
 * adapters' Dagger contributions plus those of plugin jars.
 */
public record Adapters(Map<String, SourceProvider> sources, Map<String, SinkProvider> sinks,
                       Map<String, LedgerProvider> ledgers) {

    public Adapters {
        sources = Map.copyOf(sources);
        sinks = Map.copyOf(sinks);
        ledgers = Map.copyOf(ledgers);
    }

    /** The built-in maps with the plugins' added; a plugin may not replace a built-in name. */
    static Adapters merge(Map<String, SourceProvider> sources, Map<String, SinkProvider> sinks,
                          Map<String, LedgerProvider> ledgers, List<Plugins.Loaded> plugins) {
        var allSources = new LinkedHashMap<>(sources);
        var allSinks = new LinkedHashMap<>(sinks);
        var allLedgers = new LinkedHashMap<>(ledgers);
        for (var loaded : plugins) {
            FerryPlugin plugin = loaded.plugin();
            add(allSources, plugin.sources(), "source", loaded);
            add(allSinks, plugin.sinks(), "sink type", loaded);
            add(allLedgers, plugin.ledgers(), "ledger kind", loaded);
        }
        return new Adapters(allSources, allSinks, allLedgers);
    }

    private static <T> void add(Map<String, T> into, Map<String, T> contributed, String what, Plugins.Loaded from) {
        for (var e : contributed.entrySet()) {
            if (into.putIfAbsent(e.getKey(), e.getValue()) != null) {
                throw new IllegalStateException("plugin " + from + " contributes " + what + " '" + e.getKey()
                        + "', which another adapter has already; rename it");
            }
        }
    }

    /** The names, sorted, for messages such as "unknown sink type". */
    public static List<String> names(Map<String, ?> providers) {
        return List.copyOf(new TreeMap<>(providers).keySet());
    }
}
