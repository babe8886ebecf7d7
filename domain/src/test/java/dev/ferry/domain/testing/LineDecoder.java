package dev.ferry.domain.testing;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A tiny decoder for engine tests: the body is one or more lines {@code key type}, each an event
 * grouped by the delivery's group key; a body starting with {@code !} is malformed.
 */
public final class LineDecoder implements Decoder {

    @Override
    public Decoded decode(Delivery delivery) {
        var text = new String(delivery.body(), StandardCharsets.UTF_8);
        if (text.startsWith("!")) {
            return Decoded.malformed("line 1, offset 0: expected an event key, found '!'");
        }
        List<Event> events = new ArrayList<>();
        for (var line : text.split("\n")) {
            var parts = line.split(" ", 2);
            events.add(new Event(parts[0], parts.length > 1 ? parts[1] : "T", null, delivery.groupKey(),
                    line.getBytes(StandardCharsets.UTF_8), Map.of()));
        }
        return Decoded.of(events);
    }
}
