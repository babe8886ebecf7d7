package dev.ferry.adapters.http;

import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Propagation;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/** The request an {@link HttpSink} sends for an event: its payload, key, type, headers, trace and token. */
final class SinkRequests {

    private SinkRequests() {
    }

    /**
     * The sink's own client. Its connect timeout is at most half the request's {@code timeout}: at 5 s, past a shorter
     * timeout, a connection that never came (a full accept queue, a dropped SYN) was cut by the request's timeout,
     * "no answer", and taken for a request that reached the endpoint (a real 409 after it waited out for the whole
     * outage patience). At the timeout itself, the request's wait, begun first, still ended first.
     */
    static java.net.http.HttpClient client(java.net.http.HttpClient.Version version, Duration connectTimeout,
                                           Duration timeout) {
        return java.net.http.HttpClient.newBuilder()
                .version(version)
                .connectTimeout(connectTimeout(connectTimeout, timeout))
                // #16: never follow. A 301/302/303 turns the POST into a GET without a body, and a 200
                // to that would mark the event done though it never arrived.
                .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
                .build();
    }

    /** A sink's connect timeout unless its builder says. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    /**
     * The connect timeout of the sink's own client: {@code connectTimeout}, at most half the request's {@code timeout}.
     * A connection not made in time is said with this, not the request's timeout (which said "PT10S" of a connection
     * given 5 s); the answers know the request's timeout only, so with the default connect timeout.
     */
    static Duration connectTimeout(Duration connectTimeout, Duration timeout) {
        var half = timeout.dividedBy(2).isZero() ? timeout : timeout.dividedBy(2); // the client refuses zero
        return connectTimeout.compareTo(half) < 0 ? connectTimeout : half;
    }

    /**
     * The pauses between a sink's attempts in process: from {@code first}, doubling up to 30 s (or {@code first}
     * when longer). Without a bound, {@code retries(64, 100ms)} paused for ever on its last attempts — a worker
     * and its permit held, the event's group stopped, its lease extended all the while.
     */
    static io.github.resilience4j.core.IntervalFunction pauses(Duration first) {
        long firstMillis = Math.max(1, dev.ferry.domain.model.Durations.millis(first));
        return io.github.resilience4j.core.IntervalFunction.ofExponentialBackoff(firstMillis, 2.0,
                Math.max(firstMillis, MAX_PAUSE.toMillis()));
    }

    static final Duration MAX_PAUSE = Duration.ofSeconds(30);

    /** A builder's duration that must be more than zero, {@code field} named when it is not. */
    static void positive(String field, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(field + " must be > 0, was " + value);
        }
    }

    /** A first pause is waited out by a worker, its permit held: five minutes at most (for ever was taken). */
    static void checkFirstPause(Duration first) {
        if (first.compareTo(MAX_FIRST_PAUSE) > 0) {
            throw new IllegalArgumentException("firstBackoff must be at most 5m (a worker waits each pause out), was " + first);
        }
    }

    private static final Duration MAX_FIRST_PAUSE = Duration.ofMinutes(5);

    /** A sink's attempts per event in process, first pause and wait for a connection slot, unless its builder says. */
    static final int ATTEMPTS = 3;
    static final Duration FIRST_PAUSE = Duration.ofMillis(100);
    static final Duration SLOT_WAIT = Duration.ofSeconds(1);

    /**
     * How long one publish runs against an endpoint that does not answer: the wait for a connection slot,
     * then every attempt to its timeout with the pauses between them.
     */
    static Duration longestCall(Duration slotWait, int attempts, Duration timeout, Duration firstPause) {
        var pauses = pauses(firstPause);
        var longest = slotWait.plus(timeout.multipliedBy(attempts));
        for (int attempt = 1; attempt < attempts; attempt++) {
            longest = longest.plusMillis(pauses.apply(attempt));
        }
        return longest;
    }

    /** The headers the sink sets on every request itself, in lower case. */
    private static final java.util.Set<String> OWN_HEADERS = java.util.Set.of("idempotency-key", "x-ferry-event-type",
            HeaderValues.ENCODING_HEADER.toLowerCase(java.util.Locale.ROOT));

    /**
     * Why a configured header cannot go with every request, or null when it can: the JDK client refuses its name or
     * value (Host, Connection, a control character), which was found only when the sink was opened; or the sink sets
     * it itself. Added to the sink's own, an {@code Idempotency-Key} went twice, and a receiver that keeps one value
     * saw the same key on every event and dropped all but the first as duplicates, while Ferry counted them done.
     */
    static String headerProblem(String name, String value) {
        if (OWN_HEADERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
            return "header '" + name + "' is set by the sink itself (the event's key, its type, their encoding): sent "
                    + "twice, a receiver keeping one would see the same value on every event";
        }
        try {
            HttpRequest.newBuilder().header(name, value);
        } catch (IllegalArgumentException e) {
            // the JDK's message quotes the value, maybe a secret
            return "header '" + name + "' cannot be sent by the JDK HTTP client"
                    + " (a restricted name such as Host, or a value with control characters or beyond Latin-1)";
        }
        return null;
    }

    static HttpRequest of(Event event, java.net.URI target, String method, Duration timeout, Map<String, String> headers,
                          Supplier<String> bearerToken) {
        var request = HttpRequest.newBuilder(target)
                .timeout(timeout)
                .method(method, HttpRequest.BodyPublishers.ofByteArray(event.payload()));
        // #16: the JDK refuses a header value beyond Latin-1 or with control characters (a URL-decoded S3
        // key such as 文件.pdf), which no retry cures; such a key or type goes percent-encoded, and says so.
        if (HeaderValues.keyNeedsEncoding(event.key()) || HeaderValues.needsEncoding(event.type())) {
            request.header("Idempotency-Key", HeaderValues.boundedKey(event.key(), HeaderValues.percentEncode(event.key())))
                    .header("X-Ferry-Event-Type", HeaderValues.boundedType(HeaderValues.percentEncode(event.type())))
                    .header(HeaderValues.ENCODING_HEADER, HeaderValues.PERCENT);
        } else {
            request.header("Idempotency-Key", HeaderValues.boundedKey(event.key(), event.key()))
                    .header("X-Ferry-Event-Type", HeaderValues.boundedType(event.type()));
        }
        headers.forEach(request::header);
        Propagation.current().forEach((name, value) -> {
            if (!HeaderValues.needsEncoding(value)) {
                request.setHeader(name, value);
            }
        });
        if (bearerToken != null) {
            request.header("Authorization", "Bearer " + bearerToken.get());
        }
        return request.build();
    }
}
