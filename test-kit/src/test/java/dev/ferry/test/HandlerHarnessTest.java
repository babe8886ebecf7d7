package dev.ferry.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The harness as a user's project meets it: this module's tests see ferry-test and JUnit, nothing
 * of Ferry's own test fixtures. Failure paths run a test class through JUnit itself (EngineTestKit)
 * and look at how that test ended.
 */
class HandlerHarnessTest {

    final List<String> shipped = new CopyOnWriteArrayList<>();

    @RegisterExtension
    final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
        var body = event.payloadAsString();
        if (body.startsWith("bad")) {
            return Outcome.reject("no such product: " + body);
        }
        shipped.add(body);
        return Outcome.done();
    });

    @Test
    void handlesWhatIsSent_andSaysWhatWasDoneAndDeadLettered() {
        ferry.send("order-1");
        ferry.send("bad-2");
        ferry.send("order-3");

        ferry.awaitDrained();

        assertThat(shipped).containsExactlyInAnyOrder("order-1", "order-3");
        assertThat(ferry.donePayloads()).containsExactlyInAnyOrder("order-1", "order-3");
        assertThat(ferry.deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.body()).isEqualTo("bad-2");
            assertThat(d.reason()).contains("no such product: bad-2");
        });
        assertThat(ferry.queue().size()).isZero();
        assertThat(ferry.stats().acked()).isEqualTo(2);
    }

    @Test
    void eachTestHasItsOwnQueue() {
        assertThat(ferry.queue().size()).isZero();
        assertThat(ferry.handled()).isEmpty();
        assertThat(ferry.listener().isRunning()).isTrue();
    }

    static final Map<String, AtomicInteger> ATTEMPTS = new ConcurrentHashMap<>();

    @Test
    void aThrowingHandler_isRetried_thenDeadLetteredWithWhatItThrew() {
        var events = run(Throwing.class);
        events.assertStatistics(s -> s.succeeded(1).failed(0));
        assertThat(ATTEMPTS.get("boom").get()).isEqualTo(3);
    }

    static class Throwing {
        @RegisterExtension
        final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
            ATTEMPTS.computeIfAbsent(event.payloadAsString(), k -> new AtomicInteger()).incrementAndGet();
            throw new IllegalStateException("warehouse down");
        }).attempts(3, Duration.ofMillis(5));

        @Test
        void test() {
            ferry.send("boom");
            ferry.awaitDrained();
            assertThat(ferry.handled()).hasSize(3).allSatisfy(h -> assertThat(h.outcome()).isInstanceOf(Outcome.Retry.class));
            assertThat(ferry.deadLetters()).singleElement().satisfies(d -> assertThat(d.reason()).contains("warehouse down"));
        }
    }

    @Test
    void aFifoQueue_keepsEachGroupInOrder() {
        var events = run(Ordered.class);
        events.assertStatistics(s -> s.succeeded(1).failed(0));
    }

    static class Ordered {
        final Map<String, List<Integer>> seen = new ConcurrentHashMap<>();

        @RegisterExtension
        final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
            var parts = event.payloadAsString().split(":");
            seen.computeIfAbsent(parts[0], k -> new CopyOnWriteArrayList<>()).add(Integer.parseInt(parts[1]));
            return Outcome.done();
        }).fifo().config(c -> c.concurrency(4));

        @Test
        void test() {
            var expected = new ArrayList<Integer>();
            for (int i = 0; i < 30; i++) {
                expected.add(i);
                for (var group : List.of("a", "b", "c")) {
                    ferry.send(group + ":" + i, group);
                }
            }
            ferry.awaitDrained();
            assertThat(seen).containsOnlyKeys("a", "b", "c");
            seen.values().forEach(order -> assertThat(order).isEqualTo(expected));
        }
    }

    @Test // a review: a standard queue's group id was the group key, as SQS's is not: one tenant's messages ran one at a
          // time, in order, in a user's test, and at once in production
    void aStandardQueue_runsAGroupsMessagesAtOnce_asSqsDoes() {
        var events = run(Unordered.class);
        events.assertStatistics(s -> s.succeeded(1).failed(0));
    }

    static class Unordered {
        final CountDownLatch secondRan = new CountDownLatch(1);
        final Map<String, Map<String, String>> attributes = new ConcurrentHashMap<>();
        final List<String> groupKeys = new CopyOnWriteArrayList<>();

        @RegisterExtension
        final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
            attributes.put(event.payloadAsString(), delivery.attributes());
            groupKeys.add(event.groupKey());
            if (event.payloadAsString().equals("second")) {
                secondRan.countDown();
                return Outcome.done();
            }
            try { // bounded: behind the first, as in a group, the second never runs meanwhile
                return secondRan.await(2, java.util.concurrent.TimeUnit.SECONDS) ? Outcome.done()
                        : Outcome.reject("the second of tenant-1 did not run while the first was in hand");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Outcome.retry("interrupted");
            }
        });

        @Test
        void test() {
            ferry.send("first", "tenant-1");
            ferry.send("second", "tenant-1");
            ferry.awaitDrained();
            assertThat(ferry.deadLetters()).isEmpty();
            assertThat(ferry.donePayloads()).containsExactlyInAnyOrder("first", "second");
            assertThat(groupKeys).as("no group key, as SqsSource gives a standard queue's").hasSize(2).containsOnlyNulls();
            assertThat(attributes.get("first")).containsEntry("MessageGroupId", "tenant-1");
        }
    }

    @Test // a review: the queue's redrive was 10 receives, the listener's limit too, and the queue moved the message
          // first: a handler throttled past its hold limit was dead-lettered, where production's listener handles it
    void aHandlerThrottledPastItsHoldLimit_isNotDeadLetteredByTheQueue() {
        var events = run(ThrottledOften.class);
        events.assertStatistics(s -> s.succeeded(1).failed(0));
    }

    static class ThrottledOften {
        final AtomicInteger calls = new AtomicInteger();

        @RegisterExtension
        final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> calls.incrementAndGet() <= 11
                ? Outcome.throttled(Duration.ofMillis(10)) : Outcome.done())
                .config(c -> c.holdLimit(Duration.ZERO).throttlePause(Duration.ofMillis(10))
                        .maxThrottlePause(Duration.ofMillis(20)));

        @Test
        void test() {
            ferry.send("x");
            ferry.awaitDrained();
            assertThat(ferry.deadLetters()).as("each throttled receive back on the queue: 11 of them").isEmpty();
            assertThat(ferry.donePayloads()).containsExactly("x");
            assertThat(calls.get()).isEqualTo(12);
        }
    }

    @Test
    void withALedger_aRedeliveredEventIsHandledOnce() {
        var events = run(WithLedger.class);
        events.assertStatistics(s -> s.succeeded(1).failed(0));
    }

    static class WithLedger {
        final AtomicInteger calls = new AtomicInteger();

        @RegisterExtension
        final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
            calls.incrementAndGet();
            return Outcome.done();
        }).ledger(InMemoryLedger.create())
                .decoder(d -> Decoded.of(List.of(Event.of(new String(d.body(), StandardCharsets.UTF_8), "payment", d.body()))));

        @Test
        void test() {
            // two messages, one event: the body is the event's key
            ferry.send("payment-7");
            ferry.send("payment-7");
            ferry.awaitDrained();
            assertThat(calls.get()).isEqualTo(1);
            assertThat(ferry.stats().duplicatesDropped()).isEqualTo(1);
        }
    }

    @Test
    void aHandlerThatNeverFinishes_failsTheTestWithWhatWasLeft_andTheListenerIsStillClosed() {
        var events = run(Stuck.class);
        events.assertStatistics(s -> s.failed(1));
        var failure = events.failed().stream().findFirst().orElseThrow()
                .getRequiredPayload(org.junit.platform.engine.TestExecutionResult.class).getThrowable().orElseThrow();
        assertThat(failure).isInstanceOf(AssertionError.class)
                .hasMessageContaining("not drained after 300ms")
                .hasMessageContaining("1 message(s) still in the queue (1 in flight)");
        assertThat(Stuck.listenerRunningAfterTest).isFalse();
        Stuck.release.countDown();
    }

    static class Stuck {
        static final CountDownLatch release = new CountDownLatch(1);
        static volatile dev.ferry.domain.listener.Listener last;
        static volatile boolean listenerRunningAfterTest = true;

        // registered first, so its afterEach runs last: after the harness closed its listener
        @RegisterExtension
        final AfterEachCallback check = context -> listenerRunningAfterTest = last.isRunning();

        @RegisterExtension
        final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }).timeout(Duration.ofMillis(300)).config(c -> c.shutdownDeadline(Duration.ofMillis(200)));

        @Test
        void test() {
            last = ferry.listener();
            ferry.send("slow");
            ferry.awaitDrained();
        }
    }

    @Test
    void anAssertionThatFailsInsideTheHandler_failsTheTest_thoughFerrySurvivesIt() {
        var events = run(AssertingHandler.class);
        events.assertStatistics(s -> s.failed(1));
        var failure = events.failed().stream().findFirst().orElseThrow()
                .getRequiredPayload(org.junit.platform.engine.TestExecutionResult.class).getThrowable().orElseThrow();
        assertThat(failure).isInstanceOf(AssertionError.class).hasMessageContaining("the handler threw")
                .hasRootCauseMessage("expected an order, got a refund");
    }

    static class AssertingHandler {
        @RegisterExtension
        final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
            throw new AssertionError("expected an order, got a refund");
        }).attempts(2, Duration.ofMillis(5));

        @Test
        void test() {
            ferry.send("refund-1");
            ferry.awaitDrained();
        }
    }

    @Test
    void changingTheSetUpOnceTheTestRuns_isRefused() {
        assertThatThrownBy(() -> ferry.ledger(InMemoryLedger.create()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("where it is declared");
    }

    @Test
    void outsideATest_theHarnessSaysHowToUseIt() {
        var loose = HandlerHarness.of((event, delivery) -> Outcome.done());
        assertThatThrownBy(() -> loose.send("x"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("@RegisterExtension");
    }

    /** Runs a test class through JUnit; a failure it was not expected to have shows up in this test's report. */
    private static Events run(Class<?> testClass) {
        var events = EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute().testEvents();
        events.failed().stream()
                .map(e -> e.getRequiredPayload(org.junit.platform.engine.TestExecutionResult.class).getThrowable())
                .flatMap(java.util.Optional::stream)
                .forEach(t -> System.err.println(testClass.getSimpleName() + " failed: " + t));
        return events;
    }
}
