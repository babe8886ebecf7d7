package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.PollRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/** The listener engine on the SQS adapter, against a real SQS server (ElasticMQ). */
@ExtendWith(ElasticMq.class)
class SqsListenerIT {

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private SqsFixture queue(boolean fifo, int maxReceiveCount) {
        var q = SqsFixture.create(ElasticMq.client(), fifo, maxReceiveCount);
        opened.add(q);
        return q;
    }

    private Listener start(SqsFixture q, Handler handler, ListenerConfig config) {
        var listener = Listener.builder(q.source(), q.acknowledger(), new LineDecoder(), handler).config(config).seed(7).build();
        opened.add(listener);
        return listener.start();
    }

    private static ListenerConfig.Builder config() {
        return ListenerConfig.builder().pollWait(Duration.ofSeconds(1)).lease(Duration.ofSeconds(30))
                .shutdownDeadline(Duration.ofSeconds(2));
    }

    private static void sendBatch(SqsFixture q, List<String> bodies, String group) {
        for (int from = 0; from < bodies.size(); from += 10) {
            var entries = new ArrayList<SendMessageBatchRequestEntry>();
            for (int i = from; i < Math.min(from + 10, bodies.size()); i++) {
                var e = SendMessageBatchRequestEntry.builder().id(Integer.toString(i - from)).messageBody(bodies.get(i));
                if (group != null) {
                    e.messageGroupId(group).messageDeduplicationId(group + "-" + i);
                }
                entries.add(e.build());
            }
            assertThat(q.client.sendMessageBatch(b -> b.queueUrl(q.url).entries(entries)).failed()).isEmpty();
        }
    }

