package dev.ferry.domain.spi;

import java.util.Map;

/**
 * An adapter jar's contributions, found with {@link java.util.ServiceLoader}: list the class in
 * {@code META-INF/services/dev.ferry.domain.spi.FerryPlugin} and drop the jar into the
 * {@code plugins} folder beside {@code ferry.jar}. The keys are what the configuration file names:
 * {@code type: NAME} for a sink, the transport key of a source, {@code kind: NAME} for a ledger.
 * The adapters built into the app contribute the same maps through their Dagger modules.
 */
public interface FerryPlugin {

    default Map<String, SourceProvider> sources() {
        return Map.of();
    }

    default Map<String, SinkProvider> sinks() {
        return Map.of();
    }

    default Map<String, LedgerProvider> ledgers() {
        return Map.of();
    }
}
