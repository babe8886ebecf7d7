package dev.ferry.adapters.http;

import dev.ferry.domain.handle.Outcome;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;

/**
 * One call of the {@link HttpSink}: its outcome, and whether the sink's in-process retry may make
 * the call again. Also how an error answer is quoted in a reason: where a redirect pointed, and the
 * first characters of its body.
 */
sealed interface Attempt {

    /** The first characters of an error body that go into a rejection's reason. */
    int REASON_BODY_CHARS = 200;

    Outcome outcome();

    /**
     * Whether the endpoint could not be reached, or could not take anything (no connection, no answer, 502,
     * 503, 504, a credential refused): an outage, waited out for a while before the event's attempts are spent.
     */
    default boolean unreachable() {
        return false;
    }

    /**
     * Whether the request may have reached the endpoint, which may be at work on it still: a 409 "key in use" after it
     * is that request, not a conflict. Only a {@link Transient} or a {@link Final} attempt says so.
     */
    default boolean reached() {
        return false;
    }

    /**
     * The endpoint may answer otherwise in a moment: 408, 5xx, no connection, a timeout. {@code reached}: the request
     * may have reached the endpoint (false only when no connection was made: nothing was sent).
     */
    record Transient(Outcome outcome, boolean unreachable, boolean reached) implements Attempt {
        Transient(Outcome outcome) {
            this(outcome, false, true);
        }

        Transient(Outcome outcome, boolean unreachable) {
            this(outcome, unreachable, true);
        }
    }

    /**
     * Asked again at once, the endpoint would answer the same. {@code reached}: a gateway's answer with Retry-After (a
     * 504, a 524) that the request got past it to the endpoint, which may be at work on it still.
     */
    record Final(Outcome outcome, boolean unreachable, boolean reached) implements Attempt {
        Final(Outcome outcome) {
            this(outcome, false, false);
        }

        Final(Outcome outcome, boolean unreachable) {
            this(outcome, unreachable, false);
        }
    }

    /**
     * The caller was interrupted (a handler's timeout, a stop) while the request was under way: no answer, though
     * the request may have reached the endpoint. Not tried again here; neither an outage nor its end.
     */
    record Interrupted(Outcome outcome) implements Attempt {
    }

    /**
     * Nothing was sent: the client's own limit (an HTTP/2 connection's streams at the server's). Neither an outage, nor
     * its end, nor an answer: the breaker and the outage's timing hear nothing of it.
     */
    record NotSent(Outcome outcome) implements Attempt {
    }

    /**
     * The endpoint is up and answered "not yet" for this event alone (409: its key in use): tried again
     * later, like a Final answer, but no sign that the endpoint is failing — not counted by the breaker.
     */
    record Busy(Outcome outcome) implements Attempt {
    }

    /** A Location header, resolved against the target when relative, redacted. */
    static String location(URI target, String value) {
        try {
            return Redact.url(target.resolve(new URI(value.strip())));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return Redact.url(value);
        }
    }

    /** {@code ": "} and the body's first characters on one line, or nothing for an empty body. */
    static String bodySnippet(byte[] body) {
        return bodySnippet(body, null);
    }

    /**
     * {@link #bodySnippet(byte[])}, without what {@code sent} carried in its headers (its bearer token, an API key): an
     * endpoint that echoes them in an error ("invalid token: eyJ...") put them in the log, the dead letter's reason —
     * read by many more than the configuration — the console and, through an HTTP source, its caller.
     */
    static String bodySnippet(byte[] body, java.net.http.HttpRequest sent) {
        if (body == null || body.length == 0) {
            return "";
        }
        int longest = 0; // a token that begins in what is kept is read whole, to be found (a JWT runs to 1 KB and more)
        if (sent != null) {
            for (var values : sent.headers().map().values()) {
                for (String value : values) {
                    longest = Math.max(longest, value.length() * 4);
                }
            }
        }
        String text = new String(body, 0, Math.min(body.length, REASON_BODY_CHARS * 4 + longest), StandardCharsets.UTF_8);
        if (sent != null) {
            for (var header : sent.headers().map().entrySet()) {
                String lower = header.getKey().toLowerCase(java.util.Locale.ROOT);
                if (!NOT_SECRET.contains(lower) && !lower.startsWith("x-ferry-")) { // Ferry's own: the event's type, ...
                    for (String value : header.getValue()) {
                        text = withoutEcho(text, value);
                        int blank = value.indexOf(' '); // "Bearer TOKEN": the token alone too
                        text = blank < 0 ? text : withoutEcho(text, value.substring(blank + 1).strip());
                    }
                }
            }
        }
        text = text.length() > REASON_BODY_CHARS ? text.substring(0, REASON_BODY_CHARS) + "..." : text;
        return ": " + text.replaceAll("\\s+", " ").strip();
    }

    /** Headers whose values are no secret (and often short words an error body holds anyway). */
    java.util.Set<String> NOT_SECRET = java.util.Set.of("content-type", "accept", "user-agent",
            "idempotency-key", "traceparent", "tracestate");

    private static String withoutEcho(String text, String value) {
        return value.length() < 8 ? text : text.replace(value, "(a header's value)");
    }
}
