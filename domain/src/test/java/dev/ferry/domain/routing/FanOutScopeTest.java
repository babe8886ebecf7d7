package dev.ferry.domain.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two sources that share a ledger scope (the same event can arrive on either) fan out to two sinks:
 * a sink that has an event already is not written again when the event comes back on the other source.
 */
class FanOutScopeTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final List<Listener> listeners = new ArrayList<>();

    @AfterEach
    void stopAll() {
        listeners.forEach(Listener::stop);
    }

    private static Sink sink(String name, java.util.function.Function<Event, Outcome> publish) {
        return dev.ferry.domain.testing.TestSinks.of(name, publish);
    }

    @Test
    void aSinkThatHasTheEvent_isNotWrittenAgain_whenTheEventComesBackOnASourceSharingTheScope() {
        var written = new CopyOnWriteArrayList<String>();
        var yCalls = new AtomicInteger();
        var x = sink("x", e -> {
            written.add(e.key());
            return Outcome.done();
        });
        var y = sink("y", e -> yCalls.incrementAndGet() == 1 ? Outcome.retry("y is down for a moment") : Outcome.done());
        var ledger = InMemoryLedger.create();
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")),
                Map.of("x", x, "y", y), ledger, Duration.ofSeconds(30), Duration.ofHours(1));
        var a = InMemoryQueue.standard("a");
        var b = InMemoryQueue.standard("b");
        var slowRetry = ListenerConfig.builder().pollWait(Duration.ofMillis(50)).lease(Duration.ofSeconds(30))
                .retry(RetryPolicy.of(5, Backoff.fixed(Duration.ofSeconds(2)))).build();
        for (var q : List.of(a, b)) {
            var l = Listener.builder(q, q, new LineDecoder(), handler).config(slowRetry).ledger(ledger)
                    .ledgerScope(LedgerKeys.SHARED).build();
            listeners.add(l);
            l.start();
        }

        a.send("order-42");
        assertThat(Await.until(LIMIT, () -> yCalls.get() == 1)).as("x written, y failed: a retries in 2 s").isTrue();
        b.send("order-42"); // the same event, on the other source, meanwhile

        assertThat(Await.until(LIMIT, () -> a.size() + a.inFlightCount() + b.size() + b.inFlightCount() == 0)).isTrue();
        assertThat(written).as("x has the event once").containsExactly("order-42");
    }
}
