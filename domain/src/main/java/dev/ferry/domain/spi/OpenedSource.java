package dev.ferry.domain.spi;

import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Source;
import java.util.Objects;

/**
 * A started source and the acknowledger that settles what it hands out (often the same object).
 *
 * @param description where it reads from, for the start-up line (a queue URL, topics, an address)
 */
public record OpenedSource(Source source, Acknowledger acknowledger, String description) {

    public OpenedSource {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(acknowledger, "acknowledger");
        Objects.requireNonNull(description, "description");
    }

    public static <T extends Source & Acknowledger> OpenedSource of(T both, String description) {
        return new OpenedSource(both, both, description);
    }
}
