package dev.ferry.app;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Writes one line per event to standard output: for trying routes out, and for the local example. */
final class LogSink implements Sink {

    private static final int MAX_PAYLOAD = 200;

    private final String name;
    private final PrintStream out;

    LogSink(String name, PrintStream out) {
        this.name = name;
        this.out = out;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome publish(Event event) {
        String payload = new String(event.payload(), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        if (payload.length() > MAX_PAYLOAD) {
            payload = payload.substring(0, MAX_PAYLOAD) + "...";
        }
        out.println("ferry [" + name + "] " + event.type() + " " + event.key()
                + (event.groupKey() == null ? "" : " group=" + event.groupKey()) + " " + payload);
        return Outcome.done();
    }
}
