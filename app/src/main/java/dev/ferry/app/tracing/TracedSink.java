package dev.ferry.app.tracing;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import java.util.Optional;

/** A sink whose every publish is a {@code send} span, its context sent on by the sink. */
public final class TracedSink implements Sink {

    private final Sink sink;
    private final Tracing tracing;
    private final String system;
    /** The span's destination: the configured name, not the plugin's own (asked per publish, one that threw failed each). */
    private final String destination;

    /** The sink's spans named by its own {@code name()}, asked once here. */
    public TracedSink(Sink sink, Tracing tracing, String system) {
        this(sink, tracing, system, sink.name());
    }

    /** The sink's spans named {@code destination} (the name the configuration gives it). */
    public TracedSink(Sink sink, Tracing tracing, String system, String destination) {
        this.sink = sink;
        this.tracing = tracing;
        this.system = system;
        this.destination = destination;
    }

    @Override
    public String name() {
        return sink.name();
    }

    @Override
    public Outcome publish(Event event) {
        return tracing.publish(destination, system, () -> sink.publish(event));
    }

    @Override
    public Optional<String> holdingBack() {
        return sink.holdingBack();
    }

    @Override
    public Optional<String> holdingBackInBrief() {
        return sink.holdingBackInBrief();
    }

    @Override
    public void close() {
        sink.close();
    }
}
