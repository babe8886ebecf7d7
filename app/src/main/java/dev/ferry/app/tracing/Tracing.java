package dev.ferry.app.tracing;

import dev.ferry.app.logging.LogContext;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Propagation;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Ferry's spans, on the OpenTelemetry API (no-op unless an SDK is configured, by {@code tracing:} or
 * by the OpenTelemetry Java agent): a {@code receive} span per poll that brought messages, linked
 * to the trace each message arrived with; a {@code process} span per event, continuing the trace the
 * message arrived with (W3C {@code traceparent}/{@code tracestate} from SQS message attributes,
 * Kafka headers or HTTP headers; SQS's {@code AWSTraceHeader} otherwise), and a {@code send} span
 * per sink call, whose context the sink carries on (an SQS attribute, a Kafka header, an HTTP header).
 * Names and attributes follow OpenTelemetry's messaging semantic conventions.
 *
 * <p>Even with the no-op API the trace goes on: the context a message arrived with is the one its
 * sinks send.
 */
public final class Tracing {

    public static final String TRACEPARENT = "traceparent";
    public static final String TRACESTATE = "tracestate";
    public static final String AWS_TRACE_HEADER = "AWSTraceHeader";

    private final Tracer tracer;
    private final TextMapPropagator propagator = W3CTraceContextPropagator.getInstance();

    private Tracing(OpenTelemetry openTelemetry) {
        var builder = openTelemetry.tracerBuilder("dev.ferry");
        String version = Tracing.class.getPackage().getImplementationVersion();
        if (version != null) {
            builder.setInstrumentationVersion(version);
        }
        this.tracer = builder.build();
    }

    /** On {@code openTelemetry} (an SDK, or {@link OpenTelemetry#noop()}). */
    public static Tracing on(OpenTelemetry openTelemetry) {
        return new Tracing(openTelemetry);
    }

    /** On whatever {@link GlobalOpenTelemetry} holds: the agent's SDK when one runs, else no-op. */
    public static Tracing global() {
        return new Tracing(GlobalOpenTelemetry.get());
    }

    /**
     * Runs {@code handle} in a {@code process} span (kind CONSUMER) whose parent is the trace the
     * delivery arrived with; the trace id goes into the log context meanwhile.
     */
    public Outcome process(String source, String system, Delivery delivery, Event event, Supplier<Outcome> handle) {
        var span = started(() -> {
            var s = tracer.spanBuilder("process " + source).setSpanKind(SpanKind.CONSUMER).setParent(extract(delivery.attributes()))
                    .setAttribute("messaging.system", system)
                    .setAttribute("messaging.operation.type", "process")
                    .setAttribute("messaging.operation.name", "process")
                    .setAttribute("messaging.destination.name", source)
                    .setAttribute("messaging.message.id", cut(delivery.id()))
                    .setAttribute("ferry.event.key", cut(event.key()))
                    .setAttribute("ferry.event.type", cut(event.type()))
                    .startSpan();
            if (delivery.groupKey() != null) {
                s.setAttribute("ferry.group", cut(delivery.groupKey()));
            }
            if (s.getSpanContext().isValid()) {
                LogContext.put(LogContext.TRACE_ID, s.getSpanContext().getTraceId());
            }
            return s;
        });
        return within(span, handle);
    }

    /**
     * A span started, or none when the tracer throws (an SDK's sampler or span processor of another version, no
     * memory): tracing never changes what happens to a message. A throw here failed every handler call, and every
     * message went to the dead-letter queue.
     */
    private static Span started(Supplier<Span> start) {
        try {
            return start.get();
        } catch (Throwable e) {
            return Span.getInvalid();
        }
    }

    /** Runs a span's bookkeeping; what it throws is dropped (see {@link #started}). */
    private static void quietly(Runnable bookkeeping) {
        try {
            bookkeeping.run();
        } catch (Throwable e) { // the span is what is lost, not the message's outcome
        }
    }

    /**
     * A sender's value (a key, a group, an id), cut as log lines cut it ({@link dev.ferry.app.logging.LogContext#cut},
     * 1,024 characters): a megabyte group key was kept whole in each of the
     * 2,048 spans an exporter queues. (Not the SDK's attribute limit: that cuts exception stack traces too.)
     */
    static String cut(String value) {
        return dev.ferry.app.logging.LogContext.cut(value);
    }

    /**
     * Runs a source's {@code poll} and, when it brought messages (or failed), records a {@code receive}
     * span (kind CLIENT: Ferry pulls) over it, linked to the trace each message arrived with. Empty
     * polls, which a long-polling source makes every few seconds all day, leave no span.
     */
    public List<Delivery> receive(String source, String system, Supplier<List<Delivery>> poll) {
        Instant start = Instant.now();
        List<Delivery> deliveries;
        try {
            deliveries = poll.get();
        } catch (Throwable e) { // a plugin's checked exception, sneaked out, too: its span was a success
            quietly(() -> {
                var span = receiveSpan(source, system, start).startSpan();
                failed(span, e);
                span.end();
            });
            throw e;
        }
        // the poll's deliveries are the listener's whatever the span does: thrown here, they were never handed over
        // (a Kafka record out for good, an HTTP request's capacity lost)
        quietly(() -> receiveSpan(deliveries, source, system, start));
        return deliveries;
    }

    private void receiveSpan(List<Delivery> deliveries, String source, String system, Instant start) {
        if (deliveries != null && !deliveries.isEmpty()) {
            var builder = receiveSpan(source, system, start).setAttribute("messaging.batch.message_count", deliveries.size());
            for (var delivery : deliveries) {
                if (delivery == null) {
                    continue; // the listener gives the poll's others back and says so: a span must not turn it into a failed poll
                }
                var context = Span.fromContext(extract(delivery.attributes())).getSpanContext();
                if (context.isValid()) {
                    builder.addLink(context);
                }
            }
            builder.startSpan().end();
        }
    }

    private io.opentelemetry.api.trace.SpanBuilder receiveSpan(String source, String system, Instant start) {
        return tracer.spanBuilder("receive " + source).setSpanKind(SpanKind.CLIENT).setNoParent().setStartTimestamp(start)
                .setAttribute("messaging.system", system)
                .setAttribute("messaging.operation.type", "receive")
                .setAttribute("messaging.operation.name", "receive")
                .setAttribute("messaging.destination.name", source);
    }

    /** Runs a sink's {@code publish} in a {@code send} span (kind PRODUCER) whose context the sink sends on. */
    public Outcome publish(String sink, String system, Supplier<Outcome> publish) {
        var span = started(() -> tracer.spanBuilder("send " + sink).setSpanKind(SpanKind.PRODUCER)
                .setAttribute("messaging.system", system)
                .setAttribute("messaging.operation.type", "send")
                .setAttribute("messaging.operation.name", "send")
                .setAttribute("messaging.destination.name", sink)
                .startSpan());
        return within(span, () -> {
            var headers = new LinkedHashMap<String, String>(4);
            quietly(() -> propagator.inject(Context.current(), headers, (carrier, key, value) -> carrier.put(key, value)));
            return Propagation.with(headers, publish);
        });
    }

    /** Runs {@code body} with {@code span} current, records its outcome or what it threw, and ends the span. */
    private static Outcome within(Span span, Supplier<Outcome> body) {
        io.opentelemetry.context.Scope scope;
        try {
            scope = span.makeCurrent();
        } catch (Throwable e) {
            scope = io.opentelemetry.context.Scope.noop();
        }
        Outcome outcome;
        try {
            outcome = body.get();
            quietly(() -> result(span, outcome)); // before the span ends: an ended span takes no status
        } catch (dev.ferry.domain.handle.HeldElsewhereException e) { // a wait for another worker, not an error
            quietly(() -> {
                span.setAttribute("ferry.held", true);
                span.addEvent("held elsewhere: " + cut(e.getMessage()));
            });
            throw e;
        } catch (Throwable e) { // a plugin's checked exception, sneaked out, too: its span was a success
            quietly(() -> failed(span, e));
            throw e;
        } finally {
            quietly(scope::close);
            quietly(span::end); // a span processor that throws at the end turned a sink's write into a failure: written again
        }
        return outcome;
    }

    /**
     * Marks {@code span} failed by {@code e}: its status first, in words that never throw, then the exception's event,
     * which OpenTelemetry builds from {@code getMessage()} — one whose text throws left the span without its status
     * (read as a success), and a failed poll without its span.
     */
    private static void failed(Span span, Throwable e) {
        span.setStatus(StatusCode.ERROR, cut(dev.ferry.domain.model.Thrown.describe(e)));
        quietly(() -> span.recordException(e));
    }

    private static void result(Span span, Outcome outcome) {
        switch (outcome) {
            case null -> span.setStatus(StatusCode.ERROR, "no outcome");
            case Outcome.Done d -> { }
            // cut as the attributes are: a reason carries the sender's key or an endpoint's answer, a megabyte kept in
            // every queued span, and an export batch over the collector's limit refused whole
            case Outcome.Retry r -> span.setStatus(StatusCode.ERROR, cut("retry: " + r.reason()));
            case Outcome.Reject r -> span.setStatus(StatusCode.ERROR, cut("reject: " + r.reason()));
            case Outcome.Throttled t -> span.setAttribute("ferry.throttled", true);
        }
    }

    /** The context a message arrived with: W3C headers first, else SQS's X-Ray header, else none. */
    Context extract(Map<String, String> attributes) {
        if (attributes.containsKey(TRACEPARENT) || attributes.containsKey("Traceparent")) {
            return propagator.extract(Context.root(), attributes, GETTER);
        }
        String xray = attributes.get(AWS_TRACE_HEADER);
        if (xray != null) {
            var context = XRayHeader.parse(xray);
            if (context != null) {
                return Context.root().with(Span.wrap(context));
            }
        }
        return Context.root();
    }

    private static final TextMapGetter<Map<String, String>> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            if (carrier == null) {
                return null;
            }
            String value = carrier.get(key);
            if (value == null) { // HTTP header names are case-insensitive; SQS and Kafka names are not
                value = carrier.get(key.substring(0, 1).toUpperCase(Locale.ROOT) + key.substring(1));
            }
            return value;
        }
    };
}
