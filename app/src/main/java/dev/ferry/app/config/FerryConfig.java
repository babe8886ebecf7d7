package dev.ferry.app.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated Ferry configuration. Built only by {@link ConfigReader}, which refuses a file with any
 * error, so every value here is usable.
 *
 * @param embeddedSqsPort the port of the embedded SQS server on 127.0.0.1, or 0 for none
 */
public record FerryConfig(
        String file,
        int embeddedSqsPort,
        Aws aws,
        Ledger ledger,
        Map<String, SourceSpec> sources,
        Map<String, SinkSpec> sinks,
        List<RouteSpec> routes,
        ListenerSpec listener,
        Duration statsEvery) {

    /** @param endpoint null for AWS itself */
    public record Aws(String region, URI endpoint) {
    }

    /** @param path only for kind {@code mvstore} */
    public record Ledger(String kind, Path path, Duration ttl) {
    }

    public record SourceSpec(String name, String queue, String format, Set<String> allowedSenders) {
    }

    /** @param options the type's own settings, e.g. {@code queue} for an SQS sink */
    public record SinkSpec(String name, String type, Map<String, String> options) {
    }

    /**
     * @param type       null, or the exact event type to match
     * @param typePrefix null, or the start of the event types to match (e.g. {@code HIT})
     */
    public record RouteSpec(String name, String type, String typePrefix, List<String> to) {
    }

    public record ListenerSpec(int pollers, int concurrency, Duration lease, int maxReceives, int maxAttempts,
                               Duration shutdownDeadline) {
    }
}
