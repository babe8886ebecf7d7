package dev.ferry.adapters.http;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Forwards each event's payload to an HTTP endpoint (the "event listener" job, reference/001),
 * with the JDK {@link HttpClient}: HTTP/2 where the server offers it, else HTTP/1.1, connections
 * reused, a timeout per request.
 *
 * <p>The answer becomes the event's outcome: 2xx {@code Done}; 429 {@code Throttled} for the
 * {@code Retry-After} it sends (seconds or an HTTP date) or the default (5 minutes); 408, 5xx, a
 * refused or reset connection and a timeout are tried again in process a few times (resilience4j
 * retry, exponential backoff) and then {@code Retry}, so the message goes back to its queue; any
 * other status is {@code Reject} with the status and the first bytes of the body, so the message
 * goes to the DLQ with the reason.
 *
 * <p>At most {@code maxConcurrent} requests are open at once; beyond that callers wait briefly and
 * are then told to hold back ({@code Throttled}). A breaker stops calling an endpoint that fails
 * everything and answers {@code Throttled} until its cool-down passes, so the source slows down
 * instead of burning receives. Thread-safe.
 */
public final class HttpSink implements Sink {

    /** The first bytes of an error body that go into a rejection's reason. */
    static final int REASON_BODY_CHARS = 200;

    private final String name;
    private final UrlTemplate url;
    private final String method;
    private final Map<String, String> headers;
    private final Supplier<String> bearerToken;
    private final Duration timeout;
    private final Duration defaultThrottle;
    private final Duration busyWait;
    private final HttpClient client;
    private final boolean ownsClient;
    private final Semaphore permits;
    private final Retry retry;
    private final Breaker breaker;
    private final Clock clock;

