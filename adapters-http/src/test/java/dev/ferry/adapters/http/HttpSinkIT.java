package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.adapters.http.ScriptedServer.Response;
import dev.ferry.domain.contract.SinkContract;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP sink against a real HTTP server on 127.0.0.1 that answers from a script. */
class HttpSinkIT extends ScriptedSinkFixture {

    @Test
    void ok_isDone_andTheRequestCarriesPayloadHeadersAndToken(@TempDir Path dir) throws IOException {
        server.script("/hooks/AssignmentSubmitted/acme%2Feu", Response.of(200, "fine"));
        Path token = dir.resolve("token");
        Files.writeString(token, "s3cr3t\n");
        var sink = sink(HttpSink.builder(server.uri("").toString() + "/hooks/{type}/{attr.tenant}")
                .bearerTokenFromFile(token).header("X-Source", "ferry").method("PUT"));

        assertThat(sink.publish(event("doc-1#0"))).isEqualTo(Outcome.done());

        var r = server.received.getFirst();
        assertThat(r.method()).isEqualTo("PUT");
        assertThat(r.body()).isEqualTo("{\"key\":\"doc-1#0\"}");
        assertThat(r.header("Authorization")).isEqualTo("Bearer s3cr3t");
        assertThat(r.header("Idempotency-Key")).isEqualTo("doc-1#0");
        assertThat(r.header("X-Source")).isEqualTo("ferry");
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
    }

    @Test
    void tokenFile_isReadAgainWhenItChanges(@TempDir Path dir) throws Exception {
        server.script("/t", Response.of(204));
        Path token = dir.resolve("token");
        Files.writeString(token, "first");
        var sink = sink(to("/t").bearerTokenFromFile(token));
        sink.publish(event("a"));
        Files.writeString(token, "second");
        Files.setLastModifiedTime(token, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        sink.publish(event("b"));
        assertThat(server.received).extracting(r -> r.header("Authorization")).containsExactly("Bearer first", "Bearer second");
    }

    @Test
    void tooManyRequests_isThrottled_forRetryAfterSeconds() {
        server.script("/busy", Response.of(429).header("Retry-After", "120"));
        assertThat(sink(to("/busy")).publish(event("a"))).isEqualTo(Outcome.throttled(Duration.ofSeconds(120)));
        assertThat(server.count("/busy")).as("a 429 is not retried in process").isEqualTo(1);
    }

    @Test
    void tooManyRequests_withAnHttpDate_isThrottledUntilThatTime() {
        var now = Instant.parse("2026-11-23T10:00:00Z");
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(now.plusSeconds(90), ZoneOffset.UTC));
        server.script("/busy", Response.of(429).header("Retry-After", date));
        var sink = sink(to("/busy").clock(Clock.fixed(now, ZoneOffset.UTC)));
        assertThat(sink.publish(event("a"))).isEqualTo(Outcome.throttled(Duration.ofSeconds(90)));
    }

    @Test
    void tooManyRequests_withoutRetryAfter_usesTheDefaultOfFiveMinutes() {
        server.script("/busy", Response.of(429));
        assertThat(sink(to("/busy")).publish(event("a"))).isEqualTo(Outcome.throttled(Duration.ofMinutes(5)));
    }

    @Test
    void serverErrorThenOk_isRetriedInProcess_andDone() {
        server.script("/flaky", Response.of(500), Response.of(200));
        assertThat(sink(to("/flaky")).publish(event("a"))).isEqualTo(Outcome.done());
        assertThat(server.count("/flaky")).isEqualTo(2);
    }

