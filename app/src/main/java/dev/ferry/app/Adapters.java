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
                       Map<String, LedgerProvider> ledgers, String pluginsMissing) {

    /**
     * @param pluginsMissing said beside an unknown name when the plugin folder is not there (a mistyped
     *                       {@code FERRY_PLUGINS}), or empty
     */
    public Adapters {
        sources = Map.copyOf(sources);
        sinks = Map.copyOf(sinks);
        ledgers = Map.copyOf(ledgers);
        pluginsMissing = pluginsMissing == null ? "" : pluginsMissing;
    }

    public Adapters(Map<String, SourceProvider> sources, Map<String, SinkProvider> sinks,
                    Map<String, LedgerProvider> ledgers) {
        this(sources, sinks, ledgers, "");
    }

    /** The same adapters, telling where plugin jars were looked for in vain (see {@link Plugins#missingFolder}). */
    Adapters noting(String missing) {
        return new Adapters(sources, sinks, ledgers, missing);
    }

    /** The built-in maps with the plugins' added; a plugin may not replace a built-in name. */
    static Adapters merge(Map<String, SourceProvider> sources, Map<String, SinkProvider> sinks,
                          Map<String, LedgerProvider> ledgers, List<Plugins.Loaded> plugins) {
        var allSources = new LinkedHashMap<>(sources);
        var allSinks = new LinkedHashMap<>(sinks);
        var allLedgers = new LinkedHashMap<>(ledgers);
        var owners = new java.util.HashMap<String, String>(); // "sink type 'x'" -> the plugin that added it
        for (var loaded : plugins) {
            FerryPlugin plugin = loaded.plugin();
            add(allSources, contributed(loaded, "sources", plugin::sources), "source", loaded, owners);
            add(allSinks, contributed(loaded, "sinks", plugin::sinks), "sink type", loaded, owners);
            add(allLedgers, contributed(loaded, "ledgers", plugin::ledgers), "ledger kind", loaded, owners);
        }
        return new Adapters(allSources, allSinks, allLedgers);
    }

    /**
     * What a plugin contributes, or a clear error naming its jar: a plugin whose dependency jar was not
     * copied beside it threw {@code NoClassDefFoundError} here, and the user read a class name and no jar.
     */
    private static <T> Map<String, T> contributed(Plugins.Loaded from, String what,
                                                  java.util.function.Supplier<Map<String, T>> call) {
        Map<String, T> map;
        try {
            map = call.get();
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("plugin " + from + " failed to list its " + what + ": " + Thrown.describe(e), e);
        }
        if (map == null) {
            throw new IllegalStateException("plugin " + from + " listed its " + what + " as null (an empty map is none)");
        }
        for (var e : map.entrySet()) { // a null in it said only "cannot load the adapters: null", no plugin named
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalStateException("plugin " + from + " listed among its " + what + " "
                        + (e.getKey() == null ? "one with a null name" : "'" + e.getKey() + "' as null"));
            }
        }
        return map;
    }

    private static <T> void add(Map<String, T> into, Map<String, T> contributed, String what, Plugins.Loaded from,
                                Map<String, String> owners) {
        for (var e : contributed.entrySet()) {
            if (what.equals("source") && dev.ferry.app.config.FerryConfig.SourceSpec.KEYS.contains(e.getKey())) {
                // a source's section has these keys beside its transport's: a transport of that name made every
                // source that uses the key refused, as if it read from two places
                throw new IllegalStateException("plugin " + from + " contributes source '" + e.getKey() + "', a key "
                        + "every source's section has (" + dev.ferry.app.config.FerryConfig.SourceSpec.KEYS + "); rename it");
            }
            String named = what + " '" + e.getKey() + "'";
            if (into.putIfAbsent(e.getKey(), e.getValue()) != null) {
                throw new IllegalStateException("plugin " + from + " contributes " + named + ", which "
                        + owners.getOrDefault(named, "a built-in adapter") + " has already; rename it");
            }
            owners.put(named, "plugin " + from);
        }
    }

    /** The names, sorted, for messages such as "unknown sink type". */
    public static List<String> names(Map<String, ?> providers) {
        return List.copyOf(new TreeMap<>(providers).keySet());
    }
}
