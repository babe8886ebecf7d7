package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.http.IngestRequest.Item;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A review: a throw (an OutOfMemoryError, a large batch under heap pressure) as a request's events were set to hold
 * its body's bytes — its capacity taken, its events not queued yet — kept both for good: the request answered 500,
 * every later one 429 "back-pressure" until a restart, the shared budget short of the body. Now both are given back.
 * A real server on 127.0.0.1 around an endpoint and a handout built as HttpSource builds them, the events' holds kept
 * in a set of the test's.
 *
 * <p>And a throw once the events were queued, where their answer is built ({@link IngestAnswers#answerFault}): answered
 * 500 "internal error", a client's retry without a key sent them again, and each ran twice. A source with a listener.
 *
 * <p>And a throw as the events are queued (a ready queue of the test's, {@link FailingAdds}), outside every guard: with
 * none queued, the signature stayed remembered and the resend was refused 401 "replayed"; with one queued and run, the
 * 500 "internal error" had it sent again to run twice.
 */
class IngestHoldFaultIT extends IngestEndpointFixture {

    private static final int CAPACITY = 10;

    /** The events' holds; its next add throws once told to. */
    static final class FailingSet extends CopyOnWriteArraySet<Runnable> {
        final AtomicBoolean failNextAdd = new AtomicBoolean();

        @Override
        public boolean add(Runnable hold) {
            if (failNextAdd.getAndSet(false)) {
                throw new OutOfMemoryError("test");
            }
            return super.add(hold);
        }
    }

    @Test
    void aHoldThatThrows_givesTheCapacityAndTheBytesBack_andTheNextRequestIsTakenIn() throws Exception {
        var holds = new FailingSet();
        var ready = new LinkedBlockingQueue<Item>();
        var capacity = new Semaphore(CAPACITY);
        // the process's shared budget (maxUploadBytes -1), as a source that sets none of its own
        var endpoint = new IngestEndpoint(new IngestEndpoint.Settings("hold-fault", "/events", IngestAuth.none(),
                1 << 20, 100, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5), Clock.systemUTC(),
                8, 8, 100, -1), ready, capacity, new HeldByEvents(holds));
        var handout = new Handout("hold-fault", ready, capacity, endpoint);
        var server = IngestServer.start("hold-fault", "127.0.0.1", 0, null, Duration.ofSeconds(10), endpoint);
        opened.add(server::stop);
        var uri = URI.create("http://127.0.0.1:" + server.port() + "/events");
        int before = Uploads.sharedKibLeft();

        holds.failNextAdd.set(true);
        var batch = IntStream.range(0, CAPACITY).mapToObj(i -> "{\"id\":\"e" + i + "\",\"type\":\"Good\"}")
                .collect(Collectors.joining(",", "[", "]"));
        var failed = send(uri, batch);

        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(500);
        // both given back before the 500 is written: no wait needed
        assertThat(capacity.availablePermits()).as("the batch's capacity given back").isEqualTo(CAPACITY);
        assertThat(Uploads.sharedKibLeft()).as("the body's bytes given back to the shared budget").isEqualTo(before);
        assertThat(holds).as("no hold kept").isEmpty();

        var acked = CompletableFuture.supplyAsync(() -> { // the listener's part: the next request's event, done
            var polled = handout.poll(new PollRequest(10, Duration.ofSeconds(5), Duration.ofMinutes(1)));
            polled.forEach(d -> handout.settle(List.of(new Settlement(d, Disposition.ACK))));
            return polled.size();
        });
        var next = send(uri, "{\"id\":\"next\",\"type\":\"Good\"}");
        assertThat(next.statusCode()).as("taken in, not 429 back-pressure: %s", next.body()).isEqualTo(200);
        assertThat(acked.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    }

    @Test // a review of the fix above: a signed request answered 500 with nothing taken kept its signature remembered,
          // and the client's resend of the same bytes was refused as a replay (401): its event lost upstream
    void aSignedRequestAnswered500_forAHoldThatThrew_isTakenWhenSentAgain() throws Exception {
        var holds = new FailingSet();
        var ready = new LinkedBlockingQueue<Item>();
        var capacity = new Semaphore(CAPACITY);
        var hmac = (IngestAuth.HmacSha256) IngestAuth.hmacSha256("0123456789abcdef-secret");
        var endpoint = new IngestEndpoint(new IngestEndpoint.Settings("hold-signed", "/events", hmac,
                1 << 20, 100, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5), Clock.systemUTC(),
                8, 8, 100, -1), ready, capacity, new HeldByEvents(holds));
        var handout = new Handout("hold-signed", ready, capacity, endpoint);
        var server = IngestServer.start("hold-signed", "127.0.0.1", 0, null, Duration.ofSeconds(10), endpoint);
        opened.add(server::stop);
        var uri = URI.create("http://127.0.0.1:" + server.port() + "/events");
        String body = "{\"id\":\"signed\",\"type\":\"Good\"}";
        long ts = java.time.Instant.now().getEpochSecond();
        String signature = hmac.sign(ts, "POST", "/events", null, null,
                body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header(IngestAuth.HmacSha256.TIMESTAMP_HEADER, Long.toString(ts)).header("X-Ferry-Signature", signature)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();

        holds.failNextAdd.set(true);
        var failed = client.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(500);

        var acked = CompletableFuture.supplyAsync(() -> { // the listener's part: the resent event, done
            var polled = handout.poll(new PollRequest(10, Duration.ofSeconds(5), Duration.ofMinutes(1)));
            polled.forEach(d -> handout.settle(List.of(new Settlement(d, Disposition.ACK))));
            return polled.size();
        });
        var again = client.send(request, HttpResponse.BodyHandlers.ofString()); // the same bytes, as a retry sends them
        assertThat(again.statusCode()).as("taken, not refused as a replay: %s", again.body()).isEqualTo(200);
        assertThat(acked.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    }

    /**
     * The ready queue; its add of number {@code failAt} (0: the first) throws, as where memory ran short, once {@code
     * taken} is counted down (a poller took what came before it), waiting 10 s at most.
     */
    static final class FailingAdds extends LinkedBlockingQueue<Item> {
        private final int failAt;
        private final CountDownLatch taken;
        private final AtomicInteger adds = new AtomicInteger();

        FailingAdds(int failAt, CountDownLatch taken) {
            this.failAt = failAt;
            this.taken = taken;
        }

        @Override
        public boolean add(Item item) {
            if (adds.getAndIncrement() == failAt) {
                try {
                    taken.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new OutOfMemoryError("test: the ready queue's node");
            }
            return super.add(item);
        }
    }

    @Test // a review: a throw as the events were queued, none queued yet, was answered 500 with the signature remembered:
          // the client's resend of the same bytes was refused 401 "replayed", and its event lost upstream
    void aSignedRequestWhoseEventCouldNotBeQueued_isTakenWhenSentAgain() throws Exception {
        var ready = new FailingAdds(0, new CountDownLatch(0));
        var capacity = new Semaphore(CAPACITY);
        var hmac = (IngestAuth.HmacSha256) IngestAuth.hmacSha256("0123456789abcdef-secret");
        var endpoint = new IngestEndpoint(new IngestEndpoint.Settings("queue-signed", "/events", hmac,
                1 << 20, 100, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5), Clock.systemUTC(),
                8, 8, 100, -1), ready, capacity);
        var handout = new Handout("queue-signed", ready, capacity, endpoint);
        var server = IngestServer.start("queue-signed", "127.0.0.1", 0, null, Duration.ofSeconds(10), endpoint);
        opened.add(server::stop);
        var uri = URI.create("http://127.0.0.1:" + server.port() + "/events");
        String body = "{\"id\":\"signed\",\"type\":\"Good\"}";
        long ts = java.time.Instant.now().getEpochSecond();
        String signature = hmac.sign(ts, "POST", "/events", null, null,
                body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header(IngestAuth.HmacSha256.TIMESTAMP_HEADER, Long.toString(ts)).header("X-Ferry-Signature", signature)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();

        var failed = client.send(request, HttpResponse.BodyHandlers.ofString());
        // nothing was queued, so nothing ran: a 500 the client resends on is the truth here
        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(500);
        assertThat(capacity.availablePermits()).as("its capacity given back").isEqualTo(CAPACITY);

        var acked = CompletableFuture.supplyAsync(() -> { // the listener's part: the resent event, done
            var polled = handout.poll(new PollRequest(10, Duration.ofSeconds(5), Duration.ofMinutes(1)));
            polled.forEach(d -> handout.settle(List.of(new Settlement(d, Disposition.ACK))));
            return polled.size();
        });
        var again = client.send(request, HttpResponse.BodyHandlers.ofString()); // the same bytes, as a retry sends them
        assertThat(again.statusCode()).as("taken, not refused as a replay: %s", again.body()).isEqualTo(200);
        assertThat(acked.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    }

    @Test // a review: a throw as the second event was queued, the first taken by a poller and run, was answered 500
          // "internal error": read as "not handled", a client without a key sent both again, and the first ran twice
    void aRequestQueuedInPart_isAnsweredWhatCameOfEachEvent_notABare500() throws Exception {
        var firstTaken = new CountDownLatch(1);
        var ready = new FailingAdds(1, firstTaken);
        var capacity = new Semaphore(CAPACITY);
        var endpoint = new IngestEndpoint(new IngestEndpoint.Settings("queue-part", "/events", IngestAuth.none(),
                1 << 20, 100, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5), Clock.systemUTC(),
                8, 8, 100, -1), ready, capacity);
        var handout = new Handout("queue-part", ready, capacity, endpoint);
        var server = IngestServer.start("queue-part", "127.0.0.1", 0, null, Duration.ofSeconds(10), endpoint);
        opened.add(server::stop);
        var uri = URI.create("http://127.0.0.1:" + server.port() + "/events");
        var ran = CompletableFuture.supplyAsync(() -> { // the listener's part: the first event taken, then done
            try {
                var polled = handout.poll(new PollRequest(10, Duration.ofSeconds(5), Duration.ofMinutes(1)));
                polled.forEach(d -> handout.settle(List.of(new Settlement(d, Disposition.ACK))));
                return polled.size();
            } finally {
                firstTaken.countDown(); // the second event's add throws now
            }
        });

        var answer = send(uri, "[{\"id\":\"first\",\"type\":\"Good\"},{\"id\":\"second\",\"type\":\"Good\"}]");

        assertThat(ran.get(10, TimeUnit.SECONDS)).as("the first was handed out and done").isEqualTo(1);
        assertThat(answer.statusCode()).as("a retry for the second: %s", answer.body()).isEqualTo(429);
        assertThat(answer.body()).as("what came of each: the first done, the second never run")
                .contains("{\"index\":0,\"status\":\"done\"}")
                .contains("{\"index\":1,\"status\":\"retry\",\"retryAfterSeconds\":1}")
                .doesNotContain("internal error");
        assertThat(capacity.availablePermits()).as("all of its capacity given back").isEqualTo(CAPACITY);
    }

    @AfterEach
    void disarm() {
        IngestAnswers.answerFault = null;
    }

    @Test // a review: a large batch's answer, built where memory ran short, threw once its events were done, and the
          // request was answered 500 "internal error": sent again without a key, every event ran again
    void anAnswerThatCannotBeMade_onceTheEventsAreTaken_saysWhatTheyCameTo_notABare500() throws Exception {
        var source = start(HttpSource.builder().auth(IngestAuth.none()));
        var armed = new AtomicBoolean(true);
        IngestAnswers.answerFault = () -> {
            if (armed.compareAndSet(true, false)) {
                throw new OutOfMemoryError("injected: where a queued request's answer is built");
            }
        };

        var answer = post(source, "{\"id\":\"once\",\"type\":\"Good\"}"); // no Idempotency-Key: a resend runs again

        assertThat(armed).as("the fault was injected").isFalse();
        assertThat(answer.statusCode()).as("done, as its whole answer says: %s", answer.body()).isEqualTo(200);
        assertThat(answer.body()).contains("\"done\":1").contains("\"retry\":0").contains("\"omitted\":")
                .doesNotContain("internal error");
        assertThat(handled).as("handled once").containsExactly("once");
    }

    @Test // the last resort of the above: not even the counts could be made
    void whenNotEvenTheCountsCanBeMade_the500SaysTheEventsMayHaveBeenHandled() throws Exception {
        var source = start(HttpSource.builder().auth(IngestAuth.none()));
        IngestAnswers.answerFault = () -> {
            throw new OutOfMemoryError("injected: wherever a queued request's answer is built");
        };

        var answer = post(source, "{\"id\":\"always\",\"type\":\"Good\"}");

        assertThat(answer.statusCode()).isEqualTo(500);
        assertThat(answer.body()).contains("may have been handled").contains("same Idempotency-Key")
                .doesNotContain("internal error");
        assertThat(handled).as("handled once").containsExactly("always");
    }

    private HttpResponse<String> send(URI uri, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
