package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.ferry.adapters.http.ScriptedServer.Response;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.testing.Await;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * The HTTP sink against endpoints slower than its timeout, on 127.0.0.1: one that answers past it (an
 * outage), one whose body stalls after its status line, and one that honours Idempotency-Key, answering
 * 409 "key in use" while the request that timed out runs on — each remembered at its own target.
 */
class HttpSinkSlowEndpointIT extends ScriptedSinkFixture {

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

    @Test // a review: the permit came back with a 2xx's status line, while its connection drained the body for the timeout
          // (on HTTP/1.1 it goes back to the pool only when its body ends): against an endpoint whose 200 never finished
          // its body, every publish opened a connection of its own — rate × timeout of them, not maxConcurrent
    void aBodyThatStallsAfterA200_keepsItsPermit_soNoMoreConnectionsAreOpenThanMaxConcurrent() throws Exception {
        try (var stalling = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                var connections = new HeldConnections(stalling, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")) {
            var sink = sink(HttpSink.builder("http://127.0.0.1:" + stalling.getLocalPort() + "/stall")
                    .maxConcurrent(1).timeout(Duration.ofSeconds(10)));

            var outcomes = new ArrayList<Outcome>();
            for (int i = 0; i < 5; i++) { // one after another, each well within the first body's 10 s
                var next = event("e" + i);
                outcomes.add(org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5),
                        () -> sink.publish(next)));
            }

            assertThat(outcomes.getFirst()).as("the endpoint took it: done at its status line").isEqualTo(Outcome.done());
            assertThat(connections.mostOpenAtOnce()).as("connections open at once while the first body is unfinished")
                    .isEqualTo(1);
            assertThat(outcomes.subList(1, outcomes.size())).as("told to hold back, not sent: the first body has the permit")
                    .containsOnly(Outcome.throttled(Duration.ofSeconds(1)));
        }
    }

    @Test // and the permit a stalled body holds comes back when the body is given up at the timeout: not kept for good
    void aBodyThatStallsAfterA200_givesItsPermitBack_whenItIsGivenUpAtTheTimeout() throws Exception {
        try (var stalling = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                var connections = new HeldConnections(stalling, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")) {
            var sink = sink(HttpSink.builder("http://127.0.0.1:" + stalling.getLocalPort() + "/stall")
                    .maxConcurrent(1).timeout(Duration.ofSeconds(3)));

            assertThat(sink.publish(event("a"))).isEqualTo(Outcome.done());
            assertThat(sink.publish(event("b"))).as("the first body, 3 s from its end, has the permit")
                    .isEqualTo(Outcome.throttled(Duration.ofSeconds(1)));
            assertThat(Await.until(Duration.ofSeconds(15), () -> sink.publish(event("c")).equals(Outcome.done())))
                    .as("the permit is back once the first body is given up").isTrue();
            assertThat(connections.accepted()).as("a second connection, for the event sent once the permit was back")
                    .isEqualTo(2);
        }
    }

    @Test // a review: slowed by 2xx bodies that stall, the sink answered Throttled (1 s) and said nothing — no warning,
          // nothing in holdingBack, its health up — while it took one event a timeout
    void bodiesGivenUpAtTheTimeout_areWarnedOfOnceAMinute_andThePlacesTheyHoldAreSaid() throws Exception {
        var warnings = new CopyOnWriteArrayList<String>();
        var handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel() == Level.WARNING && String.valueOf(record.getMessage()).contains("2xx's body")) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(HttpSink.class.getName()); // held: java.util.logging keeps its loggers weakly
        log.setLevel(Level.WARNING); // the tests' logging.properties lets only SEVERE through
        log.addHandler(handler);
        log.setUseParentHandlers(false);
        try (var stalling = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                var connections = new HeldConnections(stalling, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")) {
            String target = "http://127.0.0.1:" + stalling.getLocalPort() + Redact.MORE;
            var sink = sink(HttpSink.builder("http://127.0.0.1:" + stalling.getLocalPort() + "/stall/secret")
                    .maxConcurrent(1).timeout(Duration.ofSeconds(1)));

            assertThat(sink.publish(event("a"))).isEqualTo(Outcome.done());
            assertThat(sink.holdingBack()).as("a body draining, none given up yet: a healthy sink's bodies drain too")
                    .isEmpty();
            assertThat(Await.until(Duration.ofSeconds(10), () -> !warnings.isEmpty())).as("warned of at the give-up")
                    .isTrue();
            assertThat(warnings.getFirst()).contains("a 2xx's body not ended within the timeout: its place among "
                    + "max-concurrent held until then").contains(target).doesNotContain("secret");

            assertThat(sink.publish(event("b"))).as("the place given back at the give-up").isEqualTo(Outcome.done());
            assertThat(sink.holdingBack()).as("while b's body holds it, a body given up a moment ago")
                    .hasValueSatisfying(why -> assertThat(why).contains("1 of 1 places among max-concurrent")
                            .contains(target).doesNotContain("secret"));
            assertThat(sink.holdingBackInBrief()).as("health").isPresent();

            assertThat(Await.until(Duration.ofSeconds(10), () -> sink.holdingBack().isEmpty()))
                    .as("not said once b's body is given up too: no place held").isTrue();
            Thread.sleep(500); // b's give-up is counted just after its place is back: a warning would be written by now
            assertThat(warnings).as("at most once a minute: b's given up within it").hasSize(1);
            assertThat(connections.accepted()).isEqualTo(2);
        } finally {
            log.removeHandler(handler);
            log.setLevel(null);
            log.setUseParentHandlers(true);
        }
    }

    /**
     * The sink's permit and the bodies of its 2xx answers, in every order their ends can come: given back exactly once —
     * twice widened maxConcurrent for good, not at all narrowed it for good (a publish that threw after the hand-over
     * too: the body's timeout gives it back).
     */
    @Test
    void aPermitPassedToA2xxBody_isGivenBackExactlyOnce_whicheverEndComesFirst() throws InterruptedException {
        var places = places(1);

        var permit = taken(places); // a short body, ended before the publish woke to its status line
        var body = permit.bodies(Duration.ofSeconds(30)).apply(status(200));
        body.onSubscribe(NO_SUBSCRIPTION);
        body.onComplete();
        permit.passedToItsBody(null);
        permit.giveBackUnlessPassedOn();
        assertThat(places.free()).as("ended before the hand-over").isEqualTo(1);

        permit = taken(places); // passed on, then the publish's end, then the body's end (and more of them)
        body = permit.bodies(Duration.ofSeconds(30)).apply(status(200));
        body.onSubscribe(NO_SUBSCRIPTION);
        permit.passedToItsBody(null);
        permit.giveBackUnlessPassedOn();
        assertThat(places.free()).as("the body has it while it drains").isZero();
        body.onComplete();
        assertThat(places.free()).as("given back when the body ends").isEqualTo(1);
        body.onError(new IOException("closed under it"));
        assertThat(places.free()).as("an end after the end").isEqualTo(1);

        permit = taken(places); // attempt 1 timed out (its 200 came too late), attempt 2 answered 503
        var late = permit.bodies(Duration.ofSeconds(30));
        var answered = permit.bodies(Duration.ofSeconds(30));
        body = late.apply(status(200));
        answered.apply(status(503));
        permit.passedToItsBody(null);
        body.onSubscribe(NO_SUBSCRIPTION);
        body.onComplete();
        assertThat(places.free()).as("a given-up attempt's body gives back nothing").isZero();
        permit.giveBackUnlessPassedOn();
        assertThat(places.free()).as("the publish gives it back").isEqualTo(1);

        permit = taken(places); // passed on, then the publish threw (an Error); the body not subscribed yet
        body = permit.bodies(Duration.ofMillis(200)).apply(status(200));
        permit.passedToItsBody(null);
        permit.giveBackUnlessPassedOn(); // its finally
        assertThat(Await.until(Duration.ofSeconds(5), () -> places.free() == 1))
                .as("given back at the body's timeout all the same").isTrue();
        var cancelled = new AtomicBoolean();
        body.onSubscribe(cancelling(cancelled));
        assertThat(cancelled).as("subscribed after its timeout: given up at once, not read without a permit").isTrue();
        assertThat(places.free()).as("and not given back again").isEqualTo(1);
    }

    @Test // a review: the give-up was handed to the default async executor — thread-per-task where the common pool's
          // parallelism is below 2 (a 2-CPU container), and a thread that could not be started (OutOfMemoryError at a
          // pids limit) lost it without a word: the body never given up, its permit held for good, and with
          // max-concurrent such bodies every later publish was told to hold back until a restart
    void aStalled2xxBody_isGivenUpOnTheJdksDelayThreadItself_noThreadStartedThatCouldFail() throws Exception {
        var delayThread = new CompletableFuture<Thread>(); // the one thread that runs delayed tasks, as the sink's are
        CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS, Runnable::run)
                .execute(() -> delayThread.complete(Thread.currentThread()));
        var places = places(1);
        var permit = taken(places);
        var body = permit.bodies(Duration.ofMillis(300)).apply(status(200));
        var cancelledOn = new CompletableFuture<Thread>();
        body.onSubscribe(new Flow.Subscription() { // a body that never ends: its bytes never come
            @Override
            public void request(long n) {
            }

            @Override
            public void cancel() {
                cancelledOn.complete(Thread.currentThread());
            }
        });
        permit.passedToItsBody(null);
        permit.giveBackUnlessPassedOn();
        assertThat(places.free()).as("the stalled body has the place").isZero();

        assertThat(cancelledOn.get(10, TimeUnit.SECONDS)).as("given up on the delay thread itself, not handed to a "
                + "thread that must be started").isSameAs(delayThread.get(10, TimeUnit.SECONDS));
        assertThat(Await.until(Duration.ofSeconds(5), () -> places.free() == 1)).as("and its place given back")
                .isTrue();
    }

    /** A sink's {@code max} places, as it makes them. */
    private static SinkPlaces places(int max) {
        return new SinkPlaces(max, "t", "http://127.0.0.1/t", Duration.ofSeconds(30));
    }

    /** A publish's permit, taken from {@code places} as the sink takes it. */
    private static SinkPermit taken(SinkPlaces places) throws InterruptedException {
        var permit = new SinkPermit(places);
        assertThat(places.take(Duration.ZERO)).as("the permit is free").isTrue();
        return permit;
    }

    private static java.net.http.HttpResponse.ResponseInfo status(int status) {
        return new java.net.http.HttpResponse.ResponseInfo() {
            @Override
            public int statusCode() {
                return status;
            }

            @Override
            public java.net.http.HttpHeaders headers() {
                return java.net.http.HttpHeaders.of(java.util.Map.of(), (name, value) -> true);
            }

            @Override
            public java.net.http.HttpClient.Version version() {
                return java.net.http.HttpClient.Version.HTTP_1_1;
            }
        };
    }

    private static final Flow.Subscription NO_SUBSCRIPTION = cancelling(new AtomicBoolean());

    private static Flow.Subscription cancelling(AtomicBoolean cancelled) {
        return new Flow.Subscription() {
            @Override
            public void request(long n) {
            }

            @Override
            public void cancel() {
                cancelled.set(true);
            }
        };
    }

    /**
     * A server that answers every connection with {@code start} — a status line, headers and the start of a body that
     * promises more — and then nothing, counting the connections the client holds open: one is open until the client
     * closes it (its read ends). Closed, it closes them all (the client's bodies end: the sink's close does not wait).
     */
    private static final class HeldConnections implements AutoCloseable {
        private final List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final AtomicInteger open = new AtomicInteger();
        private final AtomicInteger mostAtOnce = new AtomicInteger();

        HeldConnections(ServerSocket server, String start) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        var socket = server.accept();
                        sockets.add(socket);
                        // counted before it is answered: by the time the client has its answer, the count has it
                        mostAtOnce.accumulateAndGet(open.incrementAndGet(), Math::max);
                        Thread.ofVirtual().start(() -> answerAndHold(socket, start));
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
        }

        private void answerAndHold(java.net.Socket socket, String start) {
            try {
                socket.getOutputStream().write(start.getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                var in = socket.getInputStream();
                var request = new byte[4096];
                while (in.read(request) >= 0) { // the request, then nothing until the client closes the connection
                }
            } catch (IOException gone) {
                // reset by the client, or closed by the test
            } finally {
                open.decrementAndGet();
            }
        }

        int mostOpenAtOnce() {
            return mostAtOnce.get();
        }

        int accepted() {
            return sockets.size();
        }

        @Override
        public void close() throws IOException {
            for (var socket : sockets) {
                socket.close();
            }
        }
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
    void aConflictAfterAnAttemptWhoseAnswerWasLost_pastTheOutagePatience_isRetry_notReject() {
        // within the patience it is waited out (below); past it, its attempts are spent like the outage's
        server.script("/idem", Response.of(200).delay(1_000), Response.of(409, "key in use"));
        var outcome = sink(to("/idem").timeout(Duration.ofMillis(300)).outagePatience(Duration.ZERO)).publish(event("a"));
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

    @Test // a review: a CDN's 524 (the origin took the request, no answer within 100 s) was not an attempt left unanswered:
          // the 409s "key in use" after it spent the event's attempts while the endpoint was still at work on it
    void aConflictAfterACdnsTimeout_isWaitedOut() {
        server.script("/cdn", Response.of(524, "a timeout occurred"), Response.of(409, "key in use"));
        var sink = sink(to("/cdn").retries(2, Duration.ofMillis(10)));
        assertThat(sink.publish(event("c"))).isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(server.count("/cdn")).isEqualTo(2);
    }

    @Test // a review of the fix: a 521 (the CDN got no connection to the origin) reached nothing: a real conflict after it
          // was waited out for the whole patience, its group held
    void aConflictAfterACdnsOriginDown_isTheEventsOwn() {
        server.script("/down", Response.of(521, "web server is down"), Response.of(409, "conflict"));
        var sink = sink(to("/down").retries(2, Duration.ofMillis(10)));
        assertThat(sink.publish(event("d"))).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("409"));
    }

    @Test // a review: a gateway's 504 or 524 with Retry-After (it gave up waiting, the origin took the request) was an
          // answer, nothing taken: the 409s "key in use" after it spent the event's attempts while the origin ran on
    void aConflictAfterAGatewaysTimeoutWithRetryAfter_isWaitedOut() {
        for (int status : new int[] {504, 524}) {
            String path = "/gw" + status;
            server.script(path, Response.of(status, "timed out").header("Retry-After", "1"),
                    Response.of(409, "key in use"));
            var sink = sink(to(path));
            assertThat(sink.publish(event("g"))).as("%s with Retry-After: 1", status)
                    .isEqualTo(Outcome.throttled(Duration.ofSeconds(1)));
            assertThat(sink.publish(event("g"))).as("'in use' after %s: the origin may be at work on it still", status)
                    .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
            assertThat(server.count(path)).isEqualTo(2);
        }
    }

    @Test // a review: the connect timeout was 5 s whatever the request's timeout: a connection that never came, cut by
          // a shorter timeout, was "no answer" — a request that reached the endpoint, a real 409 after it waited out
    void aConnectionThatNeverComes_isNoConnection_notAnAttemptLeftUnanswered() throws Exception {
        try (var full = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            var queued = fillAcceptQueue(full);
            try {
                var sink = sink(HttpSink.builder("http://127.0.0.1:" + full.getLocalPort() + "/k/{key}")
                        .timeout(Duration.ofSeconds(1)).outagePatience(Duration.ZERO));
                var outcome = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30),
                        () -> sink.publish(event("a")));
                assertThat(outcome).isInstanceOfSatisfying(Outcome.Retry.class,
                        r -> assertThat(r.reason()).contains("no connection within"));
            } finally {
                for (var socket : queued) {
                    socket.close();
                }
            }
        }
    }

    /**
     * Connections to {@code server}, never accepted, until its accept queue is full: Linux drops a SYN to a full queue
     * (since 4.9), so a connection to it never comes — a plain connect times out, and the filling stops there.
     */
    private static List<java.net.Socket> fillAcceptQueue(ServerSocket server) throws IOException {
        var queued = new ArrayList<java.net.Socket>();
        for (int i = 0; i < 16; i++) {
            var socket = new java.net.Socket();
            try {
                socket.connect(server.getLocalSocketAddress(), 500);
                queued.add(socket);
            } catch (java.net.SocketTimeoutException full) {
                socket.close();
                return queued;
            }
        }
        for (var socket : queued) {
            socket.close();
        }
        throw new AssertionError("the accept queue never filled: " + queued.size() + " connections made");
    }

    /** As a listener of max-attempts 2 counts them: the second {@code Retry} would dead-letter the event. */
    private static final int MAX_ATTEMPTS = 2;

    @Test // a review: an endpoint that honours Idempotency-Key (Stripe, the IETF draft) took 40 s for an event, the sink's
          // timeout was 10 s: the retry heard 409 "key in use", and so did every later publish, each spending an attempt —
          // the event was dead-lettered though the first request then succeeded (under skip, its group's next event went
          // ahead of it)
    void aConflictWhileTheRequestThatTimedOutRunsOn_isWaitedOut_andTheEventIsDoneOnceThatRequestEnds() {
        var endpoint = new SlowIdempotentEndpoint();
        server.handle("/pay", endpoint);
        var sink = to("/pay").timeout(Duration.ofMillis(300)).retries(2, Duration.ofMillis(10)).build(); // not sink(...)
        sinks.add(sink);
        var answers = new ArrayList<Outcome>();
        try {
            answers.add(sink.publish(event("inv-1001"))); // times out, then hears "in use"
            for (int i = 0; i < 3; i++) {
                answers.add(sink.publish(event("inv-1001"))); // published again, as the listener does after each wait
            }
        } finally {
            endpoint.finish.countDown();
        }
        assertThat(answers).as("waited out while the first request runs on: no attempt spent")
                .containsOnly(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));

        // the first request has ended (applied): published again until done, as the listener would, counting its attempts
        var retries = new AtomicInteger();
        assertThat(Await.until(Duration.ofSeconds(10), () -> {
            var outcome = sink.publish(event("inv-1001"));
            if (outcome instanceof Outcome.Retry) {
                retries.incrementAndGet();
            }
            return outcome.equals(Outcome.done()) || retries.get() >= MAX_ATTEMPTS;
        })).isTrue();
        assertThat(retries.get()).as("attempts spent: under max-attempts, not dead-lettered").isLessThan(MAX_ATTEMPTS);
        assertThat(endpoint.applied).isTrue();
    }

    @Test // a review: a 429 or a 500 says nothing of the earlier request still at work, yet made its 409s spend attempts
    void aConflictAfterATooManyRequestsOrAServerError_isStillWaitedOut_whileTheRequestThatTimedOutRunsOn() {
        for (var between : List.of(Response.of(429).header("Retry-After", "1"), Response.of(500))) {
            String path = "/k" + between.status();
            server.script(path, Response.of(200).delay(1_000), between, Response.of(409, "key in use"));
            var sink = to(path).timeout(Duration.ofMillis(300)).retries(2, Duration.ofMillis(10)).build(); // not sink(...)
            sinks.add(sink);
            assertThat(sink.publish(event("a"))).as("timed out, then %s", between.status()).isNotEqualTo(Outcome.done());
            assertThat(sink.publish(event("a"))).as("'in use' after %s: the first request runs on", between.status())
                    .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        }
    }

    @Test // a review: an interrupt while the request was under way was taken for an answer — the request forgotten, its 409s
          // spent as attempts, the outage ended and the breaker told of a failure
    void anAttemptInterruptedWhileItsRequestIsUnderWay_isAnUnansweredRequest_itsLater409WaitedOut() throws Exception {
        server.script("/int", Response.of(200).delay(3_000), Response.of(409, "key in use"));
        var sink = to("/int").timeout(Duration.ofSeconds(10)).retries(2, Duration.ofMillis(10)).build(); // not sink(...)
        sinks.add(sink);
        var answer = new java.util.concurrent.CompletableFuture<Outcome>();
        var publishing = Thread.ofVirtual().start(() -> answer.complete(sink.publish(event("a"))));
        assertThat(Await.until(Duration.ofSeconds(5), () -> server.count("/int") == 1)).as("the request reached the endpoint")
                .isTrue();
        publishing.interrupt(); // a handler's timeout
        assertThat(answer.get(5, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("interrupted"));
        assertThat(sink.publish(event("a"))).as("'in use': the interrupted request runs on")
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
    }

    @Test // a 409 is waited out only for the event whose own request went unanswered, and only until it is answered
    void aConflict_withNoUnansweredAttemptOfItsEvent_isRetry_evenWhileAnotherEventWaitsOutItsOwn() {
        server.script("/k/a", Response.of(200).delay(1_000), Response.of(200), Response.of(409, "version conflict"));
        server.script("/k/b", Response.of(409, "version conflict"));
        var sink = HttpSink.builder(server.uri("").toString() + "/k/{key}").timeout(Duration.ofMillis(300))
                .retries(1, Duration.ofMillis(10)).build();
        sinks.add(sink);
        assertThat(sink.publish(event("a"))).as("timed out: an outage").isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(sink.publish(event("b"))).as("another event's conflict").isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("409"));
        assertThat(sink.publish(event("a"))).as("answered at last").isEqualTo(Outcome.done());
        assertThat(sink.publish(event("a"))).as("a conflict after that answer").isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("409"));
    }

    @Test // a refused connection sent nothing: a 409 after it is a conflict, not an earlier request still at work
    void aConflictAfterARefusedConnection_isRetry_notAnOutageWaitedOut() throws Exception {
        int port;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        var sink = HttpSink.builder("http://127.0.0.1:" + port + "/k/{key}").timeout(Duration.ofSeconds(5))
                .retries(1, Duration.ofMillis(10)).build();
        sinks.add(sink);
        assertThat(sink.publish(event("a"))).as("nothing listens yet").isNotEqualTo(Outcome.done());

        var api = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", port), 16);
        api.createContext("/", ex -> {
            byte[] body = "version conflict".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(409, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        api.start();
        try {
            assertThat(sink.publish(event("a"))).as("a conflict: an attempt spent").isInstanceOfSatisfying(Outcome.Retry.class,
                    r -> assertThat(r.reason()).contains("409"));
        } finally {
            api.stop(0);
        }
    }

    @Test // a second review: a 401 or a 503 with Retry-After was answered (nothing taken): a 409 after it is a conflict
    void aConflictAfterAnAnsweredRefusal_isRetry_notAnOutageWaitedOut() {
        server.script("/k/a", Response.of(401), Response.of(409, "version conflict"));
        server.script("/k/b", Response.of(503).header("Retry-After", "1"), Response.of(409, "version conflict"));
        var sink = HttpSink.builder(server.uri("").toString() + "/k/{key}").timeout(Duration.ofSeconds(5))
                .retries(1, Duration.ofMillis(10)).build();
        sinks.add(sink);
        for (String key : new String[] {"a", "b"}) {
            assertThat(sink.publish(event(key))).as("refused with an answer").isNotEqualTo(Outcome.done());
            assertThat(sink.publish(event(key))).as("then a conflict: " + key).isInstanceOfSatisfying(Outcome.Retry.class,
                    r -> assertThat(r.reason()).contains("409"));
        }
    }

    @Test // a review: unanswered requests were remembered by the event's key alone — with a url of {attr.partner}, another
          // source's event of that key, done at its own receiver, ended this one's request still at work: its 409 spent an
          // attempt, and the event could reach the DLQ though its receiver had it
    void anotherTargetsAnswer_toTheSameKey_doesNotEndTheRequestStillAtWorkHere() {
        server.script("/p/a", Response.of(200).delay(1_000), Response.of(409, "key in use"));
        server.script("/p/b", Response.of(200));
        var sink = HttpSink.builder(server.uri("").toString() + "/p/{attr.partner}").timeout(Duration.ofMillis(200))
                .retries(1, Duration.ofMillis(10)).build(); // not sink(...): one attempt a publish
        sinks.add(sink);
        assertThat(sink.publish(forPartner("a", "k"))).as("no answer within the timeout: an outage")
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(sink.publish(forPartner("b", "k"))).as("the same key at another receiver").isEqualTo(Outcome.done());
        assertThat(sink.publish(forPartner("a", "k"))).as("'in use' at a: its first request runs on, no attempt spent")
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(server.count("/p/a")).isEqualTo(2);
    }

    @Test // a review: outages were timed by the event's key alone — one receiver down past the patience made the same
          // key's first failure at another Retry at once, an attempt spent on an outage never waited out
    void anOutagePastThePatienceAtOneTarget_doesNotCutShortTheSameKeysAtAnother() throws InterruptedException {
        server.script("/p/a", Response.of(502));
        server.script("/p/b", Response.of(200), Response.of(502));
        var patience = Duration.ofMillis(300);
        var sink = HttpSink.builder(server.uri("").toString() + "/p/{attr.partner}").outagePatience(patience)
                .retries(1, Duration.ofMillis(10)).build(); // not sink(...): one attempt a publish
        sinks.add(sink);
        assertThat(sink.publish(forPartner("a", "k"))).as("a is down").isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        Thread.sleep(patience.toMillis() + 200);
        assertThat(sink.publish(forPartner("a", "k"))).as("a down past the patience").isInstanceOf(Outcome.Retry.class);
        assertThat(sink.publish(forPartner("b", "x"))).as("b takes events meanwhile").isEqualTo(Outcome.done());
        assertThat(sink.publish(forPartner("b", "k"))).as("b's first failure of k: its own outage, waited out")
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(sink.publish(forPartner("a", "k"))).as("and a's still past the patience").isInstanceOf(Outcome.Retry.class);
    }

    @Test // a review of the fix: the run of failures was still the whole sink's, ended only by a success anywhere — a
          // down past the patience and b quiet, b's first failure was Retry at once ("unreachable for 5xx ms"): dead-
          // lettered early, though b would be back within a minute. The test above passed only for b's Done between
    void anotherReceiversOutagePastThePatience_withNothingWorkingBetween_doesNotCutShortTheFirstFailureHere()
            throws InterruptedException {
        server.script("/p/a", Response.of(502));
        server.script("/p/b", Response.of(502));
        var patience = Duration.ofMillis(300);
        var sink = HttpSink.builder(server.uri("").toString() + "/p/{attr.partner}").outagePatience(patience)
                .retries(1, Duration.ofMillis(10)).build(); // not sink(...): one attempt a publish
        sinks.add(sink);
        assertThat(sink.publish(forPartner("a", "k"))).as("a is down")
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        Thread.sleep(patience.toMillis() + 200);
        assertThat(sink.publish(forPartner("a", "k"))).as("a down past the patience").isInstanceOf(Outcome.Retry.class);
        assertThat(sink.publish(forPartner("b", "x"))).as("b's first failure: its own outage, just begun")
                .isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));

        // a url that differs by the event's key alone is one receiver: down past the patience, a new event's first
        // failure spends an attempt at once (each waited out for a patience of its own would hold the intake that long)
        server.script("/k/a", Response.of(502));
        server.script("/k/b", Response.of(502));
        var keyed = HttpSink.builder(server.uri("").toString() + "/k/{key}").outagePatience(patience)
                .retries(1, Duration.ofMillis(10)).build();
        sinks.add(keyed);
        assertThat(keyed.publish(event("a"))).isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        Thread.sleep(patience.toMillis() + 200);
        assertThat(keyed.publish(event("b"))).as("the endpoint down past the patience")
                .isInstanceOf(Outcome.Retry.class);
    }

    /** The event {@code key} of the source whose receiver is {@code partner}: the url's {@code {attr.partner}}. */
    private static Event forPartner(String partner, String key) {
        return new Event(key, "AssignmentSubmitted", null, "HIT 1",
                ("{\"key\":\"" + key + "\"}").getBytes(StandardCharsets.UTF_8), Map.of("partner", partner));
    }

    /**
     * An endpoint that honours Idempotency-Key as Stripe's does: the first request is at work until the test lets it
     * end (applied, 200), a request meanwhile hears 409 "key in use", and one after it the first one's answer again.
     */
    private static final class SlowIdempotentEndpoint implements HttpHandler {
        final CountDownLatch finish = new CountDownLatch(1);
        private final AtomicBoolean first = new AtomicBoolean(true);
        volatile boolean applied;

        @Override
        public void handle(HttpExchange ex) throws IOException {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                if (first.compareAndSet(true, false)) {
                    try {
                        finish.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    applied = true; // its client gave up long ago: the answer goes nowhere
                }
                byte[] body = (applied ? "{\"id\":\"pay-1\"}" : "key in use").getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(applied ? 200 : 409, body.length);
                ex.getResponseBody().write(body);
            }
        }
    }
}
