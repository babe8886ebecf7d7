package dev.ferry.micrometer;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.listener.ListenerStats;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToLongFunction;

/**
 * The metrics of one source's {@link Listener}, for any Micrometer registry — the same the packaged
 * app publishes. It is both the listener's observer and a {@link MeterBinder}:
 *
 * <pre>{@code
 * var metrics = new FerryMetrics("orders");
 * var listener = Listener.builder(source, source, decoder, handler).observer(metrics).build();
 * metrics.watch(listener).bindTo(registry);
 * }</pre>
 *
 * <p>Names, every one tagged {@code source} (Prometheus shown): counters
 * {@code ferry_messages_received_total}, {@code _acked_total}, {@code _redelivered_total},
 * {@code _released_total}, {@code _dead_lettered_total} (tagged {@code reason}: {@code rejected},
 * {@code malformed}, {@code retries_exhausted}, {@code receive_limit}, {@code unmatched}, {@code parked}),
 * {@code ferry_messages_stale_dropped_total}, {@code ferry_messages_decode_failures_total},
 * {@code ferry_events_duplicates_total}, {@code ferry_events_throttled_total},
 * {@code ferry_events_failures_total}, {@code ferry_events_fenced_total}, {@code ferry_events_held_total},
 * {@code ferry_ledger_failures_total},
 * {@code ferry_leases_extended_total}, {@code ferry_settle_failures_total}; the gauge
 * {@code ferry_messages_in_flight}; histograms in seconds {@code ferry_handler_seconds} (by
 * {@code outcome}), {@code ferry_event_age_seconds} (now − the event's own time, at handling) and
 * {@code ferry_message_time_in_ferry_seconds} (receipt to settlement).
 */
public final class FerryMetrics implements MeterBinder, ListenerObserver {

