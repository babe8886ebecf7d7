package dev.ferry.app;

import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.EventLookup;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code ferry events show} and {@code GET /events} answer: what happened to an event, found
 * by its key or by a message id, in each source of the configuration where it is known.
 */
final class EventActions {

    /** Formats whose event ids are unique by nature: their events share one ledger scope (as the listener keeps them). */
    private static final Set<String> SHARED_FORMATS = Set.of("s3", "mturk", "sns+s3", "sns+mturk");

    /** An event found in one source, and what each sink that marks its writes has of it. */
    record Found(String source, String key, EventLookup.Report report, Map<String, String> sinks) {
    }

    private final FerryConfig config;
    private final IdempotencyLedger ledger;

    EventActions(FerryConfig config, IdempotencyLedger ledger) {
        this.config = config;
        this.ledger = ledger;
    }

    /** The event {@code key} in {@code source} (null: every source). */
    List<Found> byKey(String source, String key) {
        var found = new ArrayList<Found>();
        for (var name : sources(source)) {
            EventLookup.event(ledger, scope(config.sources().get(name)), key, name)
                    .ifPresent(report -> found.add(new Found(name, key, report, sinks(scope(config.sources().get(name)), key))));
        }
        return found;
    }

    /** The event a message of {@code source} (null: every source) carried, by the transport's message id. */
    List<Found> byMessage(String source, String messageId) {
        var found = new ArrayList<Found>();
        for (var name : sources(source)) {
            EventLookup.message(ledger, name, messageId).ifPresent(report -> {
                String key = eventKey(report.ledgerKey());
                found.add(new Found(name, key, report, key == null ? Map.of() : sinks(scope(config.sources().get(name)), key)));
            });
        }
        return found;
    }

    private List<String> sources(String source) {
        if (source == null) {
            return List.copyOf(config.sources().keySet());
        }
        if (!config.sources().containsKey(source)) {
            throw new IllegalArgumentException("no source named '" + source + "' (sources: " + config.sources().keySet() + ")");
        }
        return List.of(source);
    }

    /** The ledger scope the listener of {@code spec} keeps its events in. */
    private static String scope(FerryConfig.SourceSpec spec) {
        if (spec.ledgerScope() != null) {
            return spec.listenerScope();
        }
        return spec.json() == null && SHARED_FORMATS.contains(spec.format()) ? LedgerKeys.SHARED : spec.name();
    }

    /** Sinks whose per-sink mark of the event exists (fan-out routes mark each write, in the event's scope). */
    private Map<String, String> sinks(String scope, String key) {
        var sinks = new LinkedHashMap<String, String>();
        for (var sink : config.sinks().keySet()) {
            ledger.peek(LedgerKeys.target(scope, key, sink)).ifPresent(state -> sinks.put(sink, switch (state) {
                case Claim.Completed c -> "written " + c.completedAt();
                case Claim.InProgress p -> "being written";
                default -> "unknown";
            }));
        }
        return sinks;
    }

    /** The event key within a ledger key {@code e:<scope length>:<scope>:<key>}; null when not one. */
    private static String eventKey(String ledgerKey) {
        if (ledgerKey == null || !ledgerKey.startsWith("e:")) {
            return null;
        }
        int colon = ledgerKey.indexOf(':', 2);
        int length = Integer.parseInt(ledgerKey, 2, colon, 10);
        int start = colon + 1 + length + 1;
        return start <= ledgerKey.length() ? ledgerKey.substring(start) : null;
    }

    static Map<String, Object> json(Found f) {
        var m = new LinkedHashMap<String, Object>();
        m.put("source", f.source());
        m.put("key", f.key());
        if (f.key() == null && f.report().ledgerKey() != null) { // one past 1,024 bytes (or half a surrogate pair): held
            m.put("key_hashed", true);                              // hashed in the ledger, it was said "not decoded"
        }
        m.put("status", f.report().status());
        var state = f.report().state();
        if (state instanceof Claim.Completed c) {
            m.put("done_at", c.completedAt().toString());
        } else if (state instanceof Claim.InProgress p) {
            m.put("lease_until", p.leaseUntil().toString());
        }
        var j = f.report().journal();
        if (j != null) {
            m.put("failures", j.failures());
            put(m, "first_failure", j.firstFailure());
            put(m, "last_failure", j.lastFailure());
            m.put("last_reason", j.lastReason());
            m.put("duplicates", j.duplicates());
            put(m, "last_duplicate", j.lastDuplicate());
            m.put("dead_letter_reason", j.deadLetterReason());
            put(m, "dead_lettered_at", j.deadLetteredAt());
            m.put("message_id", j.messageId());
        }
        m.put("sinks", f.sinks());
        return m;
    }

    private static void put(Map<String, Object> m, String name, Instant at) {
        m.put(name, at == null ? null : at.toString());
    }

    /** What the CLI prints, from what {@link #json} made (here or in the running Ferry). */
    static String text(List<Map<String, Object>> found) {
        var out = new StringBuilder();
        for (var f : found) {
            Object key = f.get("key");
            out.append("event ").append(key != null ? Printable.of(key) : Boolean.TRUE.equals(f.get("key_hashed"))
                    ? "(its key is held hashed, too long to show: look it up by key)" : "(not decoded)").append(" of source ")
                    .append(Printable.of(f.get("source"))).append(": ").append(Printable.of(f.get("status"))).append('\n');
            line(out, f, "done_at", "  done at %s");
            line(out, f, "lease_until", "  being handled, its claim until %s");
            if (f.get("failures") instanceof Number n && n.longValue() > 0) {
                out.append("  failed attempts: ").append(n).append(" (first ").append(f.get("first_failure")).append(", last ")
                        .append(f.get("last_failure")).append("): ").append(Printable.of(f.get("last_reason"))).append('\n');
            }
            if (f.get("duplicates") instanceof Number n && n.longValue() > 0) {
                out.append("  delivered again as a duplicate: ").append(n).append(" time(s), last ")
                        .append(f.get("last_duplicate")).append('\n');
            }
            if (f.get("dead_letter_reason") != null) {
                out.append("  dead-lettered at ").append(f.get("dead_lettered_at")).append(": ").append(Printable.of(f.get("dead_letter_reason")))
                        .append('\n');
            }
            line(out, f, "message_id", "  last message id: %s");
            if (f.get("sinks") instanceof Map<?, ?> sinks) {
                sinks.forEach((sink, state) -> out.append("  sink ").append(Printable.of(sink)).append(": ").append(Printable.of(state)).append('\n'));
            }
        }
        return out.toString();
    }

    private static void line(StringBuilder out, Map<String, Object> f, String name, String format) {
        if (f.get(name) != null) {
            out.append(String.format(format, Printable.of(f.get(name)))).append('\n');
        }
    }
}
