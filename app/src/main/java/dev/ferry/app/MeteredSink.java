package dev.ferry.app;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * A sink that times every publish and counts outcomes: {@code ferry_sink_publish_seconds{sink,outcome}}, tagged with
 * the name the configuration gives the sink — not the one a plugin sink gives itself, which two sinks may share.
 */
final class MeteredSink implements Sink {

    private final String name;
    private final Sink sink;
    private final Timer done;
    private final Timer retry;
    private final Timer throttled;
    private final Timer rejected;

    MeteredSink(String name, Sink sink, MeterRegistry registry) {
        this.name = name;
        this.sink = sink;
        this.done = timer(registry, name, "done");
        this.retry = timer(registry, name, "retry");
        this.throttled = timer(registry, name, "throttled");
        this.rejected = timer(registry, name, "rejected");
    }

    private static Timer timer(MeterRegistry registry, String sink, String outcome) {
        return Timer.builder("ferry.sink.publish").description("publishes to a sink, by outcome")
                .tag("sink", sink).tag("outcome", outcome).publishPercentileHistogram().register(registry);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome publish(Event event) {
        long start = System.nanoTime();
        Outcome outcome = null;
        try {
            outcome = sink.publish(event);
            return outcome;
        } finally {
            // a sink that throws (an Error too) or answers nothing is a retry to the router: counted as one here too, so
            // a sink failing every publish does not look idle
            try {
                (switch (outcome) {
                    case Outcome.Done d -> done;
                    case Outcome.Throttled t -> throttled;
                    case Outcome.Reject r -> rejected;
                    case null, default -> retry;
                }).record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (Throwable metricsFailed) {
                // the count is what is lost, never the outcome: thrown from here (a registry's own fault, no memory), a
                // write the sink confirmed became a retry, and the event was written again
            }
        }
    }

    /** The mean time of a successful publish over the last minute, for the console. */
    private final RecentMean recentPublish = new RecentMean();

    /** Outcomes so far and the mean time of a successful publish over the last minute, for the console. */
    java.util.Map<String, Object> snapshot() {
        var m = new java.util.LinkedHashMap<String, Object>();
        m.put("done", done.count());
        m.put("retry", retry.count());
        m.put("throttled", throttled.count());
        m.put("rejected", rejected.count());
        m.put("mean_ms", recentPublish.of(done.count(), done.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)));
        return m;
    }

    @Override
    public java.util.Optional<String> holdingBack() {
        return sink.holdingBack();
    }

    @Override
    public java.util.Optional<String> holdingBackInBrief() {
        return sink.holdingBackInBrief();
    }

    @Override
    public void close() {
        sink.close();
    }
}
