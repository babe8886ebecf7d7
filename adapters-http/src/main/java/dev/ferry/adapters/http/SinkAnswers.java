package dev.ferry.adapters.http;

import dev.ferry.domain.handle.Outcome;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an {@link HttpSink}'s answer becomes: 2xx done; 429 throttled for its {@code Retry-After};
 * a redirect never followed: 303 done (the request was taken), 302/307 and 401/403 a credential
 * problem (counted, logged at most once a minute, retried or rejected as configured), any other
 * rejected; 503 with {@code Retry-After} retried then; 408 and 5xx worth another attempt in process;
 * 409 retried, and waited out with the outage after an attempt of the event went unanswered; any other
 * 4xx rejected. A call that failed (timeout, refused connection, anything thrown) is worth another
 * attempt. Thread-safe.
 */
final class SinkAnswers {

    private static final Logger LOG = LoggerFactory.getLogger(HttpSink.class);
    /** At most one log line per this long about refused credentials: a rotated token fails every event. */
    private static final long AUTH_LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final String name;
    private final Duration timeout;
    private final Clock clock;
    private final Duration defaultThrottle;
    private final HttpSink.AuthFailures onAuthFailure;
    private final AtomicLong authFailures = new AtomicLong();
    private final AtomicLong nextAuthLog = new AtomicLong(System.nanoTime());

    /** What the JDK's HTTP/2 client says when a connection's concurrent streams are at the server's limit. */
    static final String STREAMS_FULL = "too many concurrent streams";
    static final Duration STREAMS_FULL_WAIT = Duration.ofMillis(200);

