package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.adapters.http.ScriptedServer.Response;
import dev.ferry.domain.handle.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The HTTP sink's breaker and its limit of open requests, against a real HTTP server on 127.0.0.1 that
 * answers from a script: what opens the breaker (a 409 alone does not), what closes it, and that every
 * call it lets through reports back to it.
 */
class HttpSinkBreakerIT extends ScriptedSinkFixture {

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
        // each is waited out (the endpoint still at work on the request that timed out: HttpSinkSlowEndpointIT), and
        // each is a failure to the breaker all the same
        assertThat(slow.publish(event("a"))).isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(slow.publish(event("b"))).isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
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
}
