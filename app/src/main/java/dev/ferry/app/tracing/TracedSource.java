package dev.ferry.app.tracing;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A source whose every poll that brought messages is a {@code receive} span, linked to their traces. */
public final class TracedSource implements Source {

    private final Source source;
    private final Tracing tracing;
    private final String system;
    private final String name;

    public TracedSource(Source source, Tracing tracing, String system) {
        this(source, tracing, system, source.name());
    }

    /**
     * Named {@code name} (the configuration file's name of the source): the listener takes its name from it, and
     * keys what it notes of each message by it — a plugin's source names itself as its author chose, and what was
     * noted under that name was never found by a lookup, which asks by the file's.
     */
    public TracedSource(Source source, Tracing tracing, String system, String name) {
        this.source = source;
        this.tracing = tracing;
        this.system = system;
        this.name = java.util.Objects.requireNonNull(name, "name");
        // read once, here: a plugin whose name() throws fails the start that opened it (as when the listener read it),
        // not every poll after, for ever
        this.sourceName = source.name();
    }

    /** The source's own name (a queue's, a plugin's), which its receive spans carry. */
    private final String sourceName;

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Delivery> poll(PollRequest request) {
        return tracing.receive(sourceName, system, () -> source.poll(request));
    }

    @Override
    public Duration maxHoldInHand() {
        return source.maxHoldInHand();
    }

    @Override
    public Duration longestLease() {
        return source.longestLease();
    }

    @Override
    public boolean redeliversAfterLease() {
        return source.redeliversAfterLease(); // false for Kafka and HTTP: the engine must not drop their late copies
    }

    @Override
    public Optional<String> problem() {
        return source.problem();
    }

    @Override
    public void stopping() {
        source.stopping();
    }

    @Override
    public void close() {
        source.close();
    }
}
