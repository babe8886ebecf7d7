package dev.ferry.app;

import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerStats;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The health of a running app, component by component, as the admin endpoint answers it in JSON.
 *
 * <ul>
 *   <li><b>ready</b> ({@code /health/ready}): every source's listener is running with its threads
 *       alive and its polls answering, and the ledger answers. 503 otherwise.
 *   <li><b>live</b> ({@code /health/live}): no source has had messages in hand without any of them
 *       settling (or being tried again: throttled, failed, the ledger asked again) for {@code stallAfter}
 *       — a wedge a restart clears. 503 otherwise.
 *   <li>Sinks are reported ({@code DEGRADED} while a breaker is open) but do not fail either: taking
 *       the instance out of service does not bring a downstream back.
 * </ul>
 */
final class Health {

    static final String UP = "UP";
    static final String DOWN = "DOWN";
    static final String DEGRADED = "DEGRADED";

    private final Map<String, Listener> sources;
    private final Map<String, Sink> sinks;
    private final String ledgerKind;
    private final Duration stallAfter;
    private final LongSupplier nanos;
    private final BooleanSupplier started;
    private final Map<String, Progress> progress = new ConcurrentHashMap<>();

    /** When the source last settled anything, as seen by the probes. */
    private static final class Progress {
        long settled = -1;
        long sinceNanos;
        /** Whether the listener is wedged (a thread died, a call hangs), and since when. */
        boolean wedged;
        long wedgedSinceNanos;
    }

    Health(Map<String, Listener> sources, Map<String, Sink> sinks, String ledgerKind, Duration stallAfter,
           LongSupplier nanos, BooleanSupplier started) {
        this.sources = sources;
        this.sinks = sinks;
        this.ledgerKind = ledgerKind;
        this.stallAfter = stallAfter;
        this.nanos = nanos;
        this.started = started;
    }

    record Answer(int status, String json) {
    }

    /** {@code /health/ready} and {@code /health}: every component. */
    Answer ready() {
        var components = new LinkedHashMap<String, Object>();
        boolean down = !started.getAsBoolean();
        boolean degraded = false;
        boolean ledgerDown = false;
        String ledgerProblem = null;
        for (var e : sources.entrySet()) {
            var listener = e.getValue();
            var health = listener.health();
            var stats = listener.stats();
            var details = new LinkedHashMap<String, Object>();
            details.put("running", listener.isRunning());
            details.put("in_flight", stats.inFlight());
            details.put("received", stats.received());
            details.put("settled", stats.settled());
            if (!health.problems().isEmpty()) { // in brief: the service's words name accounts and principals
                details.put("problems", health.problems().stream().map(HealthText::brief).toList());
            }
            for (String problem : health.problems()) {
                if (problem.startsWith("ledger ")) {
                    ledgerDown = true;
                    ledgerProblem = HealthText.brief(problem);
                }
            }
            components.put("source:" + e.getKey(), component(health.ready() ? UP : DOWN, details));
            down |= !health.ready();
        }
        var ledger = new LinkedHashMap<String, Object>();
        ledger.put("kind", ledgerKind);
        if (ledgerProblem != null) {
            ledger.put("problem", ledgerProblem);
        }
        components.put("ledger", component(ledgerDown ? DOWN : UP, ledger));
        for (var e : sinks.entrySet()) {
            Optional<String> problem;
            try {
                // in brief: health is answered to anyone, on the metrics address too; what the downstream answered (an
                // error body echoing a credential or the payload) stays on the console and in the log, which are not
                // null (a plugin's, nothing thrown) made ifPresent below throw outside this try: every probe answered
                // 500, the pod was never Ready, for one sink's fault
                problem = Objects.requireNonNull(e.getValue().holdingBackInBrief(), "its health check returned nothing");
            } catch (Throwable t) { // a plugin's sink: its fault is its component's, not the whole report's
                problem = Optional.of("its health check threw " + Thrown.describe(t)); // whose text may throw too
            }
            var details = new LinkedHashMap<String, Object>();
            problem.ifPresent(p -> details.put("problem", HealthText.brief(p)));
            components.put("sink:" + e.getKey(), component(problem.isPresent() ? DEGRADED : UP, details));
            degraded |= problem.isPresent();
        }
        String status = down ? DOWN : degraded ? DEGRADED : UP;
        var body = new LinkedHashMap<String, Object>();
        body.put("status", status);
        if (!started.getAsBoolean()) {
            body.put("problem", "starting or stopping");
        }
        body.put("components", components);
        return new Answer(down ? 503 : 200, Json.write(body));
    }

