package dev.ferry.adapters.http;

import static dev.ferry.adapters.http.IngestAnswers.DRAIN_LIMIT;
import static dev.ferry.adapters.http.IngestAnswers.RETRY_AND_CLOSE;
import static dev.ferry.adapters.http.IngestAnswers.drain;
import static dev.ferry.adapters.http.IngestAnswers.error;
import static dev.ferry.adapters.http.IngestAnswers.parseLong;
import static dev.ferry.adapters.http.IngestAnswers.readBounded;
import static dev.ferry.adapters.http.IngestAnswers.respond;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.adapters.http.IngestAnswers.Answer;
import dev.ferry.adapters.http.IngestRequest.Item;
import dev.ferry.domain.transport.Disposition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of an {@link HttpSource}: checks each request (path, method, credentials, size,
 * signature), reads its body within the read deadline, splits it into events, queues them for the
 * listener's pollers and answers once they are settled (or the response timeout passed).
 * Thread-safe; one call of {@link #exchange} per request, on the server's threads.
 */
final class IngestEndpoint {

    private static final Logger LOG = LoggerFactory.getLogger(HttpSource.class);

    /** What the endpoint needs from its source's settings. */
    record Settings(String name, String path, IngestAuth auth, int maxBodyBytes, int maxEventsPerRequest,
                    Duration responseTimeout, Duration readTimeout, Duration signatureWindow, Clock clock,
                    int maxConcurrentRequests, int maxUploads, int maxRememberedSignatures, long maxUploadBytes) {
    }

    private final String name;
    private final String path;
    private final IngestAuth auth;
    private final int maxBodyBytes;
    private final int maxEventsPerRequest;
    private final Duration responseTimeout;
    private final Duration readTimeout;
    private final Clock clock;
    private final Semaphore capacity;
    /** The events the endpoint holds at most (all of {@link #capacity}'s permits). */
    private final int capacityTotal;
    private final Admission admission;
    private final Semaphore requests;
    private final Uploads uploads;
    private final IngestSignatures signatures;
    /** Requests refused before the listener saw them. */
    final HttpRefusals refusals;
    final UnheardDeadLetters unheard = new UnheardDeadLetters(); // noted as the Handout settles, told to their resends
    private final BlockingQueue<Item> ready;
    private final AtomicInteger openRequests = new AtomicInteger();
    private volatile boolean closing;
    private volatile ReadDeadlines deadlines;
    /** The bodies' bytes held by events not yet settled: given back at the source's close ({@link #giveBackHeld}). */
    private final HeldByEvents heldByEvents;

    /** Events go to {@code ready}; each takes a permit of {@code capacity}, given back when it is settled. */
    IngestEndpoint(Settings s, BlockingQueue<Item> ready, Semaphore capacity) {
        this(s, ready, capacity, new HeldByEvents());
    }

    /** With the events' holds of a test's (one whose set throws). */
    IngestEndpoint(Settings s, BlockingQueue<Item> ready, Semaphore capacity, HeldByEvents heldByEvents) {
        this.name = s.name();
        this.path = s.path();
        this.auth = s.auth();
        this.maxBodyBytes = s.maxBodyBytes();
        this.maxEventsPerRequest = s.maxEventsPerRequest();
        this.responseTimeout = s.responseTimeout();
        this.readTimeout = s.readTimeout();
        this.clock = s.clock();
        this.requests = new Semaphore(s.maxConcurrentRequests());
        this.ready = ready;
        this.capacity = capacity;
        this.capacityTotal = capacity.availablePermits();
        this.uploads = new Uploads(s.maxUploads(), s.maxUploadBytes(), s.maxBodyBytes(), Math.min(maxEventsPerRequest, capacityTotal));
        this.signatures = new IngestSignatures(s.path(), s.clock(), s.signatureWindow(), s.maxRememberedSignatures());
        this.admission = new Admission(capacity);
        this.refusals = new HttpRefusals(s.name());
        this.heldByEvents = heldByEvents;
    }

    /** The read deadlines of the server the endpoint is served by; set before the first request. */
    void deadlines(ReadDeadlines deadlines) {
        this.deadlines = deadlines;
    }

    /** From now on requests are answered 503. */
    void closing() {
        closing = true;
    }

    /**
     * At the source's close: the bytes of events handed out and never settled (a stop that did not end, a delivery its
     * handler kept) given back — the default budget is shared by the process's HTTP sources, and what a closed source
     * kept was lost to every other one until a restart.
     */
    void giveBackHeld() {
        heldByEvents.giveBackAll();
    }

    /** Takes requests in again after {@link #closing} (not after the source's close, which never comes back). */
    void open() {
        closing = false;
    }

    boolean isClosing() {
        return closing;
    }

    /** Requests being read or handled now. */
    int openRequests() {
        return openRequests.get();
    }

    /** Requests whose body is being read right now (at most {@code maxUploads}). */
    int uploading() {
        return uploads.reading();
    }

    /** Signatures remembered to refuse their replay. */
    int rememberedSignatures() {
        return signatures.remembered();
    }

    void exchange(HttpExchange ex) throws IOException {
        var deadline = deadlines.current();
        openRequests.incrementAndGet();
        try {
            if (!deadline.attach(ex, refusals)) { // from now a late body is answered 408 by the deadline, and counted
                late(deadline);
            }
            handle(ex, deadline);
            ex.close();
        } catch (AbandonedRequest e) {
            LOG.debug("HTTP source '{}': {}", name, e.getMessage());
            throw e; // the server closes the connection without reading the rest of the request
        } catch (IOException e) {
            LOG.debug("HTTP source '{}': client went away: {}", name, e.getMessage());
            throw e;
        } catch (UncheckedIOException e) {
            LOG.debug("HTTP source '{}': client went away: {}", name, e.getMessage());
            throw e.getCause();
        } catch (RuntimeException | Error e) { // an Error too: unanswered, the JDK's server would leave the client hanging
            LOG.warn("HTTP source '" + name + "': request failed", e);
            try {
                if (deadline.answering()) {
                    respond(ex, 500, Map.of(), error("internal error: " + e.getClass().getSimpleName()));
                }
            } catch (IOException ignored) {
                // the client is gone too
            }
            ex.close();
        } finally {
            openRequests.decrementAndGet();
        }
    }

    private void handle(HttpExchange ex, ReadDeadlines.Deadline deadline) throws IOException {
        if (closing) { // read first as other refusals are: answered unread past 64 KiB, the client met a reset, not the 503
            refuseUnread(ex, deadline, 503, RETRY_AND_CLOSE, "shutting down");
            return;
        }
        if (!ex.getRequestURI().getPath().equals(path)) {
            refuseUnread(ex, deadline, 404, Map.of(), "no such path; events go to " + path);
            return;
        }
        if (!ex.getRequestMethod().equals("POST")) {
            refuseUnread(ex, deadline, 405, Map.of("Allow", "POST"), "method " + ex.getRequestMethod() + " not allowed; POST events");
            return;
        }
        var refusal = IngestHeaders.check(ex.getRequestHeaders(), auth);
        if (refusal != null) {
            refuseUnread(ex, deadline, refusal.status(), refusal.headers(), refusal.reason());
            return;
        }
        IngestSignatures.Signed signed = null;
        if (auth instanceof IngestAuth.HmacSha256 hmac) {
            String badSignature = null;
            try {
                signed = signatures.headers(ex, hmac);
            } catch (IllegalArgumentException e) {
                badSignature = e.getMessage();
            }
            if (badSignature != null) {
                refuseUnread(ex, deadline, 401, Map.of(), badSignature);
                return;
            }
        }
        // the body is read before a processing permit is taken, within the uploads' bounds (see Uploads) and readTimeout:
        // a slow client holds no permit. A body refused for its size is drained under the same bounds. Its bytes stay
        // counted until its answer is made: given back once read, the bodies waiting for their answer (up to
        // responseTimeout) were held outside any bound — 256 of 8 MiB are 2 GiB, on every instance behind the balancer
        long declared = ex.getRequestHeaders().getFirst("Content-Length") == null ? -1
                : parseLong(ex.getRequestHeaders().getFirst("Content-Length"));
        Runnable writing = deadline::writing; // made before anything is taken or queued: after, its throw was a bare 500
        int upload = uploads.take(declared);
        if (upload < 0) { // not drained: a slow sender would hold a thread the bounds are there to keep (past 64 KiB, a reset)
            refuse(ex, deadline, 503, RETRY_AND_CLOSE, (upload == Uploads.TOO_MANY ? "too many requests being received at "
                    + "once (" + uploads.maxUploads() + ")" : "too many bytes being received at once") + "; try again shortly");
            return;
        }
        Uploads.Held held = null; // what the body takes once read, until its answer is made and its events are settled
        byte[] body;
        try {
            if (declared > maxBodyBytes) {
                // read (and drop) what the client is sending, within the read deadline, so it can read its 413:
                // answering while it still sends makes the server close on unread bytes and the answer is lost
                drain(ex.getRequestBody(), declared);
                refuse(ex, deadline, 413, Map.of(), "body of " + declared + " bytes is over the limit of " + maxBodyBytes);
                return;
            }
            body = readBounded(ex.getRequestBody(), maxBodyBytes);
            if (body == null) {
                drain(ex.getRequestBody(), DRAIN_LIMIT);
                refuse(ex, deadline, 413, Map.of(), "body is over the limit of " + maxBodyBytes + " bytes");
                return;
            }
            held = uploads.read(upload, body.length);
        } catch (IOException e) {
            if (deadline.late()) {
                late(deadline);
            }
            throw e;
        } catch (IndexOutOfBoundsException badChunk) {
            // the JDK's chunked reader takes a chunk size of 2^31 or more for a negative one (and throws this): a
            // malformed request, answered 400 with the connection closed, as nothing after it can be trusted
            refusal(400, Map.of("Connection", "close"), "malformed chunked body: a chunk size over 2 GB")
                    .send(ex, () -> { });
            throw new AbandonedRequest("malformed chunked body");
        } finally {
            if (held == null) {
                uploads.release(upload); // not read to its end: refused for its size, malformed, late, or its client gone
            }
        }
        IngestReply reply;
        try {
            reply = handleBody(ex, deadline, signed, body, held);
            body = null; // the answer is written without it, nor its events' payloads (IngestReply lets go of them)
        } finally {
            // let go of before the answer is written: a slow reader of a big one kept its body counted for minutes, five
            // of them most of the budget, and uploads were answered 503. Its events hold on until settled (HeldByEvents)
            held.release();
        }
        reply.send(ex, writing); // an answer to queued events held in the byte budget until written, never a bare 500
    }

    /** A request whose body is read: its signature checked, its events handed over; its answer, to write once let go of. */
    private IngestReply handleBody(HttpExchange ex, ReadDeadlines.Deadline deadline, IngestSignatures.Signed signed,
                                   byte[] body, Uploads.Held held) throws IOException {
        if (!deadline.done()) {
            late(deadline);
        }
        if (auth instanceof IngestAuth.HmacSha256 hmac && signed != null) {
            var refusal = signatures.refusal(ex, hmac, signed, body);
            if (refusal != null) {
                refusals.count(refusal.status(), "signature refused");
                return IngestReply.of(refusal);
            }
        }
        Runnable notTaken = () -> signatures.forget(signed); // refused with nothing taken: the same bytes may come again
        var split = JsonItems.split(body, maxEventsPerRequest);
        if (split instanceof JsonItems.Split.Invalid invalid) {
            notTaken.run();
            return refusal(400, Map.of(), invalid.reason());
        }
        var items = (JsonItems.Split.Items) split;
        String[] dedups;
        try {
            dedups = BatchItemIds.ofRequest(IngestRequest.present(ex.getRequestHeaders().getFirst("Idempotency-Key")),
                    signed == null ? null : signed.mac(), items);
        } catch (IllegalArgumentException identical) {
            notTaken.run();
            return refusal(400, Map.of(), identical.getMessage());
        }
        if (!requests.tryAcquire()) {
            notTaken.run();
            return refusal(429, Map.of("Retry-After", "1"), "too many requests at once");
        }
        try {
            var told = unheard.answer(dedups, items); // null but for a resend of a dead letter its request never heard
            return told != null ? IngestReply.of(told) : handOver(ex, items, dedups, held, notTaken);
        } finally {
            requests.release();
        }
    }

    /**
     * Refuses a request whose body is not read yet (a wrong path, method or credential): its body is dropped first, up to
     * the body limit within the read deadline, as a 413's is — answered while the client still sent, the server closed on
     * unread bytes past 64 KiB: a reset, not why (a rotated token's batches retried as a network failure, for ever).
     */
    private void refuseUnread(HttpExchange ex, ReadDeadlines.Deadline deadline, int status, Map<String, String> headers,
                              String reason) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        long declared = length == null ? maxBodyBytes : parseLong(length);
        if (declared > 0) {
            drain(ex.getRequestBody(), Math.min(declared, maxBodyBytes));
        }
        refuse(ex, deadline, status, headers, reason);
    }

    private void refuse(HttpExchange ex, ReadDeadlines.Deadline deadline, int status, Map<String, String> headers,
                        String reason) throws IOException {
        if (!deadline.answering()) {
            late(deadline);
        }
        refusal(status, headers, reason).send(ex, () -> { });
    }

    /** A refusal, counted ({@link HttpRefusals}), to be answered. */
    private IngestReply refusal(int status, Map<String, String> headers, String reason) {
        refusals.count(status, reason);
        return IngestReply.of(new Answer(status, headers, error(reason)));
    }

    /** Not read within readTimeout: its 408 sent (or given up) and counted by the deadline, its connection closed. */
    private void late(ReadDeadlines.Deadline deadline) throws AbandonedRequest {
        deadline.awaitLateAnswer();
        throw new AbandonedRequest("request not read within " + readTimeout.toMillis() + " ms: answered 408, connection closed");
    }

    private IngestReply handOver(HttpExchange ex, JsonItems.Split.Items split, String[] dedups, Uploads.Held held,
                                 Runnable notTaken) {
        int n = split.items().size();
        if (n > capacityTotal) {
            notTaken.run();
            refusals.count(413, "a batch of " + n + " events, more than the endpoint holds at once");
            return IngestReply.of(new Answer(413, Map.of(), error("a batch of " + n + " events is more than the endpoint "
                    + "holds at once (" + capacityTotal + "): send at most " + capacityTotal + " per request")));
        }
        if (!admission.take(n)) {
            notTaken.run();
            refusals.count(429, "back-pressure");
            return IngestReply.of(new Answer(429, Map.of("Retry-After", "1"), error("back-pressure: " + n
                    + " event(s) do not fit; try again shortly")));
        }
        IngestRequest request;
        IngestReply reply;
        try {
            reply = IngestReply.toEvents(uploads, name); // before the events are queued: after, its throw was a 500
            request = IngestRequest.of(ex, split, dedups, path, name, clock.instant());
            heldByEvents.hold(request, held); // the events hold the body's bytes until they are settled, answered or not
        } catch (RuntimeException | Error e) { // nothing queued: the permits were held for ever, every request 429
            capacity.release(n); // until a restart (a throw in hold lets go of the bytes there)
            notTaken.run(); // answered 500, nothing taken: a resend of the same signed bytes is no replay
            throw e;
        }
        enqueue(request, reply, notTaken);
        request.awaitSettled(responseTimeout);
        reply.build(request, split.batch(), closing, responseTimeout); // never throws: its events are taken
        return reply;
    }

    /**
     * Queues the request's events. A throw before any is queued goes on (answered 500, nothing taken); after, a poller
     * may have run one, and a 500 read as "not handled" ran it twice: the answer says what came of each instead.
     */
    private void enqueue(IngestRequest request, IngestReply reply, Runnable notTaken) {
        try {
            request.queue(ready, capacity);
        } catch (Throwable t) {
            if (!request.anyQueued()) {
                notTaken.run(); // its signature kept, the client's resend of the same bytes was refused 401 "replayed"
                throw t;
            }
            reply.queuedInPart(t);
        }
        if (closing) {
            // the stop emptied the queue before these came (their body was still arriving): nobody polls any more,
            // and waiting for the response timeout would hold the stop and the client for it
            releaseUnpolled();
        }
    }

    /**
     * Gives back every event nobody polled (at the stop, and for requests that come after it):
     * answered as released, their capacity freed. Each once, whoever gets to it first.
     */
    void releaseUnpolled() {
        Item item;
        while ((item = ready.poll()) != null) {
            if (item.request.ordered) {
                item.request.releaseRest(capacity);
            } else {
                item.settle(Disposition.RELEASE, capacity);
            }
        }
    }
}
