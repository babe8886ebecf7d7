package dev.ferry.domain.decode;

import dev.ferry.domain.model.Event;
import java.util.List;

/** What a {@link Decoder} made of a delivery: its events, or why it could not. */
public sealed interface Decoded {

    /** The delivery's events, in the order they appear in it. Empty means "nothing to do" (acked). */
    record Events(List<Event> events) implements Decoded {
        public Events {
            events = List.copyOf(events);
        }
    }

    /** The body is not what the decoder accepts; {@code reason} names the field or offset. */
    record Malformed(String reason) implements Decoded {
        public Malformed {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("a Malformed result needs a reason");
            }
        }
    }

    static Decoded of(List<Event> events) {
        return new Events(events);
    }

    static Decoded malformed(String reason) {
        return new Malformed(reason);
    }
}