    @Test
    void serverErrorEveryTime_isRetryAfterTheInProcessAttempts() {
        server.script("/down", Response.of(500, "a bug"));
        var outcome = sink(to("/down")).publish(event("a"));
        assertThat(outcome).as("a 500 may be this event's doing: not an outage").isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("HTTP 500").contains("a bug"));
        assertThat(server.count("/down")).isEqualTo(3);
    }

    @Test // a review: a redeploy of a minute (503s, refused connections) spent a quiet route's attempts in seconds
    void unavailableEveryTime_isWaitedOutAsAnOutage_thenRetryOncePastThePatience() {
        server.script("/down", Response.of(503, "maintenance"));
        var patient = sink(to("/down"));
        assertThat(patient.publish(event("a"))).isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(server.count("/down")).as("the in-process attempts made").isEqualTo(3);
        assertThat(patient.holdingBack()).hasValueSatisfying(why -> assertThat(why).contains("HTTP 503"));

        var impatient = sink(to("/down").outagePatience(Duration.ZERO));
        assertThat(impatient.publish(event("b"))).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("HTTP 503").contains("maintenance").contains("waited out"));
    }

    @Test
    void requestTimeout408_isRetried() {
        server.script("/slowly", Response.of(408), Response.of(201));
        assertThat(sink(to("/slowly")).publish(event("a"))).isEqualTo(Outcome.done());
    }

    @Test
    void badRequest_isRejected_withStatusAndTheStartOfTheBody() {
        server.script("/strict", Response.of(400, "{\"error\":\"field 'HITId' is required\"}" + " ".repeat(50) + "x".repeat(500)));
        var outcome = sink(to("/strict")).publish(event("a"));
        assertThat(outcome).isInstanceOfSatisfying(Outcome.Reject.class, r -> assertThat(r.reason())
                .contains("HTTP 400").contains("field 'HITId' is required").endsWith("...").hasSizeLessThan(400));
        assertThat(server.count("/strict")).as("a 4xx is not retried").isEqualTo(1);
    }

    @Test
    void slowEndpoint_pastTheTimeout_isAnOutage_thenRetry() {
        server.script("/slow", Response.of(200).delay(2_000));
        assertThat(sink(to("/slow").timeout(Duration.ofMillis(300))).publish(event("a")))
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        var outcome = sink(to("/slow").timeout(Duration.ofMillis(300)).outagePatience(Duration.ZERO)).publish(event("a"));
        assertThat(outcome).isInstanceOfSatisfying(Outcome.Retry.class, r -> assertThat(r.reason()).contains("no answer within"));
    }

    /**
     * An endpoint that answers 200, then stalls in the body: it took the event (done at the status line,
     * not sent again), and the connection is given up once the timeout has passed (not held for ever).
     */
    @Test
    void anEndpointThatAnswers200ThenStallsInTheBody_isDone_andItsConnectionIsGivenUpAfterTheTimeout() throws Exception {
        try (var stalling = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            var held = stallAfter(stalling, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            var sink = sink(HttpSink.builder("http://127.0.0.1:" + stalling.getLocalPort() + "/stall")
                    .timeout(Duration.ofMillis(300)));

            var outcome = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> sink.publish(event("a")));

            assertThat(outcome).as("the endpoint took it: not sent again").isEqualTo(Outcome.done());
            assertThat(held).hasSize(1);
            var socket = held.getFirst();
            socket.setSoTimeout(10_000); // the request is read to its end: the end comes when the client closes
            assertThat(new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII))
                    .as("the client gave the connection up (read to the end, no timeout)").contains("/stall");
            for (var s : held) {
                s.close();
            }
        }
    }

    /**
     * Answers every connection to {@code server} with {@code start} — a status line, headers and the start of a
     * body that promises more — and then nothing: the connections, kept open, are returned for the test to close.
     */
    private static List<java.net.Socket> stallAfter(ServerSocket server, String start) {
        var held = new java.util.concurrent.CopyOnWriteArrayList<java.net.Socket>();
        Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    var socket = server.accept();
                    held.add(socket); // kept open: the promised body never ends
                    socket.getOutputStream().write(start.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                }
            } catch (IOException closed) {
                // the test is over
            }
        });
        return held;
    }

    @Test // a review: an error's body was waited for whole, and a 429 whose body stalled became "no answer"
    void aTooManyRequestsWhoseBodyStalls_isThrottledForItsRetryAfter_andNotAskedAgain() throws Exception {
        try (var stalling = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            var held = stallAfter(stalling,
                    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 1000\r\n\r\nslow down");
            var sink = sink(HttpSink.builder("http://127.0.0.1:" + stalling.getLocalPort() + "/busy")
                    .timeout(Duration.ofMillis(2_000)));

            var outcome = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                    () -> sink.publish(event("a")));

            assertThat(outcome).isEqualTo(Outcome.throttled(Duration.ofSeconds(7)));
            assertThat(held).as("asked once: the endpoint said when").hasSize(1);
            for (var socket : held) {
                socket.close();
            }
        }
    }

    @Test // the answer of attempt 1 was lost; attempt 2, same Idempotency-Key, hears "in use": not the event's fault
    void aConflictAfterAnAttemptWhoseAnswerWasLost_isRetry_notReject() {
        server.script("/idem", Response.of(200).delay(1_000), Response.of(409, "key in use"));
        var outcome = sink(to("/idem").timeout(Duration.ofMillis(300))).publish(event("a"));
        assertThat(outcome).isInstanceOfSatisfying(Outcome.Retry.class, r -> assertThat(r.reason()).contains("409")
                .contains("earlier attempt"));
        // and on the first attempt of a later publish: the earlier publish of the event timed out (or its instance
        // crashed) while its request ran on. Rejected, the event was dead-lettered though it may well have been applied;
        // a real conflict still ends at the listener's max-attempts
        server.script("/later", Response.of(200).delay(1_000), Response.of(409, "key in use"));
        var once = sink(to("/later").timeout(Duration.ofMillis(300)).retries(1, Duration.ofMillis(10))
                .outagePatience(Duration.ZERO));
        assertThat(once.publish(event("b"))).as("timed out").isInstanceOf(Outcome.Retry.class);
        assertThat(once.publish(event("b"))).as("the next publish hears 'in use'").isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("409"));
    }

    @Test
    void aPublishInterruptedBetweenAttempts_answersRetry_ratherThanThrowing() throws Exception {
        // the retry's pause, interrupted, threw a NullPointerException out of publish (a sink answers, it does not throw)
        server.script("/slow", Response.of(503), Response.of(503), Response.of(503));
        var sink = sink(to("/slow").retries(3, Duration.ofSeconds(2)).outagePatience(Duration.ZERO));
        var answer = new java.util.concurrent.atomic.AtomicReference<Object>();
        var caller = Thread.ofVirtual().start(() -> {
            try {
                answer.set(sink.publish(event("c")));
            } catch (Throwable e) {
                answer.set(e);
            }
        });
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(10), () -> !server.received.isEmpty())).isTrue();
        Thread.sleep(200); // in the pause before the second attempt
        caller.interrupt();
        assertThat(caller.join(Duration.ofSeconds(10))).isTrue();
        assertThat(answer.get()).isInstanceOf(Outcome.Retry.class);
    }

    @Test // maintenance announced: not asked again within 100 ms, attempts not spent before it ends
    void serviceUnavailable_withRetryAfter_isRetryAfterThatTime_withoutRetryingInProcess() {
        server.script("/maint", Response.of(503).header("Retry-After", "120"));
        assertThat(sink(to("/maint")).publish(event("a"))).as("an outage, waited out for as long as it said (a review)")
                .isEqualTo(Outcome.throttled(Duration.ofSeconds(120)));
        var outcome = sink(to("/maint").outagePatience(Duration.ZERO)).publish(event("a"));
        assertThat(outcome).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.after()).isEqualTo(Duration.ofSeconds(120)));
        assertThat(server.count("/maint")).isEqualTo(2);
    }

    @Test
    void tooManyRequests_withRetryAfterZero_waitsASecond_notAtOnce() {
        server.script("/busy0", Response.of(429).header("Retry-After", "0"));
        assertThat(sink(to("/busy0")).publish(event("a"))).isEqualTo(Outcome.throttled(Duration.ofSeconds(1)));
    }

    @Test // header names are case-insensitive: a configured content-type replaces the default instead of joining it
    void aConfiguredHeader_replacesTheDefaultOfTheSameName_inAnyCase(@TempDir Path dir) throws IOException {
        server.script("/ce", Response.of(200));
        sink(to("/ce").header("content-type", "application/cloudevents+json")).publish(event("a"));
        var got = server.received.getFirst().headers().entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase("Content-Type")).flatMap(e -> e.getValue().stream()).toList();
        assertThat(got).containsExactly("application/cloudevents+json");
        Path token = dir.resolve("token");
        Files.writeString(token, "t");
        assertThatThrownBy(() -> to("/ce").header("Authorization", "Basic x").bearerTokenFromFile(token).build())
                .hasMessageContaining("two");
    }

    @Test // two keys differing only in half a surrogate pair were one Idempotency-Key: the second dropped downstream
    void keysWithHalfASurrogatePair_areDistinctIdempotencyKeys() {
        server.script("/u", Response.of(200));
        var sink = sink(to("/u"));
        for (var key : List.of("a\uD800", "a\uD801", "a?")) {
            assertThat(sink.publish(new Event(key, "t", null, null, new byte[] {'{', '}'}, Map.of()))).isEqualTo(Outcome.done());
        }
        var keys = server.received.stream().map(r -> URLDecoder.decode(r.header("Idempotency-Key"), StandardCharsets.UTF_8))
                .toList();
        assertThat(keys).doesNotHaveDuplicates().hasSize(3);
    }

    @Test // a hundred CJK characters go as 900 encoded ones: over 1,024, Ferry's own ingest (and most servers) answered 400
    void aKeyTooLongForAHeader_goesAsItsHash_oneValuePerKey() {
        server.script("/long", Response.of(200));
        var sink = sink(to("/long"));
        String cjk = "photos/" + "文".repeat(120) + ".pdf";
        String ascii = "id-" + "x".repeat(2_000);
        for (var key : List.of(cjk, cjk, cjk + "2", ascii, "short-key")) {
            assertThat(sink.publish(new Event(key, "t", null, null, new byte[] {'{', '}'}, Map.of()))).isEqualTo(Outcome.done());
        }
        var keys = server.received.stream().map(r -> r.header("Idempotency-Key")).toList();
        assertThat(keys).allSatisfy(k -> assertThat(k.length()).isLessThanOrEqualTo(1_024));
        assertThat(keys.get(0)).startsWith("ferry-sha256:").hasSize(13 + 64).isEqualTo(keys.get(1));
        assertThat(keys.get(2)).startsWith("ferry-sha256:").isNotEqualTo(keys.get(0));
        assertThat(keys.get(3)).startsWith("ferry-sha256:").isNotEqualTo(keys.get(0));
        assertThat(keys.get(4)).isEqualTo("short-key");
    }

    @Test // an event choosing the host would choose who gets the payload and the bearer token
    void aPlaceholderBeforeThePath_isRefused() {
        assertThatThrownBy(() -> HttpSink.builder("https://{attr.tenant}/hook")).hasMessageContaining("before the path");
        assertThatThrownBy(() -> HttpSink.builder("https://api.{attr.tenant}.example.com/hook")).hasMessageContaining("before the path");
        assertThat(HttpSink.builder("https://api.example.com/{attr.tenant}/hook?t={type}")).isNotNull();
    }

    @Test
    void connectionRefused_isAnOutage_thenRetry() throws IOException {
        int closedPort;
        try (var probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        assertThat(sink(HttpSink.builder("http://127.0.0.1:" + closedPort + "/x")).publish(event("a")))
                .as("an outage, waited out").isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        var sink = sink(HttpSink.builder("http://127.0.0.1:" + closedPort + "/x").outagePatience(Duration.ZERO));
        assertThat(sink.publish(event("a"))).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("connection refused"));
    }

    @Test
    void conflicts_areTheEndpointUp_andDoNotOpenTheBreaker() {
        // a 409 is "this event's key is in use": the endpoint answered. Counted as a failure, a run of real conflicts
        // (a backlog replayed) opened the breaker, and healthy events to the sink were answered Throttled
        server.script("/conflicts", Response.of(409, "version conflict"));
        var sink = sink(to("/conflicts").breaker(2, Duration.ofSeconds(30)));
        for (int i = 0; i < 3; i++) {
            assertThat(sink.publish(event("c" + i))).isInstanceOf(Outcome.Retry.class);
        }
        assertThat(sink.breakerOpen()).isFalse();
        assertThat(sink.publish(event("c3"))).as("still called").isInstanceOf(Outcome.Retry.class);
        assertThat(server.count("/conflicts")).isEqualTo(4);
    }

    @Test // a review of the change above: a 409 closed the breaker and ended the streak, so an endpoint too slow to answer
          // in time — whose retries hear "key in use" — never opened it, and every event spent its attempts on it
    void aConflictAfterATimeout_countsAsAFailure_andAConflictAlone_endsNoStreak() {
        server.script("/behind", Response.of(200).delay(1_000), Response.of(409, "key in use"),
                Response.of(200).delay(1_000), Response.of(409, "key in use"));
        var slow = to("/behind").timeout(Duration.ofMillis(200)).retries(2, Duration.ofMillis(10))
                .breaker(2, Duration.ofSeconds(30)).build(); // not sink(...): it sets three attempts
        sinks.add(slow);
        assertThat(slow.publish(event("a"))).isInstanceOf(Outcome.Retry.class);
        assertThat(slow.publish(event("b"))).isInstanceOf(Outcome.Retry.class);
        assertThat(slow.breakerOpen()).as("two publishes timed out, then heard 'in use'").isTrue();

        server.script("/mixed", Response.of(500), Response.of(409, "version conflict"), Response.of(500));
        var mixed = to("/mixed").retries(1, Duration.ofMillis(10)).breaker(2, Duration.ofSeconds(30)).build();
        sinks.add(mixed);
        assertThat(mixed.publish(event("c"))).isInstanceOf(Outcome.Retry.class);
        assertThat(mixed.publish(event("d"))).as("a conflict alone").isInstanceOf(Outcome.Retry.class);
        assertThat(mixed.breakerOpen()).isFalse();
        assertThat(mixed.publish(event("e"))).isInstanceOf(Outcome.Retry.class);
        assertThat(mixed.breakerOpen()).as("the conflict between did not end the streak of failures").isTrue();

        // a half-open probe answered 409: the endpoint is up — the breaker closes (left half-open, it let one request
        // through at a time until some event got a 2xx)
        server.script("/probe", Response.of(500), Response.of(500), Response.of(409, "key in use"));
        var probed = to("/probe").retries(1, Duration.ofMillis(10)).breaker(2, Duration.ofMillis(300)).build();
        sinks.add(probed);
        probed.publish(event("f"));
        probed.publish(event("g"));
        assertThat(probed.breakerOpen()).isTrue();
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(5),
                () -> probed.publish(event("h")) instanceof Outcome.Retry r && r.reason().contains("409"))).isTrue();
        assertThat(probed.breakerOpen()).as("closed by the probe's answer").isFalse();
    }

    @Test
    void breaker_stopsCallingAnEndpointThatFailsEverything_thenProbesAndCloses() throws Exception {
        server.script("/dying", Response.of(500), Response.of(500), Response.of(500), Response.of(500), Response.of(500),
                Response.of(500), Response.of(200));
        var sink = sink(to("/dying").breaker(2, Duration.ofMillis(500)));
        assertThat(sink.publish(event("a"))).isInstanceOf(Outcome.Retry.class);
        assertThat(sink.publish(event("b"))).isInstanceOf(Outcome.Retry.class);
        assertThat(sink.breakerOpen()).isTrue();
        long calls = server.count("/dying");

        var held = sink.publish(event("c"));
        assertThat(held).isInstanceOf(Outcome.Throttled.class);
        assertThat(server.count("/dying")).as("not called while open").isEqualTo(calls);

        Thread.sleep(600);
        assertThat(sink.publish(event("d"))).as("the probe").isEqualTo(Outcome.done());
        assertThat(sink.breakerOpen()).isFalse();
    }

    @Test
    void concurrencyLimit_holdsRequestsToTheEndpoint() throws Exception {
        server.script("/slow", Response.of(200).delay(400));
        var sink = sink(to("/slow").maxConcurrent(2));
        var results = new ArrayList<CompletableFuture<Outcome>>();
        for (int i = 0; i < 6; i++) {
            int n = i;
            results.add(CompletableFuture.supplyAsync(() -> sink.publish(event("e" + n))));
        }
        for (var r : results) {
            assertThat(r.get(20, TimeUnit.SECONDS)).isIn(Outcome.done(), Outcome.throttled(Duration.ofSeconds(1)));
        }
        assertThat(server.maxConcurrent.get()).isLessThanOrEqualTo(2);
    }

    @Test
    void builder_refusesBadSettings_namingThem() {
        assertThatThrownBy(() -> HttpSink.builder("ftp://x")).hasMessageContaining("must start with http");
        assertThatThrownBy(() -> HttpSink.builder("http://x/{nope}")).hasMessageContaining("unknown placeholder {nope}");
        assertThatThrownBy(() -> HttpSink.builder("http://x").method("GET")).hasMessageContaining("method must be");
        assertThatThrownBy(() -> HttpSink.builder("http://x").bearerTokenFromEnv("FERRY_SURELY_UNSET_VARIABLE"))
                .hasMessageContaining("FERRY_SURELY_UNSET_VARIABLE");
        assertThatThrownBy(() -> HttpSink.builder("http://x").timeout(Duration.ZERO)).hasMessageContaining("timeout must be > 0");
    }

    // redirects (301 and 308 rejected, 303 done, 302 and 307 a refused credential): HttpSinkRedirectIT

    @Test // #16
    void headerValues_beyondVisibleAscii_arePercentEncoded_andDecodeToTheOriginal() {
        server.script("/s3", Response.of(200));
        var sink = sink(to("/s3"));
        String key = "photos/\u6587\u4ef6\n.pdf";     // a URL-decoded S3 key: 文件, and a newline
        String odd = " 50%+tax caf\u00e9 ";               // Latin-1, '%', '+' and spaces at both ends
        for (var e : List.of(new Event(key, "ObjectCreated:Put", null, null, new byte[] {'{', '}'}, Map.of()),
                new Event("doc-1#0", odd, null, null, new byte[] {'{', '}'}, Map.of()))) {
            assertThat(sink.publish(e)).as(e.key()).isEqualTo(Outcome.done());
        }
        assertThat(sink.publish(event("doc 2#0"))).isEqualTo(Outcome.done());

        var encoded = server.received.get(0);
        assertThat(encoded.header("X-Ferry-Header-Encoding")).isEqualTo("percent");
        assertThat(encoded.header("Idempotency-Key")).isEqualTo("photos/%E6%96%87%E4%BB%B6%0A.pdf");
        assertThat(URLDecoder.decode(encoded.header("Idempotency-Key"), StandardCharsets.UTF_8)).isEqualTo(key);
        assertThat(URLDecoder.decode(encoded.header("X-Ferry-Event-Type"), StandardCharsets.UTF_8)).isEqualTo("ObjectCreated:Put");

        var second = server.received.get(1);
        assertThat(second.header("X-Ferry-Header-Encoding")).isEqualTo("percent");
        assertThat(URLDecoder.decode(second.header("X-Ferry-Event-Type"), StandardCharsets.UTF_8)).isEqualTo(odd);
        assertThat(URLDecoder.decode(second.header("Idempotency-Key"), StandardCharsets.UTF_8)).isEqualTo("doc-1#0");

        var plain = server.received.get(2);
        assertThat(plain.header("X-Ferry-Header-Encoding")).as("only when needed").isNull();
        assertThat(plain.header("Idempotency-Key")).isEqualTo("doc 2#0");
    }

    @Test // #16
    void probeThatThrows_stillReportsToTheBreaker_soLaterCallsAreTriedAgain() throws Exception {
        server.script("/probe", Response.of(500), Response.of(500), Response.of(500), Response.of(200));
        var fail = new java.util.concurrent.atomic.AtomicBoolean();
        var token = new java.util.concurrent.atomic.AtomicReference<>("first");
        var sink = sink(to("/probe").bearerToken(() -> {
            if (fail.get()) {
                throw new IllegalStateException("the token's store is down (injected)");
            }
            return token.get();
        }).breaker(1, Duration.ofMillis(300)));
        assertThat(sink.publish(event("a"))).isInstanceOf(Outcome.Retry.class);
        assertThat(sink.breakerOpen()).isTrue();

        // the probe throws before it sends
        fail.set(true);
        Thread.sleep(400);
        assertThatThrownBy(() -> sink.publish(event("b"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("injected");

        fail.set(false);
        token.set("fresh");
        Outcome last = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            last = sink.publish(event("c"));
            if (last.equals(Outcome.done())) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(last).as("a new probe goes through once the cool-down passes, not Throttled for ever")
                .isEqualTo(Outcome.done());
        assertThat(sink.breakerOpen()).isFalse();
        assertThat(server.received.getLast().header("Authorization")).isEqualTo("Bearer fresh");
    }

    @Test // #16; and waited out as an outage first (a review: a rotation of a minute spent a quiet route's attempts)
    void credentialRefused_isRetriedWithBackoff_countedAndNamedACredentialProblem() {
        server.script("/rotating", Response.of(401, "token expired"));
        assertThat(sink(to("/rotating")).publish(event("a"))).as("waited out")
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        for (int status : new int[] {401, 403}) {
            server.script("/auth" + status, Response.of(status, "token expired"));
            var sink = sink(to("/auth" + status).outagePatience(Duration.ZERO));
            assertThat(sink.publish(event("a"))).as("HTTP %d", status).isInstanceOfSatisfying(Outcome.Retry.class,
                    r -> assertThat(r.reason()).contains("HTTP " + status).contains("credential").contains("token expired"));
            assertThat(sink.authFailures()).isEqualTo(1);
            assertThat(server.count("/auth" + status)).as("not hammered in process: the listener's backoff spaces it").isEqualTo(1);
        }
    }

    @Test // #16
    void credentialRefused_withOnAuthFailureReject_isRejected() {
        server.script("/forbidden", Response.of(403));
        var sink = sink(to("/forbidden").onAuthFailure(HttpSink.AuthFailures.REJECT));
        assertThat(sink.publish(event("a"))).isInstanceOfSatisfying(Outcome.Reject.class,
                r -> assertThat(r.reason()).contains("HTTP 403").contains("credential"));
        assertThat(sink.authFailures()).isEqualTo(1);
    }

    @Test // #16
    void failureReasons_showOnlySchemeHostAndPort_neverUserInfoPathOrQuery() throws IOException {
        server.script("/hooks/SECRET", Response.of(503, "down"), Response.of(503, "down"), Response.of(503, "down"),
                Response.of(400, "bad"));
        int port = server.uri("").getPort();
        var sink = sink(HttpSink.builder("http://user:pw@127.0.0.1:" + port + "/hooks/SECRET?token=abc")
                .outagePatience(Duration.ZERO)); // the reasons of the failures themselves, not an outage's wait
        int closedPort;
        try (var probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        var refused = sink(HttpSink.builder("http://user:pw@127.0.0.1:" + closedPort + "/hooks/SECRET?token=abc")
                .outagePatience(Duration.ZERO));

        var reasons = new ArrayList<String>();
        for (var outcome : List.of(sink.publish(event("a")), sink.publish(event("b")), refused.publish(event("c")))) {
            reasons.add(switch (outcome) {
                case Outcome.Retry r -> r.reason();
                case Outcome.Reject r -> r.reason();
                default -> throw new AssertionError("expected a failure, was " + outcome);
            });
        }
        assertThat(server.count("/hooks/SECRET")).as("the requests themselves went to the full url").isEqualTo(4);
        assertThat(reasons.get(0)).startsWith("POST http://127.0.0.1:" + port + "/\u2026 answered HTTP 503");
        assertThat(reasons.get(1)).startsWith("POST http://127.0.0.1:" + port + "/\u2026 answered HTTP 400");
        assertThat(reasons.get(2)).startsWith("POST http://127.0.0.1:" + closedPort + "/\u2026: connection refused");
        reasons.add(sink.name());
        assertThat(reasons).allSatisfy(r -> assertThat(r).doesNotContain("pw").doesNotContain("SECRET").doesNotContain("abc"));
    }

    @Test // #16
    void client_thatFollowsRedirects_isRefused() {
        try (var following = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()) {
            assertThatThrownBy(() -> HttpSink.builder("http://x").client(following)).hasMessageContaining("must not follow redirects");
        }
    }

    /** The sink promises every transport keeps. */
    @Nested
    class Contract extends SinkContract {
        @Override
        protected SinkFixture newFixture() {
            server.script("/contract", Response.of(202));
            var sink = HttpSink.builder(server.uri("/contract").toString()).build();
            return new SinkFixture() {
                @Override
                public HttpSink sink() {
                    return sink;
                }

                @Override
                public List<String> received(int count) {
                    return server.received.stream().filter(r -> r.path().equals("/contract")).map(ScriptedServer.Received::body).toList();
                }

                @Override
                public void close() {
                    sink.close();
                }
            };
        }
    }
}
