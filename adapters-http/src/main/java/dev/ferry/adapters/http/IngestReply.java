package dev.ferry.adapters.http;

import static dev.ferry.adapters.http.IngestAnswers.respond;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.adapters.http.IngestAnswers.Answer;
import dev.ferry.adapters.http.IngestAnswers.Encoded;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a request is answered, written once its processing permit (if it took one) and its body are let go of: an
 * answer made whole (a refusal), or the answer to a request whose events were queued.
 *
 * <p>That answer is built while the permit is held (at most {@code maxConcurrentRequests} built at once), then its
 * bytes count in the uploads' byte budget until written ({@link Uploads#answering}): held outside it, a batch's answer
 * (a megabyte of ids, eight of reject reasons) stayed in memory for as long as its client did not read it, and
 * nothing bounded how many clients did that. Charged the buffer it was built in, not its length. One that does not fit
 * is sent compact, each event's index and status and whether it may have run ({@link IngestAnswers#compact}); should not
 * even that fit, only what the events came to, and that those to retry may have run ({@link IngestAnswers#counts}).
 *
 * <p>Once its events were queued, nothing thrown while the answer is built or written ends in a bare 500: "internal
 * error" read as "not handled", and a client's retry without a key ran every event again, under new ids. The client
 * is told what its events came to instead, or, failing that, that they may have been handled. One reply a request,
 * on its own thread.
 *
 * <p>Built, it holds nothing of its request: what the events came to, sent should the answer not be, is made then (a
 * few hundred bytes), so the body and the events' payloads are let go of, and the body's bytes given back, before
 * the answer is written. Kept for the counts, the request held them for as long as a slow client read its answer:
 * five readers of 400 KB answers kept 5 MB of bodies counted, and uploads were answered 503.
 */
final class IngestReply {

    private static final Logger LOG = LoggerFactory.getLogger(HttpSource.class);

    /** An answer made whole (a refusal, a dead letter's 422 told to a resend); null for events queued. */
    private final Answer made;
    private final Uploads uploads;
    private final String source;
    /** The answer to write; null when it could not be built, then what the events came to is written instead. */
    private Encoded answer;
    /** What the events came to, made as the answer is: written in its place; null when not even it could be made. */
    private Encoded counts;
    /** The answer's bytes in the budget, given back once it is written; null for none. */
    private Uploads.Held charged;

    private IngestReply(Answer made, Uploads uploads, String source) {
        this.made = made;
        this.uploads = uploads;
        this.source = source;
    }

    /** A request answered without its events being queued. */
    static IngestReply of(Answer made) {
        return new IngestReply(made, null, null);
    }

    /**
     * The reply to a request whose events are to be queued, made before they are: made after, a throw for want of
     * memory was answered 500 "internal error" with the events taken.
     */
    static IngestReply toEvents(Uploads uploads, String source) {
        return new IngestReply(null, uploads, source);
    }

    /**
     * The answer to {@code request}, whose events were queued and are settled (or were waited for long enough), built
     * and counted in the byte budget; or compact, or the counts, when it does not fit. And the counts to send in its
     * place, should it not be made or written; the request is not kept. Never throws: what does is logged, and the
     * counts are sent instead — or, when not even they were made, that the events may have been handled.
     */
    void build(IngestRequest request, boolean batch, boolean closing, Duration responseTimeout) {
        try {
            var built = IngestAnswers.encoded(request, closing, responseTimeout);
            // its buffer, not its length: the buffer grows by doubling, and charged the length an answer held up to
            // twice what it took from the budget
            // one that costs no more than its compact one takes the room kept for that: sent compact in its place, it
            // lost its reasons for nothing
            int kib = built.bytes().length / 1024;
            charged = kib <= IngestAnswers.compactBytes(request.items.length) / 1024
                    ? uploads.answeringCompact(built.bytes().length) : uploads.answering(built.bytes().length);
            if (charged == null) {
                int length = built.length();
                built = null; // let go of before the compact one is built: both at once are what the budget bounds
                built = fitted(request, closing, length);
            }
            answer = built;
            if (!batch && answer.status() != 200) {
                LOG.debug("HTTP source '{}': answered {}", source, answer.status());
            }
        } catch (Throwable t) {
            failed(t, "its status and counts are sent"); // answer is set last: set, the log threw, and it is sent
        }
        try {
            counts = IngestAnswers.counts(request, closing, IngestAnswers.NOT_MADE);
        } catch (Throwable t) {
            failed(t, "should its answer not be written, a 500 says they may have been handled");
        }
    }

    /**
     * The answer in place of one of {@code fullLength} bytes, which did not fit in the byte budget: compact, or its
     * counts. Either says which events may have run, as the whole one does: a slow handler's events, unsettled at the
     * response timeout, hold the budget, so it is full just when the answer would tell them "may still be handled".
     */
    private Encoded fitted(IngestRequest request, boolean closing, int fullLength) {
        var compact = IngestAnswers.compact(request, closing, fullLength);
        // the least budget holds it beside a body at the limit; whole answers leave it room in their share
        charged = uploads.answeringCompact(compact.bytes().length);
        // not charged: the counts are 300 bytes at most, taken into the socket's buffer at once, however slow a client
        return charged != null ? compact : IngestAnswers.counts(request, closing, IngestAnswers.NO_ROOM);
    }

    /**
     * Writes the reply, running {@code eachChunk} before each part; its bytes given back to the budget whatever
     * happens. Throws IOException when the client is gone (or when nothing at all could be written).
     */
    void send(HttpExchange ex, Runnable eachChunk) throws IOException {
        if (made != null) {
            respond(ex, made.status(), made.headers(), made.json(), eachChunk);
            return;
        }
        try {
            if (answer != null) {
                try {
                    respond(ex, answer, eachChunk);
                    return;
                } catch (IOException | UncheckedIOException gone) {
                    throw gone;
                } catch (Throwable t) {
                    answer = null; // let go of: the counts are written instead
                    failed(t, "its status and counts are sent");
                }
            }
            sendCounts(ex, eachChunk);
        } finally {
            if (charged != null) {
                charged.release();
            }
        }
    }

    /**
     * What the events came to, in place of the answer that could not be made or sent; failing that (or when not even
     * they were made, or the reply never built), the 500 that says they may have been handled.
     */
    private void sendCounts(HttpExchange ex, Runnable eachChunk) throws IOException {
        try {
            if (counts != null) {
                respond(ex, counts, eachChunk);
                return;
            }
        } catch (IOException | UncheckedIOException gone) {
            throw gone;
        } catch (Throwable t) {
            failed(t, "answered 500: they may have been handled");
        }
        try {
            respond(ex, IngestAnswers.MAY_HAVE_BEEN_HANDLED, eachChunk);
        } catch (IOException | UncheckedIOException gone) {
            throw gone;
        } catch (Throwable unsaid) {
            // thrown on, the endpoint answered 500 "internal error": the connection closes unanswered instead
            throw new IOException("the answer to a request whose events were queued could not be written", unsaid);
        }
    }

    /**
     * The request's events were queued in part, then a throw (no memory): logged, not thrown on. A poller may have run
     * those queued before the request was given up; thrown on, the 500 "internal error" had them sent again, and each
     * ran twice. {@link #build} answers what came of each instead, those never queued "retry" (they did not run).
     */
    void queuedInPart(Throwable t) {
        try {
            LOG.warn("HTTP source '{}': a request's events were queued in part ({}); the rest are answered retry", source,
                    String.valueOf(t));
        } catch (Throwable unsaid) { // no memory even for that: the answer goes on
        }
    }

    private void failed(Throwable t, String then) {
        try {
            LOG.warn("HTTP source '{}': the answer to a request whose events were queued failed ({}); {}", source,
                    String.valueOf(t), then);
        } catch (Throwable unsaid) { // no memory even for that: the answer goes on
        }
    }
}
