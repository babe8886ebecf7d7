package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The JDK's HTTP/2 client keeps one connection per host and fails a request at once, unsent, once that connection's
 * streams reach the server's limit (128 on common proxies): a {@code max-concurrent} above it had the extra requests
 * taken for an outage — the healthy endpoint reported down, its breaker opened, events held as if it were.
 */
class StreamsFullTest {

    private final SinkAnswers answers = new SinkAnswers("api", Duration.ofSeconds(10), Clock.systemUTC(),
            Duration.ofSeconds(1), HttpSink.AuthFailures.values()[0], Duration.ofMinutes(5));
    private final URI target = URI.create("https://api.example/events");

    @Test
    void theServersStreamLimitReached_isTheClientsOwnBackPressure_notAnOutage() {
        for (Throwable e : new Throwable[] {new IOException("too many concurrent streams"),
                new java.util.concurrent.CompletionException(new IOException("too many concurrent streams"))}) {
            var attempt = answers.failed("POST " + target, target, e);
            assertThat(attempt.unreachable()).as("not an outage: %s", e).isFalse();
            assertThat(attempt).as("not tried again at once, nor an answer").isInstanceOf(Attempt.NotSent.class);
            assertThat(attempt.outcome()).isInstanceOf(Outcome.Throttled.class);
        }
        var other = answers.failed("POST " + target, target, new IOException("Connection reset"));
        assertThat(other.unreachable()).as("any other I/O failure is still an outage").isTrue();
    }

    @Test // a review: a failed TLS handshake (nothing sent) was marked "may have reached the endpoint": a real 409 after the
          // certificate was mended was taken for the earlier request still at work, and held for the whole patience
    void aFailedTlsHandshake_sentNothing() {
        var attempt = answers.failed("POST " + target, target, new javax.net.ssl.SSLHandshakeException("PKIX path building failed"));
        assertThat(attempt).isInstanceOfSatisfying(Attempt.Transient.class, t -> {
            assertThat(t.reached()).as("no request went out").isFalse();
            assertThat(t.unreachable()).as("still an outage while it lasts").isTrue();
            assertThat(t.outcome()).isInstanceOfSatisfying(Outcome.Retry.class, r -> assertThat(r.reason()).contains("TLS"));
        });
    }

    @Test // a review of the fix: taken as an answer, it reset the breaker's count and the outage's timing: a dead
          // endpoint whose timeouts alternated with it never opened the breaker
    void streamsFull_isNeitherAnAnswerNorAFailure_aDeadEndpointStillOpensTheBreaker() {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        var client = new StubClient(() -> calls.incrementAndGet() % 2 == 1
                ? new java.util.concurrent.CompletableFuture<>() // the dead endpoint: no answer
                : java.util.concurrent.CompletableFuture.failedFuture(new IOException("too many concurrent streams")));
        var sink = HttpSink.builder("http://127.0.0.1:9/events").client(client).timeout(Duration.ofMillis(100))
                .retries(1, Duration.ofMillis(1)).breaker(2, Duration.ofSeconds(30)).build();
        for (int i = 0; i < 8 && !sink.breakerOpen(); i++) {
            sink.publish(new dev.ferry.domain.model.Event("k" + i, "t", null, null, new byte[] {'{', '}'}, java.util.Map.of()));
        }
        assertThat(sink.breakerOpen()).as("two timeouts in a row, the full streams between them not counted: "
                + calls + " calls").isTrue();
    }

    @Test // a review of the fix: full for good (a server allowing no streams, streams the client never gave back), every
          // event was throttled every 200 ms for ever, reported nowhere
    void streamsFullForTheWholePatience_isAnOutage_saidAndInTheEndSpendingAttempts() throws Exception {
        var was = SinkAnswers.streamsFullAtLeast;
        SinkAnswers.streamsFullAtLeast = Duration.ZERO;
        try {
            streamsFullFor(Duration.ofMillis(300));
        } finally {
            SinkAnswers.streamsFullAtLeast = was;
        }
    }