    /** The handler's shortest expected time. */
    private static final Duration MIN = Duration.ofMillis(1);
    /** Event age's and time in Ferry's histogram buckets, in seconds. */
    private static final double[] AGE_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
        600, 1_800, 3_600, 7_200, 21_600, 86_400, 604_800};
    /** Receipts remembered until their settlement; beyond this (deliveries never settled here) the oldest are let go. */
    private static final int MAX_TRACKED = 200_000;

    private final String source;
    private final Clock clock;
    private final AtomicReference<Listener> listener = new AtomicReference<>();
    /**
     * When each delivery in hand was received, by the delivery (its id, source, receive count and receipt: one receive):
     * by its id alone, a second copy received while the first was still in hand (its lease lapsed; two HTTP requests
     * with one Idempotency-Key) overwrote the first's time, and the slow copy recorded the quick one's — exactly the
     * slow tail went missing. A handler's own settlement of an equal delivery finds its receive too. Kept by a small key:
     * by the delivery itself, a copy dropped unsettled (its lease lapsed) kept its payload here, up to the bound below.
     */
    private final Map<Receive, Long> receivedAt = new ConcurrentHashMap<>();

    /** One receive of a delivery, without its payload: its id, source, receive count and receipt's hash. */
    private record Receive(String id, String source, int receiveCount, int receipt) {
        static Receive of(Delivery d) {
            return new Receive(d.id(), d.source(), d.receiveCount(), java.util.Objects.hashCode(d.receipt()));
        }
    }
    private volatile Meters meters;

    private record Meters(Timer done, Timer retry, Timer throttled, Timer rejected, DistributionSummary age, DistributionSummary inFerry,
                          Map<String, Counter> deadLetters) {
    }

    public FerryMetrics(String source) {
        this(source, Clock.systemUTC());
    }

    public FerryMetrics(String source, Clock clock) {
        this.source = Objects.requireNonNull(source, "source");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The listener whose counters these are; the observer's histograms need {@code observer(this)} on its builder. */
    public FerryMetrics watch(Listener listener) {
        this.listener.set(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "ferry.messages.received", "messages received", ListenerStats::received);
        counter(registry, "ferry.messages.acked", "messages acknowledged: their delete or commit queued (refusals: ferry.settle.failures)",
                ListenerStats::acked);
        counter(registry, "ferry.messages.redelivered", "messages put back with a delay", ListenerStats::redelivered);
        counter(registry, "ferry.messages.released", "messages put back at once", ListenerStats::released);
        counter(registry, "ferry.messages.stale.dropped", "copies whose lease ran out while waiting, dropped unhandled",
                ListenerStats::staleDropped);
        counter(registry, "ferry.messages.decode.failures", "messages that could not be decoded", ListenerStats::decodeFailures);
        counter(registry, "ferry.events.duplicates", "events the ledger had completed already", ListenerStats::duplicatesDropped);
        counter(registry, "ferry.events.throttled", "Throttled outcomes", ListenerStats::throttled);
        counter(registry, "ferry.events.failures", "Retry outcomes and handler exceptions", ListenerStats::failures);
        counter(registry, "ferry.events.fenced", "completions refused because the claim had expired", ListenerStats::fenced);
        counter(registry, "ferry.events.held", "times a message waited in hand to be tried again", ListenerStats::held);
        counter(registry, "ferry.ledger.failures", "ledger calls that failed (messages waited in hand)", ListenerStats::ledgerFailures);
        counter(registry, "ferry.ledger.claims.lost", "claims the ledger would not extend (their lease had run out)",
                ListenerStats::claimsLost);
        counter(registry, "ferry.leases.extended", "lease (visibility) extensions", ListenerStats::leaseExtensions);
        counter(registry, "ferry.settle.failures", "settlements the transport refused (e.g. a stale receipt)",
                ListenerStats::settleFailures);
        replace(registry, "ferry.messages.in.flight");
        // held strongly by the registry: the function counters above hold the same reference weakly (Micrometer's
        // way), and a binder nobody kept (bound, not made the listener's observer) let them read NaN after a GC
        Gauge.builder("ferry.messages.in.flight", listener, l -> l.get() == null ? 0 : l.get().stats().inFlight())
                .description("messages received, not yet settled").tag("source", source).strongReference(true)
                .register(registry);
        var deadLetters = new ConcurrentHashMap<String, Counter>();
        for (String reason : new String[] {"rejected", "malformed", "retries_exhausted", "receive_limit", "unmatched", "parked"}) {
            deadLetters.put(reason, Counter.builder("ferry.messages.dead.lettered").description("messages dead-lettered, by reason")
                    .tag("source", source).tag("reason", reason).register(registry));
        }
        meters = new Meters(handler(registry, "done"), handler(registry, "retry"), handler(registry, "throttled"),
                handler(registry, "rejected"),
                age(registry),
                inFerry(registry),
                deadLetters);
    }

    private void counter(MeterRegistry registry, String name, String description, ToLongFunction<ListenerStats> read) {
        replace(registry, name);
        FunctionCounter.builder(name, listener, l -> l.get() == null ? 0 : read.applyAsLong(l.get().stats()))
                .description(description).tag("source", source).register(registry);
    }

    /**
     * Removes what an earlier binder of this source left under {@code name}: the registry hands back the
     * meter already there, which reads the earlier binder's listener — a listener replaced by a new one
     * (and a new binder) kept reporting the stopped one's counts. The timers and counters this binder
     * records into itself are shared with it instead (their counts go on).
     */
    private void replace(MeterRegistry registry, String name) {
        for (var earlier : registry.find(name).tag("source", source).meters()) {
            registry.remove(earlier);
        }
    }

    private Timer handler(MeterRegistry registry, String outcome) {
        return Timer.builder("ferry.handler").description("time to handle one event (routing and every sink)")
                .tag("source", source).tag("outcome", outcome).publishPercentileHistogram()
                .minimumExpectedValue(MIN).maximumExpectedValue(Duration.ofMinutes(15)).register(registry);
    }

    /**
     * Time in Ferry, in seconds: a summary for the reason event age is one. Its sum grows by the deliveries held at
     * once each second — a skip-delete handler keeping 250 a second for a minute wrapped the timer's sum negative in a
     * week, and a window of 10,000 kept full in eleven days. Its buckets are event age's.
     */
    private DistributionSummary inFerry(MeterRegistry registry) {
        return DistributionSummary.builder("ferry.message.time.in.ferry").baseUnit("seconds")
                .description("from a message's receipt to its settlement").tag("source", source)
                .serviceLevelObjectives(AGE_BUCKETS).register(registry);
    }

    /**
     * Event age, in seconds: a summary, not a timer — a Prometheus timer sums nanoseconds in a {@code long},
     * 292 years in all, which six events dated at the epoch (or a week of minute-old ones at 250 a second)
     * wrap negative for good. Its buckets are named, from 5 ms to a week.
     */
    private DistributionSummary age(MeterRegistry registry) {
        return DistributionSummary.builder("ferry.event.age").baseUnit("seconds")
                .description("now minus the event's own time, when it is handled").tag("source", source)
                .serviceLevelObjectives(AGE_BUCKETS).register(registry);
    }

    @Override
    public void received(Delivery delivery) {
        if (receivedAt.size() >= MAX_TRACKED) {
            receivedAt.clear(); // deliveries kept by their handler (skip-delete) may never settle here
        }
        receivedAt.put(Receive.of(delivery), System.nanoTime());
    }

    @Override
    public void handled(Event event, Outcome outcome, long nanos) {
        var m = meters;
        if (m == null) {
            return;
        }
        (switch (outcome) {
            case Outcome.Done d -> m.done();
            case Outcome.Retry r -> m.retry();
            case Outcome.Throttled t -> m.throttled();
            case Outcome.Reject r -> m.rejected();
        }).record(nanos, TimeUnit.NANOSECONDS);
        // not for a throttled attempt: a 429 storm's one event counted hundreds of times (retries are bounded by the
        // attempts, and an event failing through a sink's outage must still say how far behind the stream is)
        if (event.time() != null && !(outcome instanceof Outcome.Throttled)) {
            long age = clock.millis() - event.time().toEpochMilli();
            if (age >= 0) {
                m.age().record(age / 1_000.0);
            }
        }
    }

    @Override
    public void settled(Delivery delivery, Disposition disposition) {
        Long at = receivedAt.remove(Receive.of(delivery));
        var m = meters;
        if (m == null) {
            return;
        }
        if (at != null) {
            m.inFerry().record((System.nanoTime() - at) / 1e9);
        }
        if (disposition instanceof Disposition.DeadLetter dead) {
            m.deadLetters().get(reasonClass(dead.reason())).increment();
        }
    }

    /**
     * The kind of a dead letter, from the engine's wording of its reason: {@code malformed},
     * {@code receive_limit}, {@code retries_exhausted}, {@code unmatched}, {@code parked} (its group
     * was parked: it is the head, or waits behind it) or {@code rejected}.
     */
    public static String reasonClass(String reason) {
        if (reason == null) {
            return "rejected";
        }
        if (reason.startsWith("group ") && reason.contains(" parked ")) {
            return "parked";
        }
        if (reason.startsWith("malformed: ")) {
            return "malformed";
        }
        if (reason.startsWith("received ") && reason.contains(" times")) {
            return "receive_limit";
        }
        if (reason.startsWith("failed ") && reason.contains("retry policy")) {
            return "retries_exhausted";
        }
        if (reason.startsWith("no route")) {
            return "unmatched";
        }
        return "rejected";
    }
}
