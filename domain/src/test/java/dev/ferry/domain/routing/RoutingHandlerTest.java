package dev.ferry.domain.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class RoutingHandlerTest {

    private static final Delivery DELIVERY = new Delivery("m-1", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", null);

    /** A sink that records what it got and answers from a script. */
    static final class ScriptedSink implements Sink {
        final String name;
        final List<String> received = new CopyOnWriteArrayList<>();
        final List<Outcome> script;

        ScriptedSink(String name, Outcome... script) {
            this.name = name;
            this.script = new ArrayList<>(List.of(script));
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public synchronized Outcome publish(Event event) {
            received.add(event.key());
            return script.isEmpty() ? Outcome.done() : script.removeFirst();
        }
    }

    private static Event event(String key, String type, Map<String, String> attributes) {
        return new Event(key, type, null, null, "{}".getBytes(StandardCharsets.UTF_8), attributes);
    }

    @Test
    void routesByType_andByAttribute_fanningOutOncePerSink() {
        var submitted = new ScriptedSink("submitted");
        var hits = new ScriptedSink("hits");
        var audit = new ScriptedSink("audit");
        var router = Router.of(
                Route.of("submitted", EventMatcher.type("AssignmentSubmitted"), "submitted", "audit"),
                Route.of("hits", EventMatcher.typePrefix("HIT"), "hits"),
                Route.of("vip", EventMatcher.attribute("CustomerId", "vip"), "audit"));
        var handler = RoutingHandler.of(router, Map.of("submitted", submitted, "hits", hits, "audit", audit));

        assertThat(handler.handle(event("e1", "AssignmentSubmitted", Map.of("CustomerId", "vip")), DELIVERY)).isEqualTo(Outcome.done());
        assertThat(handler.handle(event("e2", "HITExpired", Map.of()), DELIVERY)).isEqualTo(Outcome.done());

        assertThat(submitted.received).containsExactly("e1");
        assertThat(hits.received).containsExactly("e2");
        assertThat(audit.received).as("audit matched twice for e1, written once").containsExactly("e1");
        assertThat(router.route(event("e1", "AssignmentSubmitted", Map.of("CustomerId", "vip"))).routes())
                .containsExactly("submitted", "vip");
    }

    @Test
    void unmatched_isRejectedByDefault_orIgnoredWhenSaid() {
        var sink = new ScriptedSink("s");
        var strict = RoutingHandler.of(Router.of(Route.of("r", EventMatcher.type("A"), "s")), Map.of("s", sink));
        var lenient = RoutingHandler.of(Router.of(List.of(Route.of("r", EventMatcher.type("A"), "s")), Router.Unmatched.IGNORE),
                Map.of("s", sink));

        assertThat(strict.handle(event("e", "s3:TestEvent", Map.of()), DELIVERY))
                .isEqualTo(Outcome.reject("no route matches event type 's3:TestEvent' (event e)"));
        assertThat(lenient.handle(event("e", "s3:TestEvent", Map.of()), DELIVERY)).isEqualTo(Outcome.done());
        assertThat(sink.received).isEmpty();
    }

    @Test
    void ignoreRoute_acknowledgesWithoutEffect() {
        var sink = new ScriptedSink("s");
        var handler = RoutingHandler.of(Router.of(Route.ignore("tests", EventMatcher.type("s3:TestEvent")),
                Route.of("all", EventMatcher.type("ObjectCreated:Put"), "s")), Map.of("s", sink));
        assertThat(handler.handle(event("e", "s3:TestEvent", Map.of()), DELIVERY)).isEqualTo(Outcome.done());
        assertThat(sink.received).isEmpty();
    }

    @Test
    void aSinkThrowingWhatCannotBePrinted_isOneTargetsRetry_andTheOtherTargetsStillGetTheEvent() {
        // described for the reason, the throw escaped the sink's call: the targets after it were never tried
        var broken = new Sink() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public Outcome publish(dev.ferry.domain.model.Event event) {
                throw new IllegalStateException() {
                    @Override
                    public String getMessage() {
                        throw new UnsupportedOperationException("unprintable");
                    }
                };
            }
        };
        var other = new ScriptedSink("other", Outcome.done());
        var handler = RoutingHandler.of(Router.of(Route.of("r", EventMatcher.any(), "broken", "other")),
                Map.of("broken", broken, "other", other));
        assertThat(handler.handle(event("e", "A", Map.of()), DELIVERY)).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("sink broken failed: dev.ferry.domain.routing.RoutingHandlerTest"));
        assertThat(other.received).hasSize(1);
    }

    @Test
    void danglingSinkReference_isRefusedAtConstruction() {
        assertThatThrownBy(() -> RoutingHandler.of(Router.of(Route.of("r", EventMatcher.any(), "nowhere")), Map.of()))
                .hasMessageContaining("routes refer to sinks that do not exist: [nowhere]");
    }

    @Test
    void outcomes_combine_rejectOverRetryOverThrottled() {
        var slow = Outcome.throttled(Duration.ofMinutes(5));
        var retry = Outcome.retry("500");
        var reject = Outcome.reject("400");
        assertThat(RoutingHandler.combine(List.of(Outcome.done(), slow))).isEqualTo(slow);
        // a review: the Retry went on at once to a target that asked for five minutes
        assertThat(RoutingHandler.combine(List.of(slow, retry))).isInstanceOfSatisfying(Outcome.Retry.class, r -> {
            assertThat(r.after()).isEqualTo(Duration.ofMinutes(5));
            assertThat(r.reason()).startsWith("500");
        });
        var later = Outcome.retryAfter(Duration.ofMinutes(10), "503");
        assertThat(RoutingHandler.combine(List.of(later, slow))).as("a later retry stands").isEqualTo(later);
        assertThat(RoutingHandler.combine(List.of(retry, reject, slow))).isEqualTo(reject);
        assertThat(RoutingHandler.combine(List.of(Outcome.done(), Outcome.done()))).isEqualTo(Outcome.done());
    }

    @Test
    void trackedFanOut_doesNotWriteTheConfirmedTargetTwice_whenAnotherFails() {
        var qa = new ScriptedSink("qa");
        var prod = new ScriptedSink("prod", Outcome.retry("prod down"), Outcome.retry("prod down"));
        var handler = RoutingHandler.tracked(Router.of(Route.of("archive", EventMatcher.any(), "qa", "prod")),
                Map.of("qa", qa, "prod", prod), InMemoryLedger.create(), Duration.ofMinutes(1), Duration.ofHours(1));
        var e = event("s3://b/k#1", "ObjectCreated:Put", Map.of());

        assertThat(handler.handle(e, DELIVERY)).isInstanceOf(Outcome.Retry.class);
        assertThat(handler.handle(e, DELIVERY)).isInstanceOf(Outcome.Retry.class);
        assertThat(handler.handle(e, DELIVERY)).isEqualTo(Outcome.done());

        assertThat(qa.received).containsExactly("s3://b/k#1");
        assertThat(prod.received).hasSize(3);
    }

    @Test // a review of the fix: the throttled target's kept claim was kept for one delivery object; an HTTP client's retry
          // (a new delivery of the event) found its own leftover claim held and waited a whole lease
    void aThrottledTargetsKeptClaim_isTheEventsNextTry_whicheverDeliveryBringsIt() {
        var fine = new ScriptedSink("fine");
        var storm = new ScriptedSink("storm", Outcome.throttled(Duration.ofSeconds(1)));
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "fine", "storm")),
                Map.of("fine", fine, "storm", storm), InMemoryLedger.create(), Duration.ofMinutes(1), Duration.ofHours(1));
        var e = event("order-1", "A", Map.of());

        assertThat(handler.handle(e, DELIVERY)).isInstanceOf(Outcome.Throttled.class);
        var retried = new Delivery("m-1", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", null);
        assertThat(handler.handle(e, retried)).as("its own kept claim, not another worker's").isEqualTo(Outcome.done());
        assertThat(fine.received).containsExactly("order-1");
        assertThat(storm.received).hasSize(2);
    }

    @Test // a last review: a plugin sink's "wait for ever" (Throttled of centuries) overflowed the kept-claim test
          // (Duration.toNanos): the fan-out threw, an attempt was spent, and the target's claim was left held
    void aTargetThatAsksToWaitForEver_isThrottled_notAFailure() {
        var storm = new ScriptedSink("storm", Outcome.throttled(java.time.temporal.ChronoUnit.FOREVER.getDuration()));
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "fine", "storm")),
                Map.of("fine", new ScriptedSink("fine"), "storm", storm), InMemoryLedger.create(), Duration.ofMinutes(1),
                Duration.ofHours(1));
        var e = event("order-1", "A", Map.of());

        assertThat(handler.handle(e, DELIVERY)).isInstanceOf(Outcome.Throttled.class);
        assertThat(handler.handle(e, DELIVERY)).as("its claim let go: tried again, not held by itself").isEqualTo(Outcome.done());
    }

    @Test // a review of the fix: a kept claim pushed out of the bounded memory stayed held in the ledger: the event's next
          // try found it held by "another worker" and waited a whole lease, asking again each second
    void aKeptClaimPushedOutOfMemory_isLetGo() {
        var ledger = InMemoryLedger.create();
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        var storm = dev.ferry.domain.testing.TestSinks.of("storm", event -> calls.incrementAndGet() <= 1_025
                ? Outcome.throttled(Duration.ofSeconds(1)) : Outcome.done());
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "fine", "storm")),
                Map.of("fine", new ScriptedSink("fine"), "storm", storm), ledger, Duration.ofMinutes(1), Duration.ofHours(1));
        for (int i = 0; i < 1_025; i++) {
            assertThat(handler.handle(event("order-" + i, "A", Map.of()), DELIVERY)).isInstanceOf(Outcome.Throttled.class);
        }
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(10), () -> {
            try {
                return handler.handle(event("order-0", "A", Map.of()), DELIVERY) instanceof Outcome.Done;
            } catch (dev.ferry.domain.handle.HeldElsewhereException heldByItself) {
                return false;
            }
        })).as("the first event's claim, pushed out, let go: its next try writes it").isTrue();
    }

    @Test // left by the last round: a throttled target's kept claim stayed held when its event left the instance (a stop, a
          // dead letter): the instance that took the event over found the target "held elsewhere" and waited up to a lease
    void keptClaims_areLetGo_atCloseAndWhenTheEventIsDeadLettered() {
        var ledger = InMemoryLedger.create();
        var fixed = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.function.Function<Outcome, RoutingHandler> instance = storm -> RoutingHandler.tracked(
                Router.of(Route.of("all", EventMatcher.any(), "fine", "storm", "picky")),
                Map.of("fine", new ScriptedSink("fine"), "storm", dev.ferry.domain.testing.TestSinks.of("storm", e -> storm),
                        "picky", dev.ferry.domain.testing.TestSinks.of("picky", e -> e.key().startsWith("bad") && !fixed.get()
                                ? Outcome.reject("no") : Outcome.done())),
                ledger, Duration.ofMinutes(1), Duration.ofHours(1));
        var throttled = Outcome.throttled(Duration.ofSeconds(1));
        var stopping = instance.apply(throttled);
        assertThat(stopping.handle(event("order-1", "A", Map.of()), DELIVERY)).isInstanceOf(Outcome.Throttled.class);
        stopping.close();
        assertThat(instance.apply(Outcome.done()).handle(event("order-1", "A", Map.of()), DELIVERY))
                .as("the next instance writes the throttled target at once").isEqualTo(Outcome.done());
        assertThat(stopping.handle(event("order-2", "A", Map.of()), DELIVERY)).isInstanceOf(Outcome.Throttled.class);
        assertThat(instance.apply(Outcome.done()).handle(event("order-2", "A", Map.of()), DELIVERY))
                .as("closed, nothing kept past the stop").isEqualTo(Outcome.done());

        assertThat(instance.apply(throttled).handle(event("bad-1", "A", Map.of()), DELIVERY)).isInstanceOf(Outcome.Reject.class);
        fixed.set(true); // the picky target mended, the dead letter redriven to another instance
        assertThat(instance.apply(Outcome.done()).handle(event("bad-1", "A", Map.of()), DELIVERY))
                .as("the throttled target's claim let go with the dead letter: the redrive does not wait for it")
                .isEqualTo(Outcome.done());
    }

    @Test // a review of the fix: the kept claims were let go one after another on the stop's thread; a slow ledger (a
          // DynamoDB call may take 10 s) held the stop past its close bound, and the run ended "failed"
    void keptClaims_areLetGoAllAtOnce_atClose() {
        var under = new java.util.concurrent.atomic.AtomicInteger();
        var most = new java.util.concurrent.atomic.AtomicInteger();
        var all = new java.util.concurrent.CountDownLatch(15);
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(InMemoryLedger.create()) {
            @Override
            public boolean release(String key, long token) {
                most.accumulateAndGet(under.incrementAndGet(), Math::max);
                all.countDown();
                try {
                    all.await(1, java.util.concurrent.TimeUnit.SECONDS); // a slow ledger
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                under.decrementAndGet();
                return super.release(key, token);
            }
        };
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "fine", "storm")),
                Map.of("fine", new ScriptedSink("fine"), "storm", dev.ferry.domain.testing.TestSinks.of("storm",
                        e -> Outcome.throttled(Duration.ofSeconds(1)))), ledger, Duration.ofMinutes(1), Duration.ofHours(1));
        for (int i = 0; i < 15; i++) {
            assertThat(handler.handle(event("order-" + i, "A", Map.of()), DELIVERY)).isInstanceOf(Outcome.Throttled.class);
        }
        handler.close();
        assertThat(most.get()).as("let go all at once, not one after another").isGreaterThan(1);
    }

    @Test // a review: a ttl of 0 (taken for "the default") forgot each target as it was done: every retry wrote it again
    void trackedWithAZeroOrNegativeLeaseOrTtl_isRefused() {
        var router = Router.of(Route.of("archive", EventMatcher.any(), "qa", "prod"));
        Map<String, Sink> sinks = Map.of("qa", new ScriptedSink("qa"), "prod", new ScriptedSink("prod"));
        var ledger = InMemoryLedger.create();
        assertThatThrownBy(() -> RoutingHandler.tracked(router, sinks, ledger, Duration.ofMinutes(1), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl");
        assertThatThrownBy(() -> RoutingHandler.tracked(router, sinks, ledger, Duration.ofSeconds(-1), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease");
        assertThat(RoutingHandler.tracked(router, sinks, ledger, Duration.ofMinutes(1), Duration.ofHours(1))).isNotNull();
    }

    /**
     * The incident fix of a fan-out whose second sink keeps failing: the route loses that sink and is
     * redeployed. Every event that had reached the first sink came back to a route of one target, whose
     * marks were never looked at — and was written to the first sink again. A redelivered event now looks
     * for its mark before a lone target too (a first delivery cannot have one: no read is added for it).
     */
    @Test
    void aRouteCutToOneTarget_doesNotWriteAgainWhatItsEarlierFanOutHadWritten() {
        var ledger = InMemoryLedger.create();
        var a = new ScriptedSink("a");
        var b = new ScriptedSink("b", Outcome.retry("b down"));
        var before = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "a", "b")),
                Map.of("a", a, "b", b), ledger, Duration.ofMinutes(1), Duration.ofHours(1));
        var e = event("order-1", "Order", Map.of());
        assertThat(before.handle(e, DELIVERY)).isInstanceOf(Outcome.Retry.class);
        assertThat(a.received).containsExactly("order-1");

        var after = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "a")), Map.of("a", a), ledger,
                Duration.ofMinutes(1), Duration.ofHours(1));
        var again = new Delivery("m-1", new byte[0], Map.of(), 2, Instant.EPOCH, null, null, "q", null);
        assertThat(after.handle(e, again)).isEqualTo(Outcome.done());
        assertThat(a.received).as("written once, before the route was cut").containsExactly("order-1");

        // a copy a redrive moved back from the DLQ is received once here, and was done in part before
        var redriven = new Delivery("m-2", new byte[0], Map.of("ferry.redrive", "run-1"), 1, Instant.EPOCH, null, null, "q",
                null);
        assertThat(after.handle(e, redriven)).isEqualTo(Outcome.done());
        assertThat(a.received).containsExactly("order-1");

        // one SQS's move task moved back (a native redrive): a new message to SQS, received once, its dead letter's
        // attributes kept and no mark of Ferry's added — written again before
        var moved = new Delivery("m-3", new byte[0], Map.of("ferry.deadLetter.reason", "rejected: b refused",
                "ferry.deadLetter.sourceQueue", "q"), 1, Instant.EPOCH, null, null, "q", null);
        assertThat(after.handle(e, moved)).isEqualTo(Outcome.done());
        assertThat(a.received).containsExactly("order-1");

        var other = event("order-2", "Order", Map.of()); // never written: a redelivery of it is written
        assertThat(after.handle(other, again)).isEqualTo(Outcome.done());
        assertThat(a.received).containsExactly("order-1", "order-2");
    }

    @Test // a review: the native redrive's check compared the source's name with the queue's, which differ in most configs
    void aNativeRedrivesCopy_ofASourceNamedUnlikeItsQueue_findsItsTargetsMark() {
        var ledger = InMemoryLedger.create();
        var a = new ScriptedSink("a");
        var b = new ScriptedSink("b", Outcome.reject("b refused"));
        var before = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "a", "b")),
                Map.of("a", a, "b", b), ledger, Duration.ofMinutes(1), Duration.ofHours(1));
        var e = event("order-1", "Order", Map.of());
        var first = new Delivery("m-1", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "orders", null);
        assertThat(before.handle(e, first)).isInstanceOf(Outcome.Reject.class);
        assertThat(a.received).containsExactly("order-1");

        var after = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "a")), Map.of("a", a), ledger,
                Duration.ofMinutes(1), Duration.ofHours(1));
        // source "orders" reads queue "orders-q": its dead letter names both, the queue and (as it differs) the source
        var moved = new Delivery("m-2", new byte[0], Map.of("ferry.deadLetter.reason", "rejected: b refused",
                "ferry.deadLetter.sourceQueue", "orders-q", "ferry.deadLetter.source", "orders"), 1, Instant.EPOCH, null, null,
                "orders", null);
        assertThat(after.handle(e, moved)).isEqualTo(Outcome.done());
        assertThat(a.received).as("not written again").containsExactly("order-1");

        // one another source dead-lettered (a sink that sent it on here), its attributes kept: a first delivery
        var sentOn = new Delivery("m-3", new byte[0], Map.of("ferry.deadLetter.reason", "rejected",
                "ferry.deadLetter.sourceQueue", "payments-q", "ferry.deadLetter.source", "payments"), 1, Instant.EPOCH, null,
                null, "orders", null);
        var other = event("order-2", "Order", Map.of());
        assertThat(after.handle(other, sentOn)).isEqualTo(Outcome.done());
        assertThat(a.received).containsExactly("order-1", "order-2");
    }

    @Test
    void aFanOutInterruptedPartWay_writesNoFurtherTarget_untilTheEventComesBack() {
        // the stop interrupts a worker in the middle of a fan-out: the loop went on, and a sink that wrote its record and
        // then answered "interrupted" had its mark let go — written again when the message came back
        Sink interrupting = new Sink() {
            @Override
            public String name() {
                return "first";
            }

            @Override
            public Outcome publish(Event event) {
                Thread.currentThread().interrupt(); // the stop's interrupt, arriving during this publish
                return Outcome.done();
            }
        };
        var second = new ScriptedSink("second");
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "first", "second")),
                Map.of("first", interrupting, "second", second), InMemoryLedger.create(), Duration.ofMinutes(1),
                Duration.ofHours(1));
        try {
            assertThat(handler.handle(event("e1", "T", Map.of()), DELIVERY)).isInstanceOf(Outcome.Retry.class);
            assertThat(second.received).as("not written while stopping").isEmpty();
        } finally {
            Thread.interrupted();
        }
        assertThat(handler.handle(event("e1", "T", Map.of()), DELIVERY)).isEqualTo(Outcome.done());
        assertThat(second.received).containsExactly("e1");
    }

    @Test
    void trackedFanOut_toTwoSinksThatCallThemselvesTheSame_writesEach_keyedByTheRoutesTargetName() {
        // two Kafka sinks of topic "orders" on two clusters both call themselves kafka:orders by default
        var eu = new ScriptedSink("kafka:orders");
        var us = new ScriptedSink("kafka:orders");
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "eu", "us")),
                Map.of("eu", eu, "us", us), InMemoryLedger.create(), Duration.ofMinutes(1), Duration.ofHours(1));

        assertThat(handler.handle(event("e1", "T", Map.of()), DELIVERY)).isEqualTo(Outcome.done());
        assertThat(eu.received).containsExactly("e1");
        assertThat(us.received).as("not taken for eu's mark").containsExactly("e1");
    }

    @Test
    void sinkThatThrows_becomesRetry_notAnEscapedException() {
        Sink broken = new Sink() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public Outcome publish(Event event) {
                throw new IllegalStateException("socket closed");
            }
        };
        var handler = RoutingHandler.of(Router.of(Route.of("r", EventMatcher.any(), "broken")), Map.of("broken", broken));
        assertThat(handler.handle(event("e", "T", Map.of()), DELIVERY))
                .isInstanceOfSatisfying(Outcome.Retry.class, r -> assertThat(r.reason()).contains("socket closed"));
    }
}
