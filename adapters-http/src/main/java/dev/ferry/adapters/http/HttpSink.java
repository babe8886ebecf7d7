package dev.ferry.adapters.http;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Forwards each event's payload to an HTTP endpoint (the "event listener" job),
 * with the JDK {@link HttpClient}: HTTP/2 where the server offers it, else HTTP/1.1, connections
 * reused, a timeout per request.
 *
 * <p>The answer becomes the event's outcome: 2xx {@code Done}; 429 {@code Throttled} for the
 * {@code Retry-After} it sends (seconds or an HTTP date) or the default (5 minutes); 408, 5xx, a
 * refused or reset connection and a timeout are tried again in process a few times (resilience4j
 * retry, exponential backoff) and then {@code Retry}, so the message goes back to its queue — but
 * an outage (no connection or answer, 502–504, a credential refused) is {@code Throttled} while it
 * lasts less than its patience, no attempt spent; 401 and 403 (and a 302 or 307: an auth proxy's login page) are a
 * credential problem, {@code Retry} with the listener's backoff (or {@code Reject}, {@link AuthFailures}), counted and
 * logged; a redirect is never followed: 303 is {@code Done} (taken; one to another host is a login page too), 301, 308
 * and the rest {@code Reject} naming where they pointed; any other status {@code Reject} with the status and body start.
 *
 * <p>Reasons and log lines show the target as {@code scheme://host[:port]/…} only ({@code Redact}):
 * webhook URLs carry their secret in the path or query. The event's key and type travel in
 * headers, percent-encoded when the JDK could not send them as they are ({@code HeaderValues}).
 *
 * <p>At most {@code maxConcurrent} requests are open at once, a 2xx's until its body ends or is given up at the
 * timeout (its connection is busy till then; {@code SinkPlaces}); beyond that callers wait briefly and are then told to
 * hold back ({@code Throttled}). A breaker stops calling an endpoint that fails everything and answers {@code Throttled}
 * until its cool-down passes, so the source slows down instead of burning receives. Thread-safe.
 */
public final class HttpSink implements Sink {

    /** What the sink does with an event refused for its credentials (HTTP 401 or 403, or a 302/307 to a login page). */
    public enum AuthFailures {
        /**
         * {@code Retry} with the listener's backoff (the default): a credential that was rotated or
         * expired is usually fixed within minutes, and dead-lettering every event meanwhile floods
         * the DLQ with events that were fine.
         */
        RETRY,
        /** {@code Reject} at once, to the DLQ: for endpoints whose 403 means "this event is not allowed". */
        REJECT
    }

    private final String name;
    private final UrlTemplate url;
    private final String method;
    private final Map<String, String> headers;
    private final Supplier<String> bearerToken;
    private final Duration timeout;
    private final Duration busyWait;
    private final HttpClient client;
    private final boolean ownsClient;
    private final SinkPlaces places; // maxConcurrent: a 2xx's held by its body till it ends
    private final Retry retry;
    private final Breaker breaker;
    private final SinkAnswers answers; // what an answer (or its failure) becomes

    private HttpSink(Builder b) {
        // the name is printed in logs and reasons: a URL as a name is shown redacted (#16)
        this.name = b.name != null ? b.name : Redact.url(b.url.toString());
        this.url = b.url;
        this.method = b.method;
        this.headers = Map.copyOf(b.headers);
        this.bearerToken = b.bearerToken;
        this.timeout = b.timeout;
        this.busyWait = b.busyWait;
        this.ownsClient = b.client == null;
        this.client = b.client != null ? b.client : SinkRequests.client(b.version, b.connectTimeout, b.timeout);
        this.places = new SinkPlaces(b.maxConcurrent, name, b.url.toString(), b.timeout);
        this.retry = Retry.of("ferry-http-" + name, RetryConfig.<Attempt>custom()
                .maxAttempts(b.attempts)
                .intervalFunction(SinkRequests.pauses(b.firstBackoff))
                .retryOnResult(attempt -> attempt instanceof Attempt.Transient)
                .failAfterMaxAttempts(false)
                .build());
        this.breaker = new Breaker(b.breakerThreshold, b.breakerOpenFor);
        this.answers = new SinkAnswers(name, timeout, b.clock, b.defaultThrottle, b.onAuthFailure, b.outagePatience);
    }

    /** A sink posting to {@code urlTemplate}, e.g. {@code https://api.example.com/events/{type}}. */
    public static Builder builder(String urlTemplate) {
        return new Builder(urlTemplate);
    }

    @Override
    public String name() {
        return name;
    }

    /** True while the breaker holds calls back. */
    public boolean breakerOpen() {
        return breaker.isOpen();
    }

    @Override
    public java.util.Optional<String> holdingBack() {
        return answers.holdingBack(breaker.isOpen(), false).or(places::holdingBack);
    }

    @Override // where and how the calls fail, not what the endpoint answered: health shows this to anyone
    public java.util.Optional<String> holdingBackInBrief() {
        return answers.holdingBack(breaker.isOpen(), true).or(places::holdingBack);
    }

    /** Answers 401, 403, or a redirect to a login page, so far (every one, whatever {@link AuthFailures} made of it). */
    public long authFailures() {
        return answers.authFailures();
    }

    @Override
    public Outcome publish(Event event) {
        java.net.URI target;
        try {
            target = url.expand(event);
        } catch (IllegalArgumentException unfit) { // the event's values do not make this URL: no retry changes them
            return Outcome.reject(unfit.getMessage());
        }
        var permit = new SinkPermit(places); // before the taking: a throw between it and the try kept it for good
        var hold = breaker.admit();
        if (!hold.isZero()) {
            return Outcome.throttled(hold);
        }
        try {
            if (!places.take(busyWait)) {
                breaker.skipped(); // no call was made: the endpoint told us nothing, but a probe slot must be given back
                return Outcome.throttled(Duration.ofSeconds(1));
            }
        } catch (InterruptedException e) {
            breaker.skipped();
            Thread.currentThread().interrupt();
            return Outcome.retry("interrupted while waiting for a connection to " + name);
        }
        boolean reported = false;
        try {
            var tries = new int[1];
            var timedOutOrFailed = new boolean[1];
            Outcome outcome;
            boolean busy = false;
            Attempt last = null;
            try {
                last = retry.executeSupplier(() -> {
                    var attempt = attempt(event, target, ++tries[0], permit);
                    timedOutOrFailed[0] |= attempt instanceof Attempt.Transient;
                    return answers.heard(target, event.key(), attempt); // unanswered: a 409 later is "at work on it"
                });
                outcome = last.outcome();
                busy = last instanceof Attempt.Busy;
            } catch (RuntimeException e) {
                if (!Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                // interrupted between attempts: the retry's pause gives up with an exception of its own (a null one, for
                // a retry decided on a result) — a publish answers, it does not throw
                outcome = Outcome.retry(Redact.url(target) + ": interrupted");
            }
            if ((last instanceof Attempt.Interrupted || last instanceof Attempt.NotSent) && !timedOutOrFailed[0]) {
                breaker.skipped(); // no answer (or nothing sent): not the endpoint's failure, nor its success
            } else { // a timeout, then nothing sent: the timeout's failure (taken for a success, a dead endpoint never opened it)
                breaker.report(outcome instanceof Outcome.Retry || last instanceof Attempt.NotSent, busy, timedOutOrFailed[0]);
            }
            reported = true;
            return answers.afterOutage(target, () -> url.receiver(target, event), event.key(), last, outcome);
        } finally {
            if (!reported) {
                // #16: something threw (a bug, an Error). The breaker must hear of
                // every call it admitted: were this its half-open probe, it would answer Throttled for ever.
                breaker.failure();
            }
            permit.giveBackUnlessPassedOn(); // a 2xx's body has it till the body ends: its connection is busy till then
        }
    }

    private Attempt attempt(Event event, java.net.URI target, int attemptNumber, SinkPermit permit) {
        var request = SinkRequests.of(event, target, method, timeout, headers, bearerToken);
        String where = method + " " + Redact.url(target);
        // the whole answer must come within the timeout, but a 2xx is taken at its status line (its body drained behind:
        // the event is not sent again), and an error's body read a second at most (a 429 is not lost to a slow body)
        var answer = client.sendAsync(request, permit.bodies(timeout));
        HttpResponse<byte[]> response;
        try {
            response = permit.passedToItsBody(answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            answer.cancel(true);
            return new Attempt.Transient(Outcome.retry(where + ": no answer within " + timeout), true);
        } catch (ExecutionException e) {
            return answers.failed(where, target, e.getCause());
        } catch (InterruptedException e) {
            answer.cancel(true);
            Thread.currentThread().interrupt();
            return new Attempt.Interrupted(Outcome.retry(where + ": interrupted")); // not tried again: the caller is stopping
        }
        return answers.outcome(where, target, response, attemptNumber);
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    /** Builds an {@link HttpSink}; every value is checked here, with the field named. */
    public static final class Builder {
        private final UrlTemplate url;
        private String name;
        private String method = "POST";
        /** Header names are case-insensitive: a configured content-type replaces the default, not joins it. */
        private final Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);

        {
            headers.put("Content-Type", "application/json");
        }
        private Supplier<String> bearerToken;
        private Duration timeout = Duration.ofSeconds(10);
        private Duration connectTimeout = SinkRequests.CONNECT_TIMEOUT;
        private HttpClient.Version version = HttpClient.Version.HTTP_2;
        private int maxConcurrent = 64;
        private Duration busyWait = SinkRequests.SLOT_WAIT;
        private int attempts = SinkRequests.ATTEMPTS;
        private Duration firstBackoff = SinkRequests.FIRST_PAUSE;
        private Duration defaultThrottle = Duration.ofMinutes(5);
        private int breakerThreshold = 20;
        private Duration breakerOpenFor = Duration.ofSeconds(30);
        private HttpClient client;
        private Clock clock = Clock.systemUTC();
        private AuthFailures onAuthFailure = AuthFailures.RETRY;
        private Duration outagePatience = dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE;

        private Builder(String urlTemplate) {
            this.url = new UrlTemplate(Objects.requireNonNull(urlTemplate, "url"));
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** POST by default; PUT and PATCH also carry the payload. */
        public Builder method(String method) {
            var m = method.toUpperCase(java.util.Locale.ROOT);
            if (!m.equals("POST") && !m.equals("PUT") && !m.equals("PATCH")) {
                throw new IllegalArgumentException("method must be POST, PUT or PATCH, was '" + method + "'");
            }
            this.method = m;
            return this;
        }

        /**
         * A header sent with every request (Content-Type is application/json unless set here); not one the sink sets
         * itself: Idempotency-Key, X-Ferry-Event-Type, X-Ferry-Header-Encoding.
         */
        public Builder header(String name, String value) {
            Objects.requireNonNull(name, "header name");
            Objects.requireNonNull(value, "header " + name);
            String problem = SinkRequests.headerProblem(name, value); // refused here rather than on every event
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            headers.put(name, value);
            return this;
        }

        /** {@code Authorization: Bearer <token>} with the token read from this environment variable. */
        public Builder bearerTokenFromEnv(String variable) {
            return bearerToken(BearerTokens.fromEnv(variable)::toString);
        }

        Builder bearerToken(Supplier<String> token) { // and a test's: asked per request
            this.bearerToken = Objects.requireNonNull(token, "token");
            return this;
        }

        /** {@code Authorization: Bearer <token>} with the token read from this file, re-read when it changes. */
        public Builder bearerTokenFromFile(Path file) {
            this.bearerToken = new TokenFile(file);
            bearerToken.get();
            return this;
        }

        /** How long one request may take (10 s by default). */
        public Builder timeout(Duration timeout) {
            SinkRequests.positive("timeout", timeout);
            this.timeout = timeout;
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            SinkRequests.positive("connectTimeout", timeout);
            this.connectTimeout = timeout;
            return this;
        }

        /** HTTP_2 (the default; falls back to HTTP/1.1 where the server does not offer it) or HTTP_1_1. */
        public Builder version(HttpClient.Version version) {
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /** Requests open at once to this endpoint, a 2xx's until its body ends (64 by default). */
        public Builder maxConcurrent(int requests) {
            if (requests < 1) {
                throw new IllegalArgumentException("maxConcurrent must be >= 1, was " + requests);
            }
            this.maxConcurrent = requests;
            return this;
        }

        /** Attempts per event in process, including the first (3 by default), and the first pause (100 ms, doubling to 30 s). */
        public Builder retries(int attempts, Duration firstBackoff) {
            if (attempts < 1) {
                throw new IllegalArgumentException("attempts must be >= 1, was " + attempts);
            }
            SinkRequests.positive("firstBackoff", firstBackoff);
            SinkRequests.checkFirstPause(firstBackoff);
            this.attempts = attempts;
            this.firstBackoff = firstBackoff;
            return this;
        }

        /** How long a 429 without a usable Retry-After holds the event back (5 minutes by default). */
        public Builder defaultThrottle(Duration delay) {
            SinkRequests.positive("defaultThrottle", delay);
            this.defaultThrottle = delay;
            return this;
        }

        /** Open the breaker after {@code failures} events in a row failed (20), for {@code openFor} (30 s). */
        public Builder breaker(int failures, Duration openFor) {
            if (failures < 1) {
                throw new IllegalArgumentException("breaker failures must be >= 1, was " + failures);
            }
            SinkRequests.positive("breaker openFor", openFor);
            this.breakerThreshold = failures;
            this.breakerOpenFor = openFor;
            return this;
        }

        /**
         * Use this client (its owner closes it) instead of one of the sink's own. It must not follow
         * redirects (#16): a followed 301/302 posts nothing to where it points, and its answer would
         * mark the event done.
         */
        public Builder client(HttpClient client) {
            Objects.requireNonNull(client, "client");
            if (client.followRedirects() != HttpClient.Redirect.NEVER) {
                throw new IllegalArgumentException("client must not follow redirects (HttpClient.Redirect.NEVER), was "
                        + client.followRedirects() + ": a followed redirect can lose the event");
            }
            this.client = client;
            return this;
        }

        /**
         * How long an event waits out an outage — no connection, no answer, 502, 503, 504, a credential
         * refused under {@link AuthFailures#RETRY} — answered {@code Throttled}, before its attempts are
         * spent (15 minutes by default; zero: at once). A 500 is the event's own, and spends them.
         */
        public Builder outagePatience(Duration patience) {
            if (Objects.requireNonNull(patience, "outagePatience").isNegative()) {
                throw new IllegalArgumentException("outagePatience must not be negative, was " + patience);
            }
            this.outagePatience = patience;
            return this;
        }

        /** What a 401, 403, 302 or 307 makes of an event: {@link AuthFailures#RETRY} (default) or {@link AuthFailures#REJECT}. */
        public Builder onAuthFailure(AuthFailures policy) {
            this.onAuthFailure = Objects.requireNonNull(policy, "onAuthFailure");
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public HttpSink build() {
            if (bearerToken != null && headers.containsKey("Authorization")) {
                throw new IllegalArgumentException("header 'Authorization' and a bearer token both given: "
                        + "the request would carry two; keep one");
            }
            return new HttpSink(this);
        }
    }
}