    /** How the work outlives the visibility timeout: a slow handler, on a standard or FIFO queue, or async. */
    enum Mode { STANDARD, FIFO, ASYNC }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void workRunningThreeTimesTheVisibilityTimeout_keepsItsMessageInvisible(Mode mode) throws Exception {
        var q = queue(mode == Mode.FIFO, 1000);
        var calls = new AtomicInteger();
        var running = new CountDownLatch(1);
        var listenerRef = new java.util.concurrent.atomic.AtomicReference<Listener>();
        var listener = start(q, (event, delivery) -> {
            calls.incrementAndGet();
            running.countDown();
            if (mode == Mode.ASYNC) {
                // the handler hands the message to other work and settles it itself, 6 s later
                Thread.ofVirtual().start(() -> {
                    sleep(6_000);
                    listenerRef.get().settle(delivery, dev.ferry.domain.transport.Disposition.ACK);
                });
            } else {
                sleep(6_000);
            }
            return Outcome.done();
        }, config().lease(Duration.ofSeconds(2)).extendAt(0.5).skipDelete(mode == Mode.ASYNC).build());
        listenerRef.set(listener);
        if (mode == Mode.FIFO) {
            q.send("slow T", Map.of(), "g1");
        } else {
            q.send("slow T", Map.of(), null);
        }

        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        // a second instance polling the same queue all along must never see it
        try (var other = SqsSource.builder(q.client, q.url).name("other-instance").build()) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
            while (System.nanoTime() < end) {
                assertThat(other.poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(30))))
                        .as("visible to another instance while its work runs").isEmpty();
            }
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).isTrue();
        assertThat(calls).hasValue(1);
        assertThat(listener.stats().leaseExtensions()).isGreaterThanOrEqualTo(3);
        assertThat(Await.until(Duration.ofSeconds(5), () -> q.approximateVisible() == 0)).isTrue();
        assertThat(other(q)).as("deleted, not just hidden").isEmpty();
    }

    private static List<String> other(SqsFixture q) {
        return q.client.receiveMessage(b -> b.queueUrl(q.url).waitTimeSeconds(1)).messages().stream()
                .map(m -> m.body()).toList();
    }

    @Test
    void fifo_tenGroupsOfAHundred_withRandomFailures_handlesEachGroupInOrder_once() {
        var q = queue(true, 1000);
        for (int g = 0; g < 10; g++) {
            int group = g;
            sendBatch(q, IntStream.range(0, 100).mapToObj(i -> "g" + group + "-" + i + " T").toList(), "g" + group);
        }
        var done = new ConcurrentHashMap<String, List<Integer>>();
        var random = new SplittableRandom(42);
        var failures = new AtomicInteger();
        var listener = start(q, (event, delivery) -> {
            boolean fail;
            synchronized (random) {
                fail = random.nextInt(10) == 0;
            }
            if (fail) {
                failures.incrementAndGet();
                return Outcome.retry("random failure");
            }
            var parts = event.key().split("-");
            done.computeIfAbsent(parts[0], k -> new CopyOnWriteArrayList<>()).add(Integer.parseInt(parts[1]));
            return Outcome.done();
        }, config().pollers(2).concurrency(8)
                .retry(RetryPolicy.of(100, Backoff.fixed(Duration.ZERO)))
                .deadLetter(DeadLetterPolicy.maxReceives(100)).build());

        assertThat(Await.until(Duration.ofSeconds(120), () -> listener.stats().acked() == 1000))
                .as("all acked; stats " + listener.stats()).isTrue();
        assertThat(failures.get()).isGreaterThan(50);
        var expected = IntStream.range(0, 100).boxed().toList();
        for (int g = 0; g < 10; g++) {
            assertThat(done.get("g" + g)).as("group g" + g).containsExactlyElementsOf(expected);
        }
        assertThat(listener.stats().deadLettered()).isZero();
    }

    @Test
    void throttledTwentyTimes_neverReachesTheDeadLetterQueue() {
        var q = queue(false, 1000);
        var calls = new AtomicInteger();
        var listener = start(q, (event, delivery) -> calls.incrementAndGet() <= 20
                        ? Outcome.throttled(Duration.ZERO) : Outcome.done(),
                config().throttlePause(Duration.ofMillis(10)).maxThrottlePause(Duration.ofMillis(50))
                        .retry(RetryPolicy.of(3, Backoff.fixed(Duration.ZERO)))
                        .deadLetter(DeadLetterPolicy.maxReceives(3)).build());
        q.send("busy-endpoint T", Map.of(), null);

        assertThat(Await.until(Duration.ofSeconds(60), () -> listener.stats().acked() == 1))
                .as("stats " + listener.stats()).isTrue();
        assertThat(calls).hasValue(21);
        assertThat(listener.stats().throttled()).isEqualTo(20);
        assertThat(listener.stats().deadLettered()).isZero();
        assertThat(q.deadLetterMessages()).isEmpty();
    }

    @Test
    void throttledForEver_staysOutOfSightAsLongAsSqsAllows_notHandedOutAgainAtOnce() {
        var q = queue(false, 1000);
        var calls = new AtomicInteger();
        var listener = start(q, (event, delivery) -> {
            calls.incrementAndGet();
            return Outcome.throttled(java.time.temporal.ChronoUnit.FOREVER.getDuration());
        }, config().throttlePause(Duration.ofMillis(10)).maxThrottlePause(Duration.ofMillis(50)).build());
        q.send("busy-endpoint T", Map.of(), null);

        assertThat(Await.until(Duration.ofSeconds(30), () -> listener.stats().throttled() == 1))
                .as("stats " + listener.stats()).isTrue();
        sleep(3_000);
        // its visibility was "for ever" in seconds plus one, wrapped round to 0: back at once, throttled again and again
        assertThat(calls).as("stats " + listener.stats()).hasValue(1);
    }

    @Test
    void rejectedAndMalformedMessages_areDeadLetteredWithTheirReasons_andTheListenerGoesOn() {
        var q = queue(false, 1000);
        var listener = start(q, (event, delivery) -> event.type().equals("Bad")
                ? Outcome.reject("HTTP 400 from the API: unknown field 'x'") : Outcome.done(), config().build());
        q.send("k1 Bad", Map.of(), null);
        q.send("!not a line", Map.of(), null);
        q.send("k2 Good", Map.of(), null);

        assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().deadLettered() == 2
                && listener.stats().acked() == 1)).as("stats " + listener.stats()).isTrue();
        var dead = q.deadLetterMessages();
        assertThat(dead).extracting(m -> m.body() + " => " + SqsFixture.reason(m)).containsExactlyInAnyOrder(
                "k1 Bad => HTTP 400 from the API: unknown field 'x'",
                "!not a line => malformed: line 1, offset 0: expected an event key, found '!'");
        assertThat(listener.isRunning()).isTrue();
    }

    @Test
    void stop_releasesMessagesStillInHand_soTheyAreVisibleAtOnce() throws Exception {
        var q = queue(false, 1000);
        var started = new CountDownLatch(5);
        var never = new CountDownLatch(1);
        var listener = start(q, (event, delivery) -> {
            started.countDown();
            try {
                never.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }, config().lease(Duration.ofSeconds(120)).concurrency(5).shutdownDeadline(Duration.ofMillis(300)).build());
        sendBatch(q, IntStream.range(0, 5).mapToObj(i -> "held-" + i + " T").toList(), null);
        assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();

        var report = listener.stop();

        assertThat(report.releasedRunning()).isEqualTo(5);
        var back = new ArrayList<String>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (back.size() < 5 && System.nanoTime() < end) {
            q.client.receiveMessage(b -> b.queueUrl(q.url).maxNumberOfMessages(10).waitTimeSeconds(1))
                    .messages().forEach(m -> back.add(m.body()));
        }
        assertThat(back).as("visible again long before the 120 s lease").hasSize(5);
        never.countDown();
    }

    @Test
    void severalPollers_handleEveryMessageOnce() {
        var q = queue(false, 1000);
        sendBatch(q, IntStream.range(0, 300).mapToObj(i -> "m" + i + " T").toList(), null);
        var seen = ConcurrentHashMap.<String>newKeySet();
        var calls = new AtomicInteger();
        var listener = start(q, (event, delivery) -> {
            calls.incrementAndGet();
            seen.add(new String(delivery.body(), StandardCharsets.UTF_8));
            return Outcome.done();
        }, config().pollers(4).concurrency(8).build());

        assertThat(Await.until(Duration.ofSeconds(60), () -> listener.stats().acked() == 300)).isTrue();
        assertThat(seen).hasSize(300);
        assertThat(calls).hasValue(300);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
