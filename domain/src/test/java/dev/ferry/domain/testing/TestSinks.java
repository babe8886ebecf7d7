package dev.ferry.domain.testing;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import java.util.function.Function;

/** Sinks for engine tests: a name and what publishing an event does. */
public final class TestSinks {

    private TestSinks() {
    }

    public static Sink of(String name, Function<Event, Outcome> publish) {
        return new Sink() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Outcome publish(Event event) {
                return publish.apply(event);
            }
        };
    }
}
