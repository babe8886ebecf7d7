package dev.ferry.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What an embedding application gets from a Listener with the binder: real listener, in-memory queue. */
class FerryMetricsTest {

    @Test
    void countsTimesAndReasons_ofARealListener() throws Exception {
        var registry = new SimpleMeterRegistry();
        var queue = InMemoryQueue.standard("orders");
        Instant minuteAgo = Instant.now().minusSeconds(60);
        Decoder decoder = (delivery) -> {
            String body = new String(delivery.body(), StandardCharsets.UTF_8);
            return new Decoded.Events(List.of(new Event(delivery.id(), body, minuteAgo, null,
                    delivery.body(), Map.of())));
        };
        var metrics = new FerryMetrics("orders");
        var listener = Listener.builder(queue, queue, decoder,
                        (event, delivery) -> event.type().equals("bad") ? Outcome.reject("not an order") : Outcome.done())
                .observer(metrics).config(ListenerConfig.builder().pollers(1).build()).build();
        metrics.watch(listener).bindTo(registry);
        listener.start();
        try {
            queue.send("good");
            queue.send("good");
            queue.send("bad");
            // the observer hears of a settlement beside the listener's own count: waited for too (read at once, the dead
            // letter's counter was now and then still 0 on a loaded machine)
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().settled() == 3
                    && registry.get("ferry.message.time.in.ferry").summary().count() == 3
                    && registry.get("ferry.messages.dead.lettered").tag("reason", "rejected").counter().count() == 1)).isTrue();
            assertThat(registry.get("ferry.messages.received").tag("source", "orders").functionCounter().count()).isEqualTo(3);
            assertThat(registry.get("ferry.messages.acked").functionCounter().count()).isEqualTo(2);
            assertThat(registry.get("ferry.messages.dead.lettered").tag("reason", "rejected").counter().count()).isEqualTo(1);
            assertThat(registry.get("ferry.messages.dead.lettered").tag("reason", "malformed").counter().count()).isZero();
            assertThat(registry.get("ferry.handler").tag("outcome", "done").timer().count()).isEqualTo(2);
            assertThat(registry.get("ferry.handler").tag("outcome", "rejected").timer().count()).isEqualTo(1);
            var age = registry.get("ferry.event.age").summary();
            assertThat(age.count()).isEqualTo(3);
            assertThat(age.max()).isBetween(59.0, 120.0);
            assertThat(registry.get("ferry.message.time.in.ferry").summary().count()).isEqualTo(3);
            // a delivery leaves the listener's hands just after its settlement is counted: waited for too
            var inFlight = registry.get("ferry.messages.in.flight").gauge();
            assertThat(Await.until(Duration.ofSeconds(10), () -> inFlight.value() == 0.0)).as("in flight: " + inFlight.value())
                    .isTrue();
        } finally {
            listener.stop();
        }
    }

    @Test // a review: the registry handed back the meters the first binder made, reading the first (stopped) listener
    void aListenerReplacedByANewOne_withANewBinder_isTheOneReported() throws Exception {
        var registry = new SimpleMeterRegistry();
        Decoder decoder = delivery -> new Decoded.Events(List.of(new Event(delivery.id(), "t", Instant.now(), null,
                delivery.body(), Map.of())));
        var first = InMemoryQueue.standard("orders");
        var old = Listener.builder(first, first, decoder, (event, delivery) -> Outcome.done()).build();
        new FerryMetrics("orders").watch(old).bindTo(registry);
        old.start();
        first.send("one");
        assertThat(Await.until(Duration.ofSeconds(10), () -> old.stats().settled() == 1)).isTrue();
        old.stop();

        var second = InMemoryQueue.standard("orders");
        var replacement = Listener.builder(second, second, decoder, (event, delivery) -> Outcome.done()).build();
        var metrics = new FerryMetrics("orders");
        replacement.start();
        try {
            metrics.watch(replacement).bindTo(registry);
            for (int i = 0; i < 3; i++) {
                second.send("m" + i);
            }
            assertThat(Await.until(Duration.ofSeconds(10), () -> replacement.stats().settled() == 3)).isTrue();
            assertThat(registry.get("ferry.messages.received").tag("source", "orders").functionCounter().count()).isEqualTo(3);
            assertThat(registry.find("ferry.messages.received").meters()).hasSize(1);
            var inFlight = registry.get("ferry.messages.in.flight").gauge(); // the hands are freed just after the count
            assertThat(Await.until(Duration.ofSeconds(10), () -> inFlight.value() == 0.0)).as("in flight: " + inFlight.value())
                    .isTrue();
        } finally {
            replacement.stop();
        }
    }

    @Test
    void deadLetterReasons_fallIntoClasses_byTheEnginesWording() {
        assertThat(FerryMetrics.reasonClass("malformed: not JSON")).isEqualTo("malformed");
        assertThat(FerryMetrics.reasonClass("received 11 times (0 throttled, 0 handed back unhandled), more than maxReceives 10"))
                .isEqualTo("receive_limit");
        assertThat(FerryMetrics.reasonClass("failed 5 time(s), the retry policy allows 5; last failure: boom"))
                .isEqualTo("retries_exhausted");
        assertThat(FerryMetrics.reasonClass("no route matches event type 'x' (event k)")).isEqualTo("unmatched");
        assertThat(FerryMetrics.reasonClass("not an order")).isEqualTo("rejected");
        assertThat(FerryMetrics.reasonClass(null)).isEqualTo("rejected");
    }

    @Test // a review: the age was a timer, whose Prometheus sum is a long of nanoseconds — 292 years in all
    void eventAges_summingPast292Years_keepAPositiveSum_onThePrometheusRegistry() {
        // six events dated at the epoch (a Kafka record's timestamp of -1 read as time, a zero time from Go): the
        // sum wrapped negative for good, read by Prometheus as a counter reset, and the console's mean with it
        var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        var now = Instant.parse("2026-12-02T00:00:00Z");
        var metrics = new FerryMetrics("old", java.time.Clock.fixed(now, java.time.ZoneOffset.UTC));
        metrics.bindTo(registry);
        var event = new Event("e", "t", Instant.EPOCH, null, new byte[0], Map.of());
        for (int i = 0; i < 6; i++) {
            metrics.handled(event, Outcome.done(), 1_000);
        }
        var age = registry.get("ferry.event.age").summary();
        assertThat(age.count()).isEqualTo(6);
        assertThat(age.totalAmount()).isCloseTo(6.0 * now.getEpochSecond(), org.assertj.core.data.Percentage.withPercentage(0.01));
        assertThat(registry.scrape()).contains("ferry_event_age_seconds_count{source=\"old\"} 6")
                .doesNotContain("ferry_event_age_seconds_sum{source=\"old\"} -");
    }

    @Test // a review: the meters hold what they read weakly, and only the binder held it
    void aBinderBoundAndNotKept_goesOnCounting_afterACollection() throws Exception {
        var registry = new SimpleMeterRegistry();
        var queue = InMemoryQueue.standard("kept");
        Decoder decoder = delivery -> new Decoded.Events(List.of(new Event(delivery.id(), "t", Instant.now(), null,
                delivery.body(), Map.of())));
        var listener = Listener.builder(queue, queue, decoder, (event, delivery) -> Outcome.done()).build();
        var canary = bindAndDrop(registry, listener);
        for (int i = 0; i < 50 && canary.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(canary.get()).as("the binder collected").isNull();
        listener.start();
        try {
            queue.send("one");
            assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().acked() == 1)).isTrue();
            assertThat(registry.get("ferry.messages.received").tag("source", "kept").functionCounter().count()).isEqualTo(1.0);
            var inFlight = registry.get("ferry.messages.in.flight").tag("source", "kept").gauge();
            // a number, not NaN; and 0 once the delivery has left the listener's hands (just after its ack is counted)
            assertThat(Await.until(Duration.ofSeconds(10), () -> inFlight.value() == 0.0)).as("in flight: " + inFlight.value())
                    .isTrue();
        } finally {
            listener.stop();
        }
    }

    private static java.lang.ref.WeakReference<FerryMetrics> bindAndDrop(SimpleMeterRegistry registry, Listener listener) {
        var metrics = new FerryMetrics("kept").watch(listener);
        metrics.bindTo(registry);
        return new java.lang.ref.WeakReference<>(metrics);
    }
    @Test // a review: every attempt recorded the event's age, a throttled event hundreds of times in a 429 storm
    void anEventsAge_isNotRecordedForAThrottledAttempt() {
        var registry = new SimpleMeterRegistry();
        var metrics = new FerryMetrics("orders");
        metrics.bindTo(registry);
        var event = new Event("e-1", "T", Instant.now().minusSeconds(5), null, new byte[0], Map.of());
        for (int i = 0; i < 100; i++) {
            metrics.handled(event, Outcome.throttled(Duration.ofSeconds(1)), 1_000);
        }
        metrics.handled(event, Outcome.retry("503"), 1_000); // a sink's outage: the age still said
        metrics.handled(event, Outcome.done(), 1_000);
        var age = registry.get("ferry.event.age").summary();
        assertThat(age.count()).isEqualTo(2);
        assertThat(age.max()).isGreaterThanOrEqualTo(5);
    }

    @Test // a review: a copy dropped unsettled (its lease lapsed) kept its whole payload in the receive times
    void aDeliveryReceivedAndNeverSettled_keepsNoPayload() throws Exception {
        var metrics = new FerryMetrics("orders");
        metrics.bindTo(new SimpleMeterRegistry());
        var body = receiveOnly(metrics);
        for (int i = 0; i < 20 && body.get() != null; i++) {
            System.gc();
            Thread.sleep(50);
        }
        assertThat(body.get()).as("its megabyte let go of").isNull();
    }

    private static java.lang.ref.WeakReference<byte[]> receiveOnly(FerryMetrics metrics) {
        byte[] body = new byte[1 << 20];
        metrics.received(new dev.ferry.domain.model.Delivery("m-9", body, Map.of(), 1, Instant.now(), null, null, "orders",
                "receipt-9"));
        return new java.lang.ref.WeakReference<>(body);
    }

    @Test // a review: kept by id, a second copy in hand at once overwrote the first's time, and the slow copy went missing
    void twoCopiesOfOneMessageInHandAtOnce_eachRecordTheirOwnTimeInFerry() throws Exception {
        var registry = new SimpleMeterRegistry();
        var metrics = new FerryMetrics("orders");
        metrics.bindTo(registry);
        var first = new dev.ferry.domain.model.Delivery("m-1", new byte[] {1}, Map.of(), 1, Instant.now(), null, null,
                "orders", "receipt-1");
        var second = new dev.ferry.domain.model.Delivery("m-1", new byte[] {1}, Map.of(), 2, Instant.now(), null, null,
                "orders", "receipt-2");
        metrics.received(first);
        Thread.sleep(200);
        metrics.received(second); // its lease lapsed: the queue handed it out again while the first copy ran on
        metrics.settled(second, dev.ferry.domain.transport.Disposition.ACK);
        metrics.settled(first, dev.ferry.domain.transport.Disposition.ACK);

        var inFerry = registry.get("ferry.message.time.in.ferry").summary();
        assertThat(inFerry.count()).isEqualTo(2);
        assertThat(inFerry.max()).as("the slow copy's time, in seconds").isGreaterThanOrEqualTo(0.2);
    }

    @Test // the thirty-second round: a timer's Prometheus sum is a long of nanoseconds; time in Ferry sums the deliveries
          // held at once each second (a skip-delete handler's 15,000 a second wrapped it negative in a week)
    void timeInFerry_isASummaryInSeconds_asEventAgeIs_itsSumNoLongOfNanoseconds() {
        var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        var metrics = new FerryMetrics("held");
        metrics.bindTo(registry);
        var delivery = new dev.ferry.domain.model.Delivery("m-1", new byte[] {1}, Map.of(), 1, Instant.now(), null, null,
                "orders", "receipt-1");
        metrics.received(delivery);
        metrics.settled(delivery, dev.ferry.domain.transport.Disposition.ACK);

        assertThat(registry.get("ferry.message.time.in.ferry").summary().count()).isEqualTo(1);
        assertThat(registry.scrape()).contains("ferry_message_time_in_ferry_seconds_count{source=\"held\"} 1")
                .contains("ferry_message_time_in_ferry_seconds_bucket{source=\"held\",le=\"604800.0\"} 1")
                .doesNotContain("ferry_message_time_in_ferry_seconds_sum{source=\"held\"} -");
    }
}
