package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Readiness and liveness per component, on real listeners over an in-memory queue. */
class HealthTest {

    private final AtomicLong now = new AtomicLong();

    @Test
    void live_failsOnlyWhenMessagesSitInHand_withNoneSettled_forStallAfter() throws Exception {
        var queue = InMemoryQueue.standard("work");
        var release = new CountDownLatch(1);
        var listener = Listener.builder(queue, queue, Codecs.raw("t", JsonLimits.defaults()), (event, delivery) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }).config(ListenerConfig.builder().pollers(1).concurrency(1).build()).build().start();
        try {
            var health = new Health(Map.of("work", listener), Map.of(), "memory", Duration.ofMinutes(15), now::get, () -> true);
            assertThat(health.live().status()).as("idle: alive").isEqualTo(200);
            queue.send("wedged");
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().inFlight() == 1)).isTrue();
            assertThat(health.live().status()).isEqualTo(200);
            now.addAndGet(Duration.ofMinutes(14).toNanos());
            assertThat(health.live().status()).as("in hand 14 min: still alive").isEqualTo(200);
            now.addAndGet(Duration.ofMinutes(1).toNanos());
            var wedged = health.live();
            assertThat(wedged.status()).isEqualTo(503);
            assertThat(wedged.json()).contains("\"status\":\"DOWN\"")
                    .contains("1 message(s) in hand and none settled for 15m (stall-after 15m)");

            release.countDown();
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).isTrue();
            assertThat(health.live().status()).as("it moved: alive again").isEqualTo(200);
        } finally {
            release.countDown();
            listener.stop();
        }
    }

    @Test // a review: a wedge a restart clears (a poll that never returns, a thread that died) left nothing in hand,
          // and liveness, which counted only messages in hand, stayed up for ever — readiness alone said so
    void live_fails_whenTheListenerIsWedged_forStallAfter_evenWithNothingInHand() throws Exception {
        var queue = InMemoryQueue.standard("work");
        var hang = new CountDownLatch(1);
        dev.ferry.domain.transport.Source hanging = new dev.ferry.domain.transport.Source() {
            @Override
            public String name() {
                return "work";
            }

            @Override
            public java.util.List<dev.ferry.domain.model.Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
                try {
                    hang.await(); // a poll that never returns (a connection with no timeout)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return java.util.List.of();
            }
        };
        var listener = Listener.builder(hanging, queue, Codecs.raw("t", JsonLimits.defaults()), (event, delivery) -> Outcome.done())
                .config(ListenerConfig.builder().pollers(1).pollWait(Duration.ZERO).build()).build().start();
        try {
            var health = new Health(Map.of("work", listener), Map.of(), "memory", Duration.ofMinutes(15), now::get, () -> true);
            assertThat(Await.until(Duration.ofSeconds(15), () -> !listener.wedges().isEmpty())).as("the poll hangs").isTrue();
            assertThat(health.live().status()).as("just wedged: not yet").isEqualTo(200);
            now.addAndGet(Duration.ofMinutes(15).toNanos());
            var wedged = health.live();
            assertThat(wedged.status()).isEqualTo(503);
            assertThat(wedged.json()).contains("a poll of the source has not returned for").contains("stall-after 15m");
        } finally {
            hang.countDown();
            listener.stop();
        }
    }

    @Test
    void live_staysUp_whileTheListenerWaitsOutAThrottle_forLongerThanStallAfter() {
        // only settlements counted: a sink answering 429 for longer than stall-after had every replica restarted, each
        // restart spending a receive of every message held, until they were dead-lettered for their receives
        var queue = InMemoryQueue.standard("work");
        var listener = Listener.builder(queue, queue, Codecs.raw("t", JsonLimits.defaults()),
                (event, delivery) -> Outcome.throttled(Duration.ofMillis(20)))
                .config(ListenerConfig.builder().pollers(1).concurrency(1).build()).build().start();
        try {
            var health = new Health(Map.of("work", listener), Map.of(), "memory", Duration.ofMinutes(15), now::get, () -> true);
            queue.send("throttled");
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().inFlight() == 1)).isTrue();
            assertThat(health.live().status()).isEqualTo(200);
            for (int minute = 0; minute < 20; minute++) {
                now.addAndGet(Duration.ofMinutes(1).toNanos());
                long before = listener.stats().throttled();
                assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().throttled() > before)).isTrue();
                assertThat(health.live().status()).as("minute %d of the throttle", minute + 1).isEqualTo(200);
            }
            assertThat(listener.stats().settled()).as("nothing settled all along").isZero();
            assertThat(health.ready().json()).as("the detail says what was settled, not what counts as progress")
                    .contains("\"settled\":0");
        } finally {
            listener.stop();
        }
    }

    @Test
    void ready_listsEveryComponent_aHeldBackSinkDegrades_aStoppedSourceIsDown() {
        var queue = InMemoryQueue.standard("work");
        var listener = Listener.builder(queue, queue, Codecs.raw("t", JsonLimits.defaults()), (event, delivery) -> Outcome.done())
                .build().start();
        Sink open = new Sink() {
            @Override
            public String name() {
                return "api";
            }

            @Override
            public Outcome publish(Event event) {
                return Outcome.done();
            }

            @Override
            public Optional<String> holdingBack() {
                return Optional.of("circuit breaker open");
            }
        };
        var health = new Health(Map.of("work", listener), Map.of("api", open), "mvstore", Duration.ofMinutes(15), now::get,
                () -> true);
        var degraded = health.ready();
        assertThat(degraded.status()).as("a sink's outage does not take the instance out of service").isEqualTo(200);
        assertThat(degraded.json()).startsWith("{\"status\":\"DEGRADED\"")
                .contains("\"source:work\":{\"status\":\"UP\"")
                .contains("\"ledger\":{\"status\":\"UP\",\"details\":{\"kind\":\"mvstore\"}}")
                .contains("\"sink:api\":{\"status\":\"DEGRADED\",\"details\":{\"problem\":\"circuit breaker open\"}}");

        listener.stop();
        var down = health.ready();
        assertThat(down.status()).isEqualTo(503);
        assertThat(down.json()).startsWith("{\"status\":\"DOWN\"").contains("\"source:work\":{\"status\":\"DOWN\"")
                .contains("stopping or stopped");
    }

    @Test
    void json_escapesWhatAProblemMayContain() {
        assertThat(Json.write(Map.of("p", "a \"quoted\"\nline\u0001"))).isEqualTo("{\"p\":\"a \\\"quoted\\\"\\nline\\u0001\"}");
        // a group key or reason with a bidirectional override: in a terminal, the text after it read reversed
        assertThat(Json.write(Map.of("head", "ok\u202Edab\u2066x\u2069"))).isEqualTo("{\"head\":\"ok\\u202edab\\u2066x\\u2069\"}");
    }

    @Test // a review: the health endpoints, open to anyone who reaches them, quoted the service's words whole — the
          // account, the role and the table a denied ledger or queue call named
    void ready_showsASourcesProblem_withoutTheAccountsAndPrincipalsTheServiceNamed() {
        String denied = "User: arn:aws:sts::123456789012:assumed-role/ferry-prod/i-0abc is not authorized to perform: "
                + "sqs:ReceiveMessage on resource: arn:aws:sqs:eu-west-1:123456789012:orders (https://sqs.eu-west-1"
                + ".amazonaws.com/123456789012/orders?X-Amz-Signature=abc, https://ops:hunter2@proxy.example:8080/)";
        var queue = InMemoryQueue.standard("work");
        var failing = new dev.ferry.domain.transport.Source() {
            @Override
            public String name() {
                return "work";
            }

            @Override
            public java.util.List<dev.ferry.domain.model.Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
                throw new dev.ferry.domain.model.FerryException(denied, true);
            }
        };
        var listener = Listener.builder(failing, queue, Codecs.raw("t", JsonLimits.defaults()),
                (event, delivery) -> Outcome.done()).config(ListenerConfig.builder().pollers(1).build()).build().start();
        try {
            var health = new Health(Map.of("work", listener), Map.of(), "memory", Duration.ofMinutes(15), now::get, () -> true);
            assertThat(Await.until(Duration.ofSeconds(20), () -> health.ready().json().contains("polls failing")))
                    .as(() -> health.ready().json()).isTrue();
            assertThat(listener.health().problems()).as("kept whole for the console and the log")
                    .anySatisfy(p -> assertThat(p).contains("123456789012").contains("hunter2"));
            assertThat(health.ready().json()).contains("is not authorized to perform: sqs:ReceiveMessage on resource: arn:aws:…")
                    .contains("User: arn:aws:… is not authorized").contains("https://sqs.eu-west-1.amazonaws.com/…/orders?…")
                    .contains("https://…@proxy.example:8080/")
                    .doesNotContain("123456789012").doesNotContain("ferry-prod").doesNotContain("hunter2")
                    .doesNotContain("X-Amz-Signature");
        } finally {
            listener.stop();
        }
    }
}