    private static boolean streamsFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.io.IOException && STREAMS_FULL.equals(dev.ferry.domain.model.Thrown.message(t))) {
                return true;
            }
        }
        return false;
    }

    /** How long an outage's event is put back before it is asked again. */
    static final Duration OUTAGE_WAIT = Duration.ofSeconds(5);

    /** Timed per receiver: another's outage does not cut this one's patience short. */
    private final ReceiverOutages outages;
    private final Duration outagePatience;
    /** Since when (nanoTime) every attempt found the connection's streams full, nothing sent; 0 while one was sent. */
    private final AtomicLong streamsFullSince = new AtomicLong();
    /** When (nanoTime) an attempt last found them full: none for {@link #STREAMS_FULL_GAP}, the next is a new spell. */
    private final AtomicLong streamsFullLast = new AtomicLong();
    private static final long STREAMS_FULL_GAP = TimeUnit.SECONDS.toNanos(5);
    /**
     * Streams full are an outage only past the outage patience and at least this: {@code outage-patience: 0s} spends an
     * outage's attempts at once, and took the client's own back-pressure for one (a test's, shorter).
     */
    static volatile Duration streamsFullAtLeast = Duration.ofSeconds(30);
    /** The events an attempt of went unanswered: a 409 for one of them is the endpoint still at work on it. */
    private final UnansweredKeys unanswered;

    SinkAnswers(String name, Duration timeout, Clock clock, Duration defaultThrottle, HttpSink.AuthFailures onAuthFailure,
                Duration outagePatience) {
        this.outages = new ReceiverOutages(outagePatience);
        this.outagePatience = outagePatience;
        this.unanswered = new UnansweredKeys(outagePatience);
        this.name = name;
        this.timeout = timeout;
        this.clock = clock;
        this.defaultThrottle = defaultThrottle;
        this.onAuthFailure = onAuthFailure;
    }

    /**
     * {@link #afterOutage(String, String, Attempt, Outcome)} of the event {@code key} to {@code target}, its outage
     * timed at its {@code receiver} ({@link UrlTemplate#receiver}): one receiver down past the patience made the same
     * key's first failure at another {@code Retry} at once — and any key's, had nothing worked anywhere in between.
     * An answer with nothing unanswered or failed to end builds neither (a {@code {key}} url filled in again).
     */
    Outcome afterOutage(URI target, Supplier<String> receiver, String key, Attempt last, Outcome outcome) {
        if ((outcome instanceof Outcome.Done || outcome instanceof Outcome.Reject) && last != null
                && !(last instanceof Attempt.NotSent) && !unanswered.any() && !outages.any()) {
            streamsFullSince.set(0);
            return outcome;
        }
        return afterOutage(receiver.get(), UnansweredKeys.at(target, key), last, outcome);
    }

    /**
     * Notes each attempt of the event {@code key} to {@code target} as it is made, remembered at that target (a url of
     * {@code {attr.partner}} sends two sources' events of one key to two receivers, and one's 2xx ended the other's
     * request left unanswered — its 409s, the endpoint still at work on it, spent its attempts): one that went
     * unanswered makes a later 409 "still at work". The key at its target is built only then.
     */
    Attempt heard(URI target, String key, Attempt attempt) {
        // only an attempt that may have reached the endpoint without an answer: a 401, a login redirect or a 503 with
        // Retry-After was answered, nothing taken, and a 409 after it is a conflict (waited out, it held the group).
        // A gateway's 504 or 524 with Retry-After was not: taken for answered, its 409s spent the event's attempts
        // (and one interrupted while its request was under way: it may have reached the endpoint, which may be at it still)
        if (attempt.unreachable() && attempt.reached() || attempt instanceof Attempt.Interrupted) {
            unanswered.add(UnansweredKeys.at(target, key));
        }
        return attempt;
    }

    /**
     * What a publish of {@code key} — the event at its target ({@link UnansweredKeys#at}) — answers after its
     * {@code last} attempt: an outage's {@code Retry} is {@code Throttled} while the outage lasts less than its
     * patience (no attempt spent: a redeploy or a rotated credential of a minute dead-lettered a quiet route's
     * events within seconds), else as it was. A 409 after an attempt of the event went unanswered (in this
     * publish or an earlier one) is part of that outage: waited out with it, and not its end. The outage is
     * {@code receiver}'s, its run of failures its own ({@link ReceiverOutages}).
     */
    Outcome afterOutage(String receiver, String key, Attempt last, Outcome outcome) {
        if (last instanceof Attempt.NotSent) {
            return streamsFull(receiver, key, outcome);
        }
        if (last == null || last instanceof Attempt.Interrupted) {
            return outcome; // no answer to go by (interrupted): neither an outage nor its end
        }
        streamsFullSince.set(0); // a request went out, or a connection was tried: the streams are not full
        if (outcome instanceof Outcome.Retry retry && last.unreachable()) {
            // a maintenance window announced (503 with Retry-After) is waited out for as long as it said
            var waited = outages.failed(receiver, key, retry.reason(),
                    retry.after().isZero() ? OUTAGE_WAIT : retry.after());
            return waited instanceof Outcome.Retry past && !retry.after().isZero()
                    ? Outcome.retryAfter(retry.after(), past.reason()) : waited; // past the patience: still not before it said
        }
        if (outcome instanceof Outcome.Retry retry && last instanceof Attempt.Busy && unanswered.contains(key)) {
            // "key in use" once a request of the event went unanswered: the endpoint is still at work on that request
            // (an endpoint that takes 40 s for one event, a timeout of 10 s), which may well succeed. Each 409 spending
            // an attempt, the event was dead-lettered though delivered (parked its group under on-poison park; under
            // skip, the group's next event went ahead of it). Waited out as the outage, whose timing it does not end
            return outages.failed(receiver, key, retry.reason(), OUTAGE_WAIT);
        }
        if (outcome instanceof Outcome.Done || outcome instanceof Outcome.Reject) {
            // the event's own answer: its request that went unanswered is over. A 429 or a 5xx says nothing of it (a
            // gateway limits the rate just as the endpoint behind it runs slow): its 409s after that spent attempts
            unanswered.remove(key);
        }
        outages.worked(receiver, key);
        return outcome;
    }

    /**
     * The connection's streams full: back-pressure, a short throttle — until nothing has been sent for the outage
     * patience. Without a bound, a server allowing no streams (RFC 9113 allows 0), or streams the client never gave
     * back, held every event in a throttle for ever, reported nowhere: then it is an outage, said, and its events'
     * attempts are spent after their own patience.
     */
    private Outcome streamsFull(String receiver, String key, Outcome outcome) {
        long now = System.nanoTime() | 1;
        long last = streamsFullLast.getAndSet(now);
        if (last == 0 || now - last > STREAMS_FULL_GAP) {
            streamsFullSince.set(now); // none for a while (the sink idle, the event gone elsewhere): a new spell
        } else {
            streamsFullSince.compareAndSet(0, now);
        }
        // and twice the request timeout: a request on the connection answers or times out within it, and ends the spell
        // (an endpoint taking 40 s a request, its streams all busy with live ones, is not "nothing sent")
        long bound = Math.max(Math.max(outagePatience.toNanos(), streamsFullAtLeast.toNanos()), 2 * timeout.toNanos());
        if (now - streamsFullSince.get() < bound) {
            return outcome;
        }
        return outages.failed(receiver, key, name + ": nothing sent for "
                + dev.ferry.domain.model.Durations.text(Duration.ofNanos(bound))
                + " or more: the HTTP/2 connection's concurrent streams stay full", OUTAGE_WAIT);
    }

    /**
     * What holds the sink back: its open breaker, else the outage under way while an event waits on it. In
     * {@code brief}, the outage's reason up to how the call failed ({@link #brief}).
     */
    java.util.Optional<String> holdingBack(boolean breakerOpen, boolean brief) {
        if (breakerOpen) {
            return java.util.Optional.of("circuit breaker open: calls to " + name + " are held back after failures in a row");
        }
        return brief ? outages.holdingBack().map(SinkAnswers::brief) : outages.holdingBack();
    }

    /** A reason's method, redacted target and how the call failed: its status, a timeout, a refusal, what was thrown. */
    private static final Pattern BRIEF = Pattern.compile(
            "[A-Z]+ \\S+(?: answered HTTP \\d{3}|: no (?:answer|connection) within \\S+|: connection refused"
            + "|: host name did not resolve|: could not connect: [A-Za-z][A-Za-z0-9_$]*|: [A-Za-z][A-Za-z0-9_$]*)");

    /**
     * {@code reason} without what the endpoint sent — an error body may echo a credential or the payload's fields,
     * a JDK message may quote a status line — for what anyone may read (health): {@code POST https://host/…
     * answered HTTP 503}, {@code POST https://host/…: connection refused}, {@code …: could not connect:
     * NoRouteToHostException}. A reason of another form is not shown.
     */
    static String brief(String reason) {
        var m = BRIEF.matcher(reason);
        return m.lookingAt() ? m.group() : "calls failing (the console and the log say how)";
    }

    /** Answers 401 or 403, or a temporary redirect taken for a login page (302, 307, a 303 elsewhere), so far. */
    long authFailures() {
        return authFailures.get();
    }

    Attempt failed(String where, URI target, Throwable e) {
        if (e instanceof java.net.http.HttpConnectTimeoutException) { // nothing sent: a 409 after it is no earlier request's
            return new Attempt.Transient(Outcome.retry(where + ": no connection within "
                    + SinkRequests.connectTimeout(SinkRequests.CONNECT_TIMEOUT, timeout)), true, false);
        }
        if (e instanceof HttpTimeoutException) {
            return new Attempt.Transient(Outcome.retry(where + ": no answer within " + timeout), true);
        }
        if (e instanceof ConnectException) { // no connection, nothing sent: a 409 after it is no earlier request's
            return new Attempt.Transient(Outcome.retry(where + ": " + NoConnection.why(e, target)), true, false);
        }
        if (e instanceof javax.net.ssl.SSLHandshakeException) { // no request sent: a 409 after it is no earlier request's
            return new Attempt.Transient(Outcome.retry(where + ": TLS handshake failed: "
                    + dev.ferry.domain.model.Thrown.message(e)), true, false);
        }
        // the JDK's messages do not quote the URL today; should one ever, it is redacted too
        String text = dev.ferry.domain.model.Thrown.message(e); // a plugin HttpClient's may throw
        if (streamsFull(e)) {
            // HTTP/2: this client's streams on the one connection reached the server's limit (128 on common proxies, below
            // max-concurrent), nothing sent. Taken for an outage, a healthy endpoint was reported down and its breaker
            // opened: the client's own back-pressure, waited out as a throttle
            return new Attempt.NotSent(Outcome.throttled(STREAMS_FULL_WAIT));
        }
        String message = text == null ? "" : " " + text.replace(target.toString(), Redact.url(target));
        return new Attempt.Transient(Outcome.retry(where + ": " + e.getClass().getSimpleName() + message), true);
    }

    Attempt outcome(String where, URI target, HttpResponse<byte[]> response, int attemptNumber) {
        int status = response.statusCode();
        if (status / 100 == 2) {
            return new Attempt.Final(Outcome.done());
        }
        if (status == 429) {
            return new Attempt.Final(Outcome.throttled(RetryAfter.parse(response.headers().firstValue("Retry-After")
                    .orElse(null), response.headers().firstValue("Date").orElse(null), clock, defaultThrottle)));
        }
        if (status / 100 == 3) {
            return redirect(where, target, status, response.headers().firstValue("Location"));
        }
        if (status == 401 || status == 403) {
            return authFailure(where + " answered HTTP " + status + ": a credential problem (credentials refused: rotated,"
                    + " expired or wrong?)" + Attempt.bodySnippet(response.body(), response.request()));
        }
        String reason = where + " answered HTTP " + status + Attempt.bodySnippet(response.body(), response.request());
        var retryAfter = response.headers().firstValue("Retry-After");
        if ((status == 413 || status == 503 || gateway(status)) && retryAfter.isPresent()) {
            // the endpoint said when it will be back (maintenance): not asked again in 100 ms, and the attempts
            // left are not spent before then. A 413 with a Retry-After says the condition is temporary (RFC 9110: a
            // server shedding large bodies under load): dead-lettered at once before, as a body it would never take.
            // A gateway's that says so too (a 504 with Retry-After: 60): asked three times every 5 s before. Not a 500,
            // which may be this event's doing (a last look): taken as an outage, it held its group for the patience.
            // A gateway that gave up on the endpoint (a 504, a 524) may have left it at work on the request: reached.
            // A 503 (maintenance) and a 413 took nothing, nor did a CDN's that got no connection (a 521)
            boolean reached = gateway(status) && status != 503 && !cdnNeverReached(status);
            var after = RetryAfter.parse(retryAfter.get(), response.headers().firstValue("Date").orElse(null), clock,
                    defaultThrottle);
            return new Attempt.Final(Outcome.retryAfter(after, reason), true, reached);
        }
        if (status == 408 || status == 421 || status == 425 || status / 100 == 5) {
            // a gateway's or an overloaded endpoint's answer is an outage; a 500 may be this event's doing. 421 (a
            // pooled connection to a host that no longer serves the name, after DNS or a load balancer moved) and 425
            // (too early) ask to be sent again: rejected, every event on that connection was dead-lettered
            return new Attempt.Transient(Outcome.retry(reason), gateway(status), !cdnNeverReached(status));
        }
        if (status == 409) {
            // with the same Idempotency-Key: "that key is in use" — an earlier request (an attempt of this publish whose
            // answer was lost, or of an earlier publish of the event that timed out, or of the instance that crashed)
            // may still be under way, and may well succeed. Not this event's fault: tried again later, and a real
            // conflict still ends at max-attempts
            return new Attempt.Busy(Outcome.retry(reason + " (the endpoint may still be working on an earlier attempt "
                    + "with this Idempotency-Key)"));
        }
        return new Attempt.Final(Outcome.reject(reason));
    }

    /**
     * A gateway's answer that it could not reach the endpoint or had no answer from it: 502 to 504, and the 52x of a CDN in
     * front of it (Cloudflare's 520 to 527 and 530: down, refused, timed out, no TLS) — each a 500 before, an outage of a
     * minute behind a CDN spent the event's attempts in seconds, and a 524 (taken, no answer in time) was not unanswered.
     */
    static boolean gateway(int status) {
        return status >= 502 && status <= 504 || status >= 520 && status <= 527 || status == 530;
    }

    /**
     * A CDN's answer that it got no connection to the endpoint (521 down, 522 and 523 unreachable, 525 and 526 no TLS, 530):
     * nothing reached it, so a 409 after it is no request still at work (a real conflict held for the whole patience).
     */
    static boolean cdnNeverReached(int status) {
        return status == 521 || status == 522 || status == 523 || status == 525 || status == 526 || status == 530;
    }

    /**
     * #16: a redirect is never followed: the client would send the request again elsewhere, a 301, 302 or
     * 303 as a GET without its body, whose 200 marked done an event that never arrived; and the payload
     * and the token go only where they were configured to. What it means decides what the event becomes.
     */
    private Attempt redirect(String where, URI target, int status, java.util.Optional<String> header) {
        String location = header.map(l -> Attempt.location(target, l)).orElse("no Location");
        if (status == 303 && header.map(l -> sameOrigin(target, l)).orElse(true)) {
            // RFC 9110 15.4.4: the endpoint took the request and points at its result (post/redirect/get). Rejected,
            // the event went to the DLQ, a redrive sent it again (a duplicate), and parked it held its group back
            LOG.atDebug().setMessage(() -> "HTTP sink '" + name + "': " + where + " answered HTTP 303 (see other: "
                    + location + "): taken, the result is not fetched").log();
            return new Attempt.Final(Outcome.done());
        }
        if ((status == 302 || status == 307) && header.map(l -> sameOrigin(target, l)).orElse(true)) {
            // on the endpoint's own host: a framework's post/redirect/get (Rails, Django, Spring and Express answer 302 by
            // default) — the request was taken — or an app's own login page: which cannot be told. Handled as a lapsed
            // credential, the POST was sent again every few seconds for the whole outage patience; rejected, it is sent
            // once and its reason says what to change (answer 201 or 303)
            // a 307 asks for the same request there (RFC 9110 15.4.8): not taken — a framework's trailing-slash redirect
            return new Attempt.Final(Outcome.reject(status == 307
                    ? where + " answered HTTP 307 (send it again to " + location + ", on its own host; not followed): the "
                    + "request was not taken — point the url there (a trailing slash?) — or it asks for a login"
                    : where + " answered HTTP " + status + " (a redirect to " + location + " on its own host, not followed): it "
                    + "may have taken the request (post/redirect/get: have it answer 201 or 303) or asked for a login"));
        }
        if (status == 302 || status == 303 || status == 307) {
            // an auth proxy in front of the endpoint (IAP, oauth2-proxy, Cloudflare Access) sends a request whose token
            // lapsed to its login page: 302 or 307, and Authelia a 303 to its portal on another host — which took
            // nothing. Dead-lettered, every event went to the DLQ; handled as the 401 it stands for, nothing is lost
            return authFailure(where + " answered HTTP " + status + " (a temporary redirect to " + location
                    + ", not followed): a login page in front of the endpoint, a credential that lapsed?");
        }
        if (status == 301 || status == 308) {
            // asking again gives the same answer: the DLQ, with where it points
            return new Attempt.Final(Outcome.reject(where + " answered HTTP " + status + ": the url moved permanently to "
                    + location + ": set the sink's url to it (redirects are not followed)"));
        }
        return new Attempt.Final(Outcome.reject(where + " answered HTTP " + status + " (redirect to " + location
                + "): redirects are not followed"));
    }

    /**
     * Whether {@code location} points at the target's own scheme, host and port (a relative one does): a
     * 303 there is the endpoint's own result; one to another host (a login portal) is not taken for it. An
     * {@code http://} one on the host of an {@code https://} target, on their default ports or the target's own (a proxy
     * on 8443), is its own too: an app behind a proxy that ends TLS writes its redirects so unless told of the proxy —
     * taken for a login page, its POST was sent again every few seconds for the outage patience, then dead-lettered.
     */
    static boolean sameOrigin(URI target, String location) {
        try {
            URI to = target.resolve(new URI(location.strip()));
            boolean behindTls = "https".equalsIgnoreCase(target.getScheme()) && "http".equalsIgnoreCase(to.getScheme())
                    && (port(target) == 443 && port(to) == 80 || port(to) == port(target));
            return to.getScheme() != null && (behindTls || to.getScheme().equalsIgnoreCase(target.getScheme())
                    && port(to) == port(target)) && host(to) != null && host(to).equalsIgnoreCase(host(target));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return false; // a Location that does not parse is not known to be the endpoint's own
        }
    }

    private static String host(URI uri) {
        return uri.getHost() != null ? uri.getHost() : uri.getRawAuthority();
    }

    private static int port(URI uri) {
        return uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    /**
     * #16: a refused credential is rarely the event's fault: a token was rotated, has expired or is
     * not yet deployed. Not tried again in process (it will not come right in 100 ms, and hammering an
     * API with a refused credential can lock the caller out); the listener's backoff spaces the
     * attempts, the breaker opens when every event is refused, and a bearer-token-file is re-read.
     */
    private Attempt authFailure(String reason) {
        long count = authFailures.incrementAndGet();
        long now = System.nanoTime();
        long next = nextAuthLog.get();
        if (now - next >= 0 && nextAuthLog.compareAndSet(next, now + AUTH_LOG_EVERY_NANOS)) {
            LOG.atWarn().setMessage(() -> "HTTP sink '" + name + "': " + reason + "; " + count
                    + " such answer(s) so far, events are " + (onAuthFailure == HttpSink.AuthFailures.REJECT
                    ? "dead-lettered" : "retried with backoff") + " (logged at most once a minute)").log();
        }
        return onAuthFailure == HttpSink.AuthFailures.REJECT ? new Attempt.Final(Outcome.reject(reason))
                : new Attempt.Final(Outcome.retry(reason), true); // waited out as an outage: a rotated credential loses nothing
    }
}