    @Test // a review of the fix: with outage-patience 0s (an outage's attempts spent at once) the first full streams spent one
    void streamsFull_withAnOutagePatienceOfZero_areStillBackPressure() {
        var client = new StubClient(
                () -> java.util.concurrent.CompletableFuture.failedFuture(new IOException("too many concurrent streams")));
        var sink = HttpSink.builder("http://127.0.0.1:9/events").client(client).timeout(Duration.ofMillis(100))
                .retries(1, Duration.ofMillis(1)).outagePatience(Duration.ZERO).build();
        var event = new dev.ferry.domain.model.Event("k", "t", null, null, new byte[] {'{', '}'}, java.util.Map.of());
        assertThat(sink.publish(event)).isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.publish(event)).isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.holdingBack()).isEmpty();
    }

    @Test // a review of the fix: a spell of full streams long over (the sink idle since) made the next one an outage at once
    void aSpellOfFullStreamsLongOver_doesNotCountTowardTheNext() throws Exception {
        var was = SinkAnswers.streamsFullAtLeast;
        SinkAnswers.streamsFullAtLeast = Duration.ZERO;
        try {
            var full = new Attempt.NotSent(Outcome.throttled(SinkAnswers.STREAMS_FULL_WAIT));
            var timed = new SinkAnswers("api", Duration.ofSeconds(10), Clock.systemUTC(), Duration.ofSeconds(1),
                    HttpSink.AuthFailures.values()[0], Duration.ofSeconds(3));
            String receiver = target.toString();
            assertThat(timed.afterOutage(receiver, "k1", full, full.outcome())).isInstanceOf(Outcome.Throttled.class);
            Thread.sleep(5_500); // longer than the patience, and than the gap that ends a spell
            assertThat(timed.afterOutage(receiver, "k2", full, full.outcome())).as("a new spell: back-pressure")
                    .isEqualTo(full.outcome());
            assertThat(timed.holdingBack(false, false)).isEmpty();
        } finally {
            SinkAnswers.streamsFullAtLeast = was;
        }
    }

    private void streamsFullFor(Duration patience) throws Exception {
        var client = new StubClient(
                () -> java.util.concurrent.CompletableFuture.failedFuture(new IOException("too many concurrent streams")));
        var sink = HttpSink.builder("http://127.0.0.1:9/events").client(client).timeout(Duration.ofMillis(100))
                .retries(1, Duration.ofMillis(1)).outagePatience(patience).build();
        var event = new dev.ferry.domain.model.Event("k", "t", null, null, new byte[] {'{', '}'}, java.util.Map.of());
        assertThat(sink.publish(event)).as("back-pressure at first").isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.holdingBack()).isEmpty();
        Outcome outcome = null;
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() - end < 0 && !(outcome instanceof Outcome.Retry)) {
            Thread.sleep(50);
            outcome = sink.publish(event);
        }
        assertThat(outcome).as("past the patience twice over: an attempt spent").isInstanceOf(Outcome.Retry.class);
        assertThat(((Outcome.Retry) outcome).reason()).contains("streams stay full");
        assertThat(sink.holdingBack()).as("said").hasValueSatisfying(r -> assertThat(r).contains("nothing sent"));
    }

    /** An HttpClient whose every request is answered by {@code answers}. */
    private static final class StubClient extends java.net.http.HttpClient {
        private final java.util.function.Supplier<java.util.concurrent.CompletableFuture<?>> answers;

        StubClient(java.util.function.Supplier<java.util.concurrent.CompletableFuture<?>> answers) {
            this.answers = answers;
        }

        @Override
        public java.util.Optional<java.net.CookieHandler> cookieHandler() {
            return java.util.Optional.empty();
        }

        @Override
        public java.util.Optional<Duration> connectTimeout() {
            return java.util.Optional.empty();
        }

        @Override
        public Redirect followRedirects() {
            return Redirect.NEVER;
        }

        @Override
        public java.util.Optional<java.net.ProxySelector> proxy() {
            return java.util.Optional.empty();
        }

        @Override
        public javax.net.ssl.SSLContext sslContext() {
            return null;
        }

        @Override
        public javax.net.ssl.SSLParameters sslParameters() {
            return new javax.net.ssl.SSLParameters();
        }

        @Override
        public java.util.Optional<java.net.Authenticator> authenticator() {
            return java.util.Optional.empty();
        }

        @Override
        public Version version() {
            return Version.HTTP_2;
        }

        @Override
        public java.util.Optional<java.util.concurrent.Executor> executor() {
            return java.util.Optional.empty();
        }

        @Override
        public <T> java.net.http.HttpResponse<T> send(java.net.http.HttpRequest request,
                                                      java.net.http.HttpResponse.BodyHandler<T> handler) {
            throw new IllegalStateException("the sink sends asynchronously");
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<T>> sendAsync(
                java.net.http.HttpRequest request, java.net.http.HttpResponse.BodyHandler<T> handler) {
            return (java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<T>>) answers.get();
        }

        @Override
        public <T> java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<T>> sendAsync(
                java.net.http.HttpRequest request, java.net.http.HttpResponse.BodyHandler<T> handler,
                java.net.http.HttpResponse.PushPromiseHandler<T> push) {
            return sendAsync(request, handler);
        }
    }
}
