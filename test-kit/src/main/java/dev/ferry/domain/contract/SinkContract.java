package dev.ferry.domain.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link Sink} keeps, whatever the destination: {@code Done} means the
 * destination has the event; concurrent publishers each get their event through once. An adapter's
 * test extends this with a fixture on a real destination.
 */
public abstract class SinkContract {

    /** A sink and a way to read what reached its destination. */
    public interface SinkFixture extends AutoCloseable {
        Sink sink();

        /** Payloads the destination received so far, in the order it holds them, waiting up to 10 s for at least {@code count}. */
        List<String> received(int count);

        /**
         * Whether the destination keeps one group's events in the order they were published (a FIFO queue, a topic's
         * partition, an endpoint called one at a time), and so takes {@link SinkContract}'s order test; false (the
         * default, so that a fixture written before the test keeps passing) skips it.
         */
        default boolean keepsGroupOrder() {
            return false;
        }

        @Override
        void close();
    }

    private final List<SinkFixture> opened = new ArrayList<>();

    protected abstract SinkFixture newFixture();

    private SinkFixture fixture() {
        var f = newFixture();
        opened.add(f);
        return f;
    }

    @AfterEach
    void closeFixtures() {
        opened.forEach(SinkFixture::close);
    }

    protected static Event event(String key, String payload) {
        return new Event(key, "ContractTest", null, "group-" + key, payload.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** One publish, on a thread of its own, failing the test when it takes over 30 s instead of hanging the suite. */
    private static Outcome publish(SinkFixture f, Event event) {
        return Concurrently.within(java.time.Duration.ofSeconds(30), "publish of " + event.key(), () -> f.sink().publish(event));
    }

    @Test
    void publish_isDone_andThePayloadArrives() {
        var f = fixture();
        assertThat(publish(f, event("c-1", "{\"n\":1}"))).isEqualTo(Outcome.done());
        assertThat(f.received(1)).containsExactly("{\"n\":1}");
    }

    @Test
    void oneGroupsEvents_publishedInTurn_arriveInThatOrder() {
        var f = fixture();
        org.junit.jupiter.api.Assumptions.assumeTrue(f.keepsGroupOrder(), "the destination promises no order");
        var sent = new ArrayList<String>();
        for (int i = 0; i < 20; i++) {
            String payload = "{\"seq\":" + i + "}";
            var e = new Event("o-" + i, "ContractTest", null, "one-group", payload.getBytes(StandardCharsets.UTF_8), Map.of());
            assertThat(publish(f, e)).as("publish %d", i).isEqualTo(Outcome.done());
            sent.add(payload);
        }
        assertThat(f.received(20)).as("a sink that spreads one group (a key over partitions) reorders it")
                .containsExactlyElementsOf(sent);
    }

    @Test
    void publish_fromManyThreads_deliversEveryEventOnce() throws Exception {
        var f = fixture();
        var futures = new ArrayList<CompletableFuture<Outcome>>();
        var pool = Concurrently.pool(8); // not closed: close() waits for a publish that hangs, without a bound
        try {
            for (int i = 0; i < 40; i++) {
                int n = i;
                futures.add(CompletableFuture.supplyAsync(() -> f.sink().publish(event("c-" + n, "{\"n\":" + n + "}")), pool));
            }
            for (var future : futures) {
                assertThat(future.get(30, TimeUnit.SECONDS)).isEqualTo(Outcome.done());
            }
        } finally {
            pool.shutdownNow();
        }
        var received = f.received(40);
        assertThat(received).hasSize(40).doesNotHaveDuplicates();
    }

    /**
     * Two events of one payload are two events: a sink that keys what it sends by the body (an idempotency key of its
     * hash, a FIFO queue's content-based deduplication) lost the second within its window and answered it done.
     */
    @Test
    void twoEventsOfOnePayload_areBothDelivered() {
        var f = fixture();
        String payload = "{\"same\":true}";
        assertThat(publish(f, event("same-1", payload))).isEqualTo(Outcome.done());
        assertThat(publish(f, event("same-2", payload))).isEqualTo(Outcome.done());
        assertThat(f.received(2)).as("the second event of the same payload arrives too").containsExactly(payload, payload);
    }

    @Test
    void name_isNotBlank() {
        assertThat(fixture().sink().name()).isNotBlank();
    }
}
