package dev.ferry.codecs;

import dev.ferry.domain.model.Delivery;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/** Test bodies from src/test/resources. */
final class Samples {

    private Samples() {
    }

    static byte[] bytes(String resource) {
        try (InputStream in = Samples.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Delivery delivery(byte[] body) {
        return new Delivery("msg-1", body, Map.of("SenderId", "AIDAIXO4EZE6RHVSXIN4E"), 1,
                Instant.parse("2026-11-22T10:00:00Z"), null, null, "test-queue", null);
    }

    static Delivery sample(String name) {
        return delivery(bytes("samples/" + name));
    }
}
