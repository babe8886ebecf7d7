package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Disposition;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** What the ingest endpoint sends back, and the reading and writing of bodies around it. */
final class IngestAnswers {

    private IngestAnswers() {
    }

    /** What to send back once a request is done with. */
    record Answer(int status, Map<String, String> headers, String json) {
    }

    /** The longest {@code Retry-After} told: 12 hours, the longest SQS keeps a message out of sight. */
    static final long MAX_RETRY_AFTER_SECONDS = 12 * 60 * 60;

    static final Map<String, String> RETRY_AND_CLOSE = Map.of("Retry-After", "1", "Connection", "close");

    /**
     * The answer: per event its index, the client's own id for it ({@code id}: its Idempotency-Key,
     * {@code key#index} in a batch; absent without the header) and its status.
     */
    static Answer answer(IngestRequest request, boolean batch, boolean closing, Duration responseTimeout) {
        var json = new StringBuilder(64 + 64 * request.items.length).append("{\"results\":[");
        boolean anyRetry = false;
        boolean anyRejected = false;
        boolean anyRedeliver = false;
        long retryAfter = 0;
        for (var item : request.items) {
            if (item.index > 0) {
                json.append(',');
            }
            json.append("{\"index\":").append(item.index);
            if (item.delivery.deduplicationId() != null) {
                json.append(",\"id\":").append(quote(item.delivery.deduplicationId()));
            }
            json.append(",\"status\":");
            var d = item.disposition;
            switch (d) {
                case null -> {
                    anyRetry = true;
                    retryAfter = Math.max(retryAfter, 1);
                    json.append("\"retry\",\"reason\":\"not settled within ").append(responseTimeout.toSeconds())
                            .append(" s; it may still be handled\"");
                }
                case Disposition.Ack a -> json.append("\"done\"");
                case Disposition.DeadLetter dl -> {
                    anyRejected = true;
                    rejected(json, CallerReasons.of(dl.reason()));
                }
                case Disposition.Redeliver r -> {
                    anyRetry = true;
                    anyRedeliver = true;
                    // at least a second (0 is "now"), at most 12 hours: "for ever" wrapped round to 1, and a client
                    // that reads the header as an int fails on a longer one
                    long seconds = Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, Durations.ceilSeconds(r.delay())));
                    retryAfter = Math.max(retryAfter, seconds);
                    json.append("\"retry\",\"retryAfterSeconds\":").append(seconds);
                }
                case Disposition.Release r -> {
                    anyRetry = true;
                    // in an ordered batch, not sooner than any event before it: told 1 s behind a head told 300 s, a client
                    // following each event's hint sent the later ones first
                    long seconds = request.ordered ? Math.max(1, retryAfter) : 1;
                    retryAfter = Math.max(retryAfter, seconds);
                    json.append("\"retry\",\"retryAfterSeconds\":").append(seconds);
                    if (item.givenBackAtStop) { // a plain "retry" said it had not run: a client without a key ran it twice
                        json.append(",\"reason\":\"given back at a stop; it may have been handled\"");
                    }
                }
            }
            json.append('}');
        }
        json.append("]}");
        int status;
        if (anyRetry) {
            status = anyRedeliver || !closing ? 429 : 503;
        } else {
            status = anyRejected ? 422 : 200;
        }
        return new Answer(status, anyRetry ? Map.of("Retry-After", Long.toString(retryAfter)) : Map.of(), json.toString());
    }

    /**
     * The answer {@link #answer} gives one event under {@code id} that was dead-lettered for {@code told} (its reason as
     * the caller is told it): for a resend of an event whose dead letter its request never heard ({@link
     * UnheardDeadLetters}).
     */
    static Answer rejected(String id, String told) {
        var json = new StringBuilder(64 + id.length() + told.length()).append("{\"results\":[{\"index\":0,\"id\":")
                .append(quote(id)).append(",\"status\":");
        return new Answer(422, Map.of(), rejected(json, told).append("}]}").toString());
    }

    private static StringBuilder rejected(StringBuilder json, String told) {
        return json.append("\"rejected\",\"reason\":").append(quote(told));
    }

    /** The most of a refused body read and dropped so its client hears the answer; beyond it the connection closes. */
    static final long DRAIN_LIMIT = 64L << 20;

    /** Reads and drops up to {@code bytes} (at most {@link #DRAIN_LIMIT}) of a refused body. */
    static void drain(InputStream in, long bytes) throws IOException {
        long left = Math.min(bytes, DRAIN_LIMIT);
        byte[] buffer = new byte[16 * 1024];
        int n;
        while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
            left -= n;
        }
    }

    static void respond(HttpExchange ex, int status, Map<String, String> headers, String json) throws IOException {
        respond(ex, status, headers, json, () -> { });
    }

    /** The bytes of an answer written at a time: {@code eachChunk} runs before each (a deadline re-armed on progress). */
    static final int CHUNK = 64 * 1024;

    /** Writes the answer {@link #CHUNK} bytes at a time, running {@code eachChunk} before each. */
    static void respond(HttpExchange ex, int status, Map<String, String> headers, String json, Runnable eachChunk)
            throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        eachChunk.run();
        if (answeredHead(ex, status, bytes.length)) {
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (var out = ex.getResponseBody()) {
            for (int at = 0; at < bytes.length; at += CHUNK) {
                eachChunk.run();
                out.write(bytes, at, Math.min(CHUNK, bytes.length - at));
            }
        }
    }

    /**
     * A HEAD is answered with the headers of the answer and no body. The JDK's server logs a WARNING for a
     * HEAD answered with a length (then refuses the body's bytes): anyone who reaches the port could flood
     * the log with HEADs, each refused 404 or 405.
     */
    private static boolean answeredHead(HttpExchange ex, int status, int length) throws IOException {
        if (!"HEAD".equals(ex.getRequestMethod())) { // as the JDK's server tells a HEAD: by its exact name
            return false;
        }
        ex.getResponseHeaders().set("Content-Length", Integer.toString(length)); // the length a GET is answered with
        ex.sendResponseHeaders(status, -1);
        return true;
    }

    static String error(String reason) {
        return "{\"error\":" + quote(reason) + "}";
    }

    static String quote(String s) {
        var sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    // half a surrogate pair (UTF-8 writes it '?': two items' ids one), and U+2028/2029, escaped
                    boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
                    if (pair) {
                        sb.append(c).append(s.charAt(++i));
                    } else if (c < 0x20 || Character.isSurrogate(c) || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    static byte[] readBounded(InputStream in, int max) throws IOException {
        byte[] bytes = in.readNBytes(max + 1);
        return bytes.length > max ? null : bytes;
    }

    static long parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The 408 of a request whose headers and body did not arrive within {@code readTimeout}; the connection is closed after it. */
    static void answerLate(HttpExchange ex, Duration readTimeout) throws IOException {
        byte[] bytes = error("request not received within " + readTimeout.toMillis() + " ms; closing the connection")
                .getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.getResponseHeaders().set("Connection", "close");
        if (answeredHead(ex, 408, bytes.length)) {
            return;
        }
        ex.sendResponseHeaders(408, bytes.length);
        var out = ex.getResponseBody();
        out.write(bytes);
        out.flush(); // not closed: closing would wait for the rest of the body
    }
}
