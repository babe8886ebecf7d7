package dev.ferry.domain.transport;

import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Headers a sink carries along with what it sends — a trace context ({@code traceparent},
 * {@code tracestate}) above all — set by the code that calls the sink, for the calls it makes on
 * the same thread. Every built-in sink sends them (an SQS message attribute within its 10-attribute
 * budget, a Kafka header, an HTTP header), replacing an event attribute of the same name; a sink of
 * your own should do the same. The engine itself sets none.
 */
public final class Propagation {

    private static final ThreadLocal<Map<String, String>> CURRENT = new ThreadLocal<>();

    private Propagation() {
    }

    /** The headers set for this thread's sink calls; empty when none. */
    public static Map<String, String> current() {
        var headers = CURRENT.get();
        return headers == null ? Map.of() : headers;
    }

    /** Runs {@code call} with {@code headers} as {@link #current()}, then puts back what was there. */
    public static <T> T with(Map<String, String> headers, Supplier<T> call) {
        Objects.requireNonNull(call, "call");
        var previous = CURRENT.get();
        CURRENT.set(Map.copyOf(headers));
        try {
            return call.get();
        } finally {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }
}
