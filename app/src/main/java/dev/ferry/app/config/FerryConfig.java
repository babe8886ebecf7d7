package dev.ferry.app.config;

import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.spi.OpenedSource;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.transport.Sink;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A validated Ferry configuration. Built only by {@link ConfigReader}, which refuses a file with any
 * error, so every value here is usable; the adapters' parts are {@link Plan}s, opened by the run.
 *
 * @param embeddedSqsPort the port of the embedded SQS server on 127.0.0.1, or 0 for none
 * @param metrics         the address of the metrics and health endpoint, or null for none
 * @param deadLetterUnmatched true: an event no route matches is dead-lettered; false: acked without effect
 * @param logging         the {@code logging:} section: level, text or json, levels per logger
 * @param admin           the admin endpoint (health, metrics): where it listens, null when off
 * @param tracing         the {@code tracing:} section: where spans are exported over OTLP, if anywhere
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
        Duration statsEvery,
        Address metrics,
        boolean deadLetterUnmatched,
        dev.ferry.app.logging.FerryLogging.Settings logging,
        Admin admin,
        dev.ferry.app.tracing.TracingSetup.Settings tracing) {

    /** @param endpoint null for AWS itself */
    public record Aws(String region, URI endpoint) {
    }

    public record Ledger(String kind, Plan<IdempotencyLedger> plan, Duration ttl) {
    }

    /**
     * @param transport the source's transport key ({@code sqs}, {@code kafka}, {@code http}, a plugin's)
     * @param format    the decoder: s3, mturk, sns, sns+s3, sns+mturk, json, raw, auto
     * @param json      the JSON Pointers of format {@code json}, else null
     */
    /**
     * @param ledgerScope the ledger scope of the source's event keys, as written; null for the
     *                    default (shared for formats whose ids are unique by nature, else the source's name)
     * @param onPoison    what an ordered group does when one of its messages is dead-lettered
     */
    public record SourceSpec(String name, String transport, Plan<OpenedSource> plan, String format, JsonPointers json,
                             String ledgerScope, OnPoison onPoison) {

        /** The keys of a source's section beside its transport's: no transport may take one of these names. */
        public static final java.util.List<String> KEYS = java.util.List.of("format", "json", "ledger-scope", "on-poison");

        public SourceSpec(String name, String transport, Plan<OpenedSource> plan, String format, JsonPointers json,
                          String ledgerScope) {
            this(name, transport, plan, format, json, ledgerScope, OnPoison.SKIP);
        }

        /** The scope as the listener takes it: {@code shared} is the scope every source shares. */
        public String listenerScope() {
            return "shared".equals(ledgerScope) ? "" : ledgerScope;
        }
    }

    /** Where format {@code json} finds an event's id, type, group key and time. */
    public record JsonPointers(String id, String type, String group, String time, String defaultType) {
    }

    public record SinkSpec(String name, String type, Plan<Sink> plan) {
    }

    /**
     * @param type       null, or the exact event type to match
     * @param typePrefix null, or the start of the event types to match (e.g. {@code HIT})
     * @param types      empty, or the event types to match (any of them)
     * @param notTypes   event types the route never matches (e.g. {@code s3:TestEvent})
     * @param attributes attribute values an event must all have to match
     */
    public record RouteSpec(String name, String type, String typePrefix, List<String> types, List<String> notTypes,
                            Map<String, String> attributes, List<String> to) {
    }

    /**
     * @param extendEvery  how long a message is in hand before its lease is extended; shorter than the lease
     * @param extendLeases false: leases run out under long handlers (the ledger fences the late completion)
     * @param holdLimit    the longest wait (retry backoff, Retry-After, a failing ledger) waited out in hand
     * @param maxInFlight  messages in hand per source; 0: enough for the handlers and two batches per poller
     * @param handlerTimeout how long one event's routes may run before the call is interrupted; zero: no limit
     */
    public record ListenerSpec(int pollers, int concurrency, Duration lease, Duration extendEvery, boolean extendLeases,
                               int maxReceives, int maxAttempts, Duration shutdownDeadline, Duration holdLimit,
                               int maxInFlight, Duration handlerTimeout) {

        /** The settings of earlier versions; {@code handlerTimeout} is none. */
        public ListenerSpec(int pollers, int concurrency, Duration lease, Duration extendEvery, boolean extendLeases,
                            int maxReceives, int maxAttempts, Duration shutdownDeadline, Duration holdLimit, int maxInFlight) {
            this(pollers, concurrency, lease, extendEvery, extendLeases, maxReceives, maxAttempts, shutdownDeadline, holdLimit,
                    maxInFlight, Duration.ZERO);
        }

        ListenerSpec withHoldLimit(Duration holdLimit) {
            return new ListenerSpec(pollers, concurrency, lease, extendEvery, extendLeases, maxReceives, maxAttempts,
                    shutdownDeadline, holdLimit, maxInFlight, handlerTimeout);
        }

        ListenerSpec withHandlerTimeout(Duration handlerTimeout) {
            return new ListenerSpec(pollers, concurrency, lease, extendEvery, extendLeases, maxReceives, maxAttempts,
                    shutdownDeadline, holdLimit, maxInFlight, handlerTimeout);
        }
    }

    /**
     * @param listen     where health (and metrics) answer; null when {@code listen: off}
     * @param stallAfter how long messages may sit in hand with none settling before liveness fails
     * @param token      what a request that changes anything (a group's release) must bring as
     *                   {@code Authorization: Bearer TOKEN}; null when none is set: then nothing may be changed
     */
    public record Admin(Address listen, java.time.Duration stallAfter, String token) {
        public Admin(Address listen, java.time.Duration stallAfter) {
            this(listen, stallAfter, null);
        }
    }

    public record Address(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }
}
