package dev.ferry.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The benchmark payloads, shipped as resources of this module. */
final class Payloads {

    private Payloads() {
    }

    static byte[] load(String name) {
        try (InputStream in = Payloads.class.getResourceAsStream("/" + name + ".json")) {
            if (in == null) {
                throw new IllegalArgumentException("no payload " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
