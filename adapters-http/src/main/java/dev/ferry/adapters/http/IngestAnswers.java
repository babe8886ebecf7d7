package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.transport.Disposition;
import java.io.ByteArrayOutputStream;
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
     * An answer as the bytes it is written as: the first {@code length} of {@code bytes}, in UTF-8. {@code bytes} is the
     * whole buffer it was built in, grown by doubling, and held whole until the answer is written.
     */
    record Encoded(int status, Map<String, String> headers, byte[] bytes, int length) {
    }

    /** A test's stand-in for an Error where a queued request's answer is built (no memory); null outside tests. */
    static volatile Runnable answerFault;

    private static void fault() {
        var fault = answerFault;
        if (fault != null) {
            fault.run();
        }
    }

    /** The answer {@link #encoded} builds, as text ({@code batch} changes nothing in it): a test's look. */
    static Answer answer(IngestRequest request, boolean batch, boolean closing, Duration responseTimeout) {
        var built = encoded(request, closing, responseTimeout);
        return new Answer(built.status(), built.headers(),
                new String(built.bytes(), 0, built.length(), StandardCharsets.UTF_8));
    }

    /**
     * The answer: per event its index, the client's own id for it ({@code id}: its Idempotency-Key,
     * {@code key#index} in a batch; absent without the header) and its status. Built as the bytes it is written as:
     * built as text and then copied to its bytes, an answer of 8 MB (a batch of reject reasons) was there three times.
     */
    static Encoded encoded(IngestRequest request, boolean closing, Duration responseTimeout) {
        fault();
        var tally = new Tally(request.ordered);
        var json = new Json(64 + 64 * request.items.length).ascii("{\"results\":[");
        for (var item : request.items) {
            var d = item.disposition; // read once: an event settled meanwhile was told one status and another's details
            json.ascii(item.index > 0 ? ",{\"index\":" : "{\"index\":").number(item.index);
            if (item.delivery.deduplicationId() != null) {
                json.ascii(",\"id\":").quoted(item.delivery.deduplicationId());
            }
            json.ascii(",\"status\":\"").ascii(tally.count(d)).write('"');
            switch (d) {
                case null -> json.ascii(",\"reason\":\"not settled within ").number(responseTimeout.toSeconds())
                        .ascii(" s; it may still be handled\"");
                case Disposition.Ack a -> { }
                case Disposition.DeadLetter dl -> json.ascii(",\"reason\":").quoted(CallerReasons.of(dl.reason()));
                case Disposition.Redeliver r -> json.ascii(",\"retryAfterSeconds\":").number(tally.seconds);
                case Disposition.Release r -> {
                    json.ascii(",\"retryAfterSeconds\":").number(tally.seconds);
                    if (item.givenBackAtStop) { // a plain "retry" said it had not run: a client without a key ran it twice
                        json.ascii(",\"reason\":\"given back at a stop; it may have been handled\"");
                    }
                }
            }
            json.write('}');
        }
        return json.ascii("]}").toAnswer(tally.status(closing), tally.headers());
    }

    /**
     * The answer {@link #encoded} gives, but each event's index and status alone, and saying so: sent when the whole
     * one, of {@code fullLength} bytes, did not fit in the byte budget ({@link Uploads#answering}). Some 35 bytes an
     * event (50 with the warning below), whatever its id and reason; built in a buffer of {@link #compactBytes}, which
     * it never outgrows.
     *
     * <p>An event the whole answer tells it may have been handled (not settled in time, or given back at a stop) is
     * told so here too, {@code "mayHaveRun":true}: a bare {@code "retry"} reads as "not run", and a client without a
     * key sent it again to run twice. And answers go compact just when a slow handler's events fill the budget.
     */
    static Encoded compact(IngestRequest request, boolean closing, int fullLength) {
        fault();
        var tally = new Tally(request.ordered);
        // past an int only beyond 36 million events, a buffer not to be had: its throw sends the counts instead
        var json = new Json((int) Math.min(Integer.MAX_VALUE - 8, compactBytes(request.items.length)))
                .ascii(COMPACT_START);
        for (var item : request.items) {
            var d = item.disposition; // read once, as the whole answer reads it: its status and its warning agree
            json.ascii(item.index > 0 ? ",{\"index\":" : "{\"index\":").number(item.index).ascii(",\"status\":\"")
                    .ascii(tally.count(d)).write('"');
            if (mayHaveRun(item, d)) {
                json.ascii(MAY_HAVE_RUN);
            }
            json.write('}');
        }
        return json.ascii(COMPACT_OMITTED).number(fullLength).ascii(COMPACT_END)
                .toAnswer(tally.status(closing), tally.headers());
    }

    /**
     * Whether the whole answer tells the event, settled {@code d}, that it may have been handled: not settled within the
     * response timeout ({@code d} null), or released by the listener at its stop (its handler may have outlasted it).
     */
    private static boolean mayHaveRun(IngestRequest.Item item, Disposition d) {
        return d == null || d instanceof Disposition.Release && item.givenBackAtStop;
    }

    private static final String COMPACT_START = "{\"results\":[";
    private static final String MAY_HAVE_RUN = ",\"mayHaveRun\":true";
    private static final String COMPACT_OMITTED = "],\"omitted\":\"each event's id and reason: the whole answer, of ";
    private static final String COMPACT_END = " bytes, was more than this source could hold for it at once\"}";
    /** The most bytes {@link #compact} writes for an event: an int's index, the longest status, the warning. */
    private static final int COMPACT_EVENT = ",{\"index\":".length() + 10 + ",\"status\":\"rejected\"".length()
            + MAY_HAVE_RUN.length() + "}".length();

    /**
     * The most bytes the compact answer to {@code events} events takes ({@link #compact}): the least byte budget holds
     * one beside a body at the limit ({@link Uploads}), so a lone request is never answered only its counts.
     */
    static long compactBytes(int events) {
        return COMPACT_START.length() + (long) COMPACT_EVENT * events + COMPACT_OMITTED.length() + 10
                + COMPACT_END.length();
    }

    /**
     * What {@link #counts} says of the events to retry, whatever left their results out: some may have run (not settled
     * in time, given back at a stop), and counts with no word of it read as "not run" — a client without a key sent
     * them again, and each ran twice.
     */
    private static final String RETRY_MAY_HAVE_RUN = "an event to retry may have been handled, resend it under the same "
            + "Idempotency-Key";
    /** Why {@link #counts} leaves out each event's result: no room in the byte budget even for the compact answer. */
    static final String NO_ROOM = "each event's result: no room for it in the memory this source holds for answers; "
            + RETRY_MAY_HAVE_RUN;
    /** Why {@link #counts} leaves out each event's result: the answer could not be made or sent. */
    static final String NOT_MADE = "each event's result: the answer could not be made; " + RETRY_MAY_HAVE_RUN;

    /**
     * The status the answer {@link #encoded} would have had, and how many of the events were done, rejected and are to
     * retry, with {@code why} (ASCII, no quote) the rest is left out. Nothing is allocated per event: it is the answer
     * of last resort, made where memory ran short — a bare 500 there read as "not handled", and a client's retry
     * without a key ran every event again under new ids.
     */
    static Encoded counts(IngestRequest request, boolean closing, String why) {
        fault();
        var tally = new Tally(request.ordered);
        for (var item : request.items) {
            tally.count(item.disposition);
        }
        return new Json(96 + why.length()).ascii("{\"done\":").number(tally.done).ascii(",\"rejected\":")
                .number(tally.rejected).ascii(",\"retry\":").number(tally.retry).ascii(",\"omitted\":\"").ascii(why)
                .ascii("\"}").toAnswer(tally.status(closing), tally.headers());
    }

    /**
     * What a request whose events were queued is answered when not even {@link #counts} could be made or sent: made
     * up front, as memory is short by then. "internal error" read as "not handled" to a client's retry.
     */
    static final Encoded MAY_HAVE_BEEN_HANDLED = new Json(192).ascii(error("the events may have been handled, but their "
            + "answer could not be made: resend them under the same Idempotency-Key (without one, they run again)"))
            .toAnswer(500, Map.of());

    /**
     * What a request's events came to, counted as an answer goes through them: its status, its Retry-After and each
     * event's status word. Nothing allocated per event ({@link #counts}).
     */
    private static final class Tally {
        private final boolean ordered;
        private int done;
        private int rejected;
        private int retry;
        private boolean anyRedeliver;
        private long retryAfter;
        /** The retry hint of the event counted last, in seconds. */
        private long seconds;

        Tally(boolean ordered) {
            this.ordered = ordered;
        }

        /** Counts an event settled {@code d} (null: not settled in time); its status word. */
        String count(Disposition d) {
            return switch (d) {
                case null -> retry(1);
                case Disposition.Ack a -> {
                    done++;
                    yield "done";
                }
                case Disposition.DeadLetter dl -> {
                    rejected++;
                    yield "rejected";
                }
                case Disposition.Redeliver r -> {
                    anyRedeliver = true;
                    // at least a second (0 is "now"), at most 12 hours: "for ever" wrapped round to 1, and a client
                    // that reads the header as an int fails on a longer one
                    yield retry(Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, Durations.ceilSeconds(r.delay()))));
                }
                // in an ordered batch, not sooner than any event before it: told 1 s behind a head told 300 s, a client
                // following each event's hint sent the later ones first
                case Disposition.Release r -> retry(ordered ? Math.max(1, retryAfter) : 1);
            };
        }

        private String retry(long hint) {
            retry++;
            seconds = hint;
            retryAfter = Math.max(retryAfter, hint);
            return "retry";
        }

        int status(boolean closing) {
            if (retry > 0) {
                return anyRedeliver || !closing ? 429 : 503;
            }
            return rejected > 0 ? 422 : 200;
        }

        Map<String, String> headers() {
            return retry > 0 ? Map.of("Retry-After", Long.toString(retryAfter)) : Map.of();
        }
    }

    /** An answer's bytes as they are built, in UTF-8, handed on in the buffer they were built in: no copy of the whole. */
    private static final class Json extends ByteArrayOutputStream {

        Json(int size) {
            super(size);
        }

        /** Text of ASCII characters only: the answers' own words. */
        Json ascii(String s) {
            for (int i = 0; i < s.length(); i++) {
                write(s.charAt(i));
            }
            return this;
        }

        Json number(long n) {
            return ascii(Long.toString(n));
        }

        /** A client's or a handler's text, as a JSON string. */
        Json quoted(String s) {
            writeBytes(quote(s).getBytes(StandardCharsets.UTF_8));
            return this;
        }

        Encoded toAnswer(int status, Map<String, String> headers) {
            return new Encoded(status, headers, buf, count);
        }
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
        respond(ex, new Encoded(status, headers, bytes, bytes.length), eachChunk);
    }

    /** Writes the answer {@link #CHUNK} bytes at a time, running {@code eachChunk} before each. */
    static void respond(HttpExchange ex, Encoded answer, Runnable eachChunk) throws IOException {
        int length = answer.length();
        ex.getResponseHeaders().set("Content-Type", "application/json");
        answer.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        eachChunk.run();
        if (answeredHead(ex, answer.status(), length)) {
            return;
        }
        ex.sendResponseHeaders(answer.status(), length);
        try (var out = ex.getResponseBody()) {
            for (int at = 0; at < length; at += CHUNK) {
                eachChunk.run();
                out.write(answer.bytes(), at, Math.min(CHUNK, length - at));
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