    /** {@code /health/live}: a source with work in hand and no settlement for {@code stallAfter} is wedged. */
    Answer live() {
        long now = nanos.getAsLong();
        var components = new LinkedHashMap<String, Object>();
        boolean wedged = false;
        for (var e : sources.entrySet()) {
            var stats = e.getValue().stats();
            var p = progress.computeIfAbsent(e.getKey(), k -> new Progress());
            long settled = progress(stats);
            long idleNanos;
            synchronized (p) {
                if (settled != p.settled || stats.inFlight() == 0) {
                    p.settled = settled;
                    p.sinceNanos = now;
                }
                idleNanos = now - p.sinceNanos;
            }
            boolean stuck = stats.inFlight() > 0 && idleNanos >= stallAfter.toNanos();
            var details = new LinkedHashMap<String, Object>();
            details.put("in_flight", stats.inFlight());
            details.put("seconds_since_progress", idleNanos / 1_000_000_000L);
            if (stuck) {
                details.put("problem", stats.inFlight() + " message(s) in hand and none settled for "
                        + Durations.text(Duration.ofNanos(idleNanos).withNanos(0)) + " (stall-after " + Durations.text(stallAfter) + ")");
            }
            // a wedge a restart clears (a thread died, a poll hangs), for stall-after: with nothing in hand (a settler
            // that died frees every slot it was to ack, a poll that hangs takes nothing in) the count above never sees it
            var wedges = e.getValue().wedges();
            long wedgedNanos = wedged(p, wedges.isEmpty(), now);
            if (!wedges.isEmpty() && wedgedNanos >= stallAfter.toNanos()) {
                stuck = true;
                details.put("wedged", String.join("; ", wedges) + " (seen for " + Durations.text(Duration.ofNanos(wedgedNanos)
                        .withNanos(0)) + ", stall-after " + Durations.text(stallAfter) + ")");
            }
            components.put("source:" + e.getKey(), component(stuck ? DOWN : UP, details));
            wedged |= stuck;
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("status", wedged ? DOWN : UP);
        body.put("components", components);
        return new Answer(wedged ? 503 : 200, Json.write(body));
    }

    /** How long the listener has been wedged without a break, 0 when it is not now. */
    private static long wedged(Progress p, boolean clear, long now) {
        synchronized (p) {
            if (clear || !p.wedged) {
                p.wedged = !clear;
                p.wedgedSinceNanos = now;
            }
            return now - p.wedgedSinceNanos;
        }
    }

    /**
     * What counts as progress: a settlement, and also a throttled answer, a failed attempt or a
     * failed ledger call — a listener waiting out a 429 storm or a ledger outage is doing what it
     * should, and a restart would only spend a receive of each message it holds. A wedge (a handler
     * or an acknowledgement that never returns) moves none of these; nor does a copy waiting for the
     * claim such a handler holds (a hold, not counted). A hand-over (skip-delete) is progress too:
     * the delivery left the listener's hands, and its handler's settle may come much later —
     * settled() counts only that settle, and a listener whose handlers keep what they take read as
     * wedged.
     */
    private static long progress(ListenerStats s) {
        return s.settled() + s.handedOver() + s.throttled() + s.failures() + s.ledgerFailures();
    }

    private static Map<String, Object> component(String status, Map<String, Object> details) {
        var c = new LinkedHashMap<String, Object>();
        c.put("status", status);
        if (!details.isEmpty()) {
            c.put("details", details);
        }
        return c;
    }

    static List<String> paths() {
        return List.of("/health", "/health/live", "/health/ready");
    }
}
