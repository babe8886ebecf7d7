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

    public TracedSink(Sink sink, Tracing tracing, String system) {
        this.sink = sink;
        this.tracing = tracing;
        this.system = system;
    }

    @Override
    public String name() {
        return sink.name();
    }

    @Override
    public Outcome publish(Event event) {
        return tracing.publish(sink.name(), system, () -> sink.publish(event));
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
