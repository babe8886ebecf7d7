package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.FaultyClock;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hostile, seeded version of {@link AnswerToHandFaultTest}: two pollers over a window of four, and on about one in
 * five polls that brought something the clock read right after it (on that poller's thread only) throws — an
 * {@code OutOfMemoryError} or a {@code RuntimeException}, as the seeded {@link Random} picks. Each time, the poll's
 * deliveries must be given back and their window places freed: with a 5-minute lease, one stranded delivery, or one
 * place lost for good, shows as a payload never handled within the test. Replay: {@code -Dferry.answerhunt.seed=N}.
 */
class AnswerToHandHuntTest {

    private static final long SEED = Long.getLong("ferry.answerhunt.seed", 20261203L);
    private static final int MESSAGES = 200;
    private static final Duration LIMIT = Duration.ofSeconds(30);

    /** Armed on a poller's thread by a poll that brought something: TRUE an OutOfMemoryError, FALSE a RuntimeException. */
    private final ThreadLocal<Boolean> armed = new ThreadLocal<>();
    private final Random random = new Random(SEED);
    private final AtomicInteger faults = new AtomicInteger();
    private final AtomicInteger errors = new AtomicInteger();
    private final AtomicInteger exceptions = new AtomicInteger();

    private final InMemoryQueue queue = InMemoryQueue.standard("orders");
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    /** The queue; a poll that brought something arms, about one time in five, a fault on its poller's thread. */
    private final Source source = new Source() {
        @Override
        public String name() {
            return queue.name();
        }

        @Override
        public List<Delivery> poll(PollRequest request) {
            var got = queue.poll(request);
            if (!got.isEmpty()) {
                synchronized (random) { // two pollers share the seeded draws
                    if (random.nextInt(5) == 0) {
                        armed.set(random.nextBoolean());
                    }
                }
            }
            return got;
        }
    };

    /** The system's clock, but the first read on an armed thread (the one right after its poll) throws. */
    private final Clock clock = new FaultyClock(() -> {
        Boolean fault = armed.get();
        if (fault == null) {
            return null;
        }
        armed.remove();
        faults.incrementAndGet();
        if (fault) {
            errors.incrementAndGet();
            return new OutOfMemoryError("injected (seed " + SEED + "): between the poll's answer and the hand");
        }
        exceptions.incrementAndGet();
        return new IllegalStateException("injected (seed " + SEED + "): between the poll's answer and the hand");
    });

    @Test
    void faultsBetweenAnswerAndHand_onTwoPollers_loseNothing_handleNothingTwice_andKeepTheWindow() {
        var seed = "seed " + SEED + " (replay: -Dferry.answerhunt.seed=" + SEED + ")";
        var handled = new CopyOnWriteArrayList<String>();
        for (int i = 0; i < MESSAGES; i++) {
            queue.send("m" + i);
        }
        listener = Listener.builder(source, queue, new LineDecoder(), (event, delivery) -> {
            handled.add(event.payloadAsString());
            return Outcome.done();
        }).clock(clock).ledger(InMemoryLedger.create()).config(ListenerTest.fast()
                .pollers(2).maxInFlight(4).batchSize(2).concurrency(2).lease(Duration.ofMinutes(5)).build())
                .build().start();

        boolean allHandled = Await.until(LIMIT, () -> new HashSet<>(handled).size() == MESSAGES);
        boolean allSettled = Await.until(LIMIT, () -> listener.stats().acked() >= MESSAGES && queue.size() == 0);
        var stats = listener.stats().line();
        var context = seed + "; faults=" + faults.get() + " (errors=" + errors.get() + ", exceptions=" + exceptions.get()
                + "); handled=" + handled.size() + "; queue size=" + queue.size() + ", in flight=" + queue.inFlightCount()
                + "; " + stats;

        var missing = new HashSet<String>();
        for (int i = 0; i < MESSAGES; i++) {
            missing.add("m" + i);
        }
        missing.removeAll(handled);
        assertThat(allHandled).as("every one of the %d payloads handled within %s, none stranded for its 5-minute "
                + "lease nor kept out by a window place lost; missing %s; %s", MESSAGES, LIMIT, missing, context).isTrue();

        Map<String, Integer> times = new ConcurrentHashMap<>();
        handled.forEach(p -> times.merge(p, 1, Integer::sum));
        var twice = times.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).sorted().toList();
        assertThat(twice).as("no payload handled twice (a give-back is only for deliveries never in hand); %s", context)
                .isEmpty();
        assertThat(handled).as("exactly %d handlings; %s", MESSAGES, context).hasSize(MESSAGES);

        assertThat(allSettled).as("all acked and the queue emptied within %s; %s", LIMIT, context).isTrue();
        assertThat(listener.stats().acked()).as("acked exactly %d, no copy acked besides; %s", MESSAGES, context)
                .isEqualTo(MESSAGES);
        assertThat(queue.size()).as("the queue empty, nothing visible nor in flight; %s", context).isZero();
        assertThat(queue.inFlightCount()).as("nothing leased in the queue; %s", context).isZero();

        assertThat(faults.get()).as("more than 5 faults actually injected, else the hunt proves nothing; %s", context)
                .isGreaterThan(5);
    }
}