    private HttpSink(Builder b) {
        this.name = b.name != null ? b.name : b.url.toString();
        this.url = b.url;
        this.method = b.method;
        this.headers = Map.copyOf(b.headers);
        this.bearerToken = b.bearerToken;
        this.timeout = b.timeout;
        this.defaultThrottle = b.defaultThrottle;
        this.busyWait = b.busyWait;
        this.ownsClient = b.client == null;
        this.client = b.client != null ? b.client : HttpClient.newBuilder()
                .version(b.version)
                .connectTimeout(b.connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        this.permits = new Semaphore(b.maxConcurrent);
        this.retry = Retry.of("ferry-http-" + name, RetryConfig.<Outcome>custom()
                .maxAttempts(b.attempts)
                .intervalFunction(IntervalFunction.ofExponentialBackoff(b.firstBackoff.toMillis(), 2.0))
                .retryOnResult(outcome -> outcome instanceof Outcome.Retry)
                .failAfterMaxAttempts(false)
                .build());
        this.breaker = new Breaker(b.breakerThreshold, b.breakerOpenFor);
        this.clock = b.clock;
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
    public Outcome publish(Event event) {
        var hold = breaker.admit();
        if (!hold.isZero()) {
            return Outcome.throttled(hold);
        }
        try {
            if (!permits.tryAcquire(busyWait.toNanos(), TimeUnit.NANOSECONDS)) {
                breaker.success();
                return Outcome.throttled(Duration.ofSeconds(1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.retry("interrupted while waiting for a connection to " + name);
        }
        try {
            var outcome = retry.executeSupplier(() -> attempt(event));
            if (outcome instanceof Outcome.Retry) {
                breaker.failure();
            } else {
                breaker.success();
            }
            return outcome;
        } finally {
            permits.release();
        }
    }

    private Outcome attempt(Event event) {
        var target = url.expand(event);
        var request = HttpRequest.newBuilder(target)
                .timeout(timeout)
                .method(method, HttpRequest.BodyPublishers.ofByteArray(event.payload()))
                .header("Idempotency-Key", event.key())
                .header("X-Ferry-Event-Type", event.type());
        headers.forEach(request::header);
        if (bearerToken != null) {
            request.header("Authorization", "Bearer " + bearerToken.get());
        }
        HttpResponse<byte[]> response;
        try {
            response = client.send(request.build(), info -> info.statusCode() / 100 == 2
                    ? HttpResponse.BodySubscribers.replacing(new byte[0])
                    : HttpResponse.BodySubscribers.ofByteArray());
        } catch (HttpTimeoutException e) {
            return Outcome.retry(method + " " + target + ": no answer within " + timeout);
        } catch (ConnectException e) {
            return Outcome.retry(method + " " + target + ": connection refused");
        } catch (IOException e) {
            return Outcome.retry(method + " " + target + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.retry(method + " " + target + ": interrupted");
        }
        return outcome(target.toString(), response);
    }

    private Outcome outcome(String target, HttpResponse<byte[]> response) {
        int status = response.statusCode();
        if (status / 100 == 2) {
            return Outcome.done();
        }
        if (status == 429) {
            return Outcome.throttled(RetryAfter.parse(response.headers().firstValue("Retry-After").orElse(null), clock,
                    defaultThrottle));
        }
        String reason = method + " " + target + " answered HTTP " + status + bodySnippet(response.body());
        if (status == 408 || status / 100 == 5) {
            return Outcome.retry(reason);
        }
        return Outcome.reject(reason);
    }

    private static String bodySnippet(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        String text = new String(body, 0, Math.min(body.length, REASON_BODY_CHARS * 4), StandardCharsets.UTF_8);
        text = text.length() > REASON_BODY_CHARS ? text.substring(0, REASON_BODY_CHARS) + "..." : text;
        return ": " + text.replaceAll("\\s+", " ").strip();
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
        private final Map<String, String> headers = new LinkedHashMap<>(Map.of("Content-Type", "application/json"));
        private Supplier<String> bearerToken;
        private Duration timeout = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private HttpClient.Version version = HttpClient.Version.HTTP_2;
        private int maxConcurrent = 64;
        private Duration busyWait = Duration.ofSeconds(1);
        private int attempts = 3;
        private Duration firstBackoff = Duration.ofMillis(100);
        private Duration defaultThrottle = Duration.ofMinutes(5);
        private int breakerThreshold = 20;
        private Duration breakerOpenFor = Duration.ofSeconds(30);
        private HttpClient client;
        private Clock clock = Clock.systemUTC();

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

        /** A header sent with every request (Content-Type is application/json unless set here). */
        public Builder header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        /** {@code Authorization: Bearer <token>} with the token read from this environment variable. */
        public Builder bearerTokenFromEnv(String variable) {
            String token = System.getenv(variable);
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("bearer token: environment variable " + variable + " is not set");
            }
            this.bearerToken = () -> token;
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
            positive("timeout", timeout);
            this.timeout = timeout;
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            positive("connectTimeout", timeout);
            this.connectTimeout = timeout;
            return this;
        }

        /** HTTP_2 (the default; falls back to HTTP/1.1 where the server does not offer it) or HTTP_1_1. */
        public Builder version(HttpClient.Version version) {
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /** Requests open at once to this endpoint (64 by default). */
        public Builder maxConcurrent(int requests) {
            if (requests < 1) {
                throw new IllegalArgumentException("maxConcurrent must be >= 1, was " + requests);
            }
            this.maxConcurrent = requests;
            return this;
        }

        /** Attempts per event in process, including the first (3 by default), and the first pause (100 ms, doubling). */
        public Builder retries(int attempts, Duration firstBackoff) {
            if (attempts < 1) {
                throw new IllegalArgumentException("attempts must be >= 1, was " + attempts);
            }
            positive("firstBackoff", firstBackoff);
            this.attempts = attempts;
            this.firstBackoff = firstBackoff;
            return this;
        }

        /** How long a 429 without a usable Retry-After holds the event back (5 minutes by default, reference/001). */
        public Builder defaultThrottle(Duration delay) {
            positive("defaultThrottle", delay);
            this.defaultThrottle = delay;
            return this;
        }

        /** Open the breaker after {@code failures} events in a row failed (20), for {@code openFor} (30 s). */
        public Builder breaker(int failures, Duration openFor) {
            if (failures < 1) {
                throw new IllegalArgumentException("breaker failures must be >= 1, was " + failures);
            }
            positive("breaker openFor", openFor);
            this.breakerThreshold = failures;
            this.breakerOpenFor = openFor;
            return this;
        }

        /** Use this client (its owner closes it) instead of one of the sink's own. */
        public Builder client(HttpClient client) {
            this.client = Objects.requireNonNull(client, "client");
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public HttpSink build() {
            return new HttpSink(this);
        }

        private static void positive(String field, Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(field + " must be > 0, was " + value);
            }
        }
    }

    /** A token file, re-read when its modification time changes (rotated credentials). */
    private static final class TokenFile implements Supplier<String> {
        private final Path file;
        private volatile long modified = Long.MIN_VALUE;
        private volatile String token;

        TokenFile(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        @Override
        public String get() {
            try {
                long now = Files.getLastModifiedTime(file).toMillis();
                if (now != modified) {
                    String read = Files.readString(file, StandardCharsets.UTF_8).strip();
                    if (read.isEmpty()) {
                        throw new IllegalArgumentException("bearer token file " + file + " is empty");
                    }
                    token = read;
                    modified = now;
                }
                return token;
            } catch (IOException e) {
                if (token != null) {
                    return token;
                }
                throw new IllegalArgumentException("bearer token file " + file + " cannot be read: " + e.getMessage(), e);
            }
        }
    }
}
