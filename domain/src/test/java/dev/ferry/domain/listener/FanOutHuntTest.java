package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.routing.EventMatcher;
import dev.ferry.domain.routing.Route;
import dev.ferry.domain.routing.Router;
import dev.ferry.domain.routing.RoutingHandler;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The fault hunt of fan-out: per seed, three instances on one standard queue route every event to two
 * sinks through one ledger (events' claims and the targets' marks) that injects outages, latency,
 * exceptions and {@code Error}s; the sinks fail, throttle and outlast the lease now and then; instances
 * are stopped abruptly mid-flight — between one sink's write and the other's — and replaced. After
 * each seed: every event written to both sinks, or dead-lettered with its reason; a sink written twice
 * only where the write's instance was stopped before its mark was recorded, or the mark's (or the
 * event's) completion failed or was fenced — the cases the marks cannot cover, and say so.
 *
 * <p>{@code -Dferry.fanout.seeds=N} (default 40) and {@code -Dferry.fanout.seed=S} (the first seed).
 */
class FanOutHuntTest {

    private static final int SEEDS = Integer.getInteger("ferry.fanout.seeds", 40);
    private static final long FIRST_SEED = Long.getLong("ferry.fanout.seed", 40_000L);
    private static final Duration LEASE = Duration.ofMillis(300);

    record Write(String key, String sink, String instance) {
    }

    @TestFactory
    Stream<DynamicTest> everyEventOnBothSinks_aSinkTwiceOnlyWhereTheMarksCouldNotSay() {
        return LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS)
                .mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> hunt(seed)));
    }

    private static void hunt(long seed) {
        var rnd = new SplittableRandom(seed);
        var dlq = InMemoryQueue.standard("fan-dlq");
        var queue = InMemoryQueue.builder("fan").deadLetterQueue(dlq).build();
        var keys = new ArrayList<String>();
        for (int i = 0; i < 30; i++) {
            keys.add("m" + i);
            queue.send("m" + i + " T");
        }
        var ledger = new FaultHuntTest.ChaosLedger(InMemoryLedger.create(), rnd.split());
        var writes = new CopyOnWriteArrayList<Write>();
        var stopped = ConcurrentHashMap.<String>newKeySet();
        var instances = new ArrayList<Instance>();
        var chaos = rnd.split();
        var context = new StringBuilder("seed " + seed + " (replay: -Dferry.fanout.seed=" + seed + " -Dferry.fanout.seeds=1)");
        try {
            int next = 0;
            for (; next < 3; next++) {
                instances.add(start("i" + next, queue, ledger, writes, seed + next));
            }
            long end = System.nanoTime() + Duration.ofMillis(600 + chaos.nextInt(600)).toNanos();
            while (System.nanoTime() < end) {
                sleep(20 + chaos.nextInt(80));
                int roll = chaos.nextInt(100);
                if (roll < 10) {
                    ledger.outage(Duration.ofMillis(50 + chaos.nextInt(250)));
                } else if (roll < 18 && instances.size() < 8) {
                    var victim = instances.get(chaos.nextInt(instances.size()));
                    if (victim.listener().isRunning()) {
                        stopped.add(victim.name());
                        victim.listener().stop();
                        context.append(", stopped ").append(victim.name());
                        String fresh = "i" + next++;
                        instances.add(start(fresh, queue, ledger, writes, seed + next));
                    }
                }
            }
            ledger.outage(Duration.ZERO);
            boolean drained = Await.until(Duration.ofSeconds(30), () -> queue.size() == 0
                    && instances.stream().allMatch(i -> i.listener().stats().inFlight() == 0));
            assertThat(drained).as("drained, " + context + ", left " + queue.size()).isTrue();
        } finally {
            instances.forEach(i -> i.listener().stop());
        }
        check(keys, writes, stopped, ledger, dlq, context.toString());
    }

    private static void check(List<String> keys, List<Write> writes, Set<String> stopped, FaultHuntTest.ChaosLedger ledger,
                              InMemoryQueue dlq, String context) {
        var deadLettered = new HashMap<String, String>();
        for (var m : dlq.messages()) {
            var reason = m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE);
            assertThat(reason).as("a dead letter carries its reason, " + context).isNotBlank();
            deadLettered.put(m.body().split(" ")[0], reason);
        }
        var fenced = ledger.fenced();
        var failed = ledger.failedCompletes();
        for (var key : keys) {
            for (var sink : List.of("x", "y")) {
                var copies = writes.stream().filter(w -> w.key().equals(key) && w.sink().equals(sink)).toList();
                if (!deadLettered.containsKey(key)) {
                    assertThat(copies).as("nothing lost: " + key + " on " + sink + ", " + context).isNotEmpty();
                }
                if (copies.size() > 1) {
                    String mark = LedgerKeys.target("fan", key, sink);
                    String claim = LedgerKeys.event("fan", key);
                    long excused = copies.stream().filter(w -> stopped.contains(w.instance())).count()
                            + fenced.getOrDefault(mark, 0) + failed.getOrDefault(mark, 0)
                            + fenced.getOrDefault(claim, 0) + failed.getOrDefault(claim, 0);
                    assertThat(excused).as(sink + " written " + copies.size() + " times for " + key + " " + copies
                            + " without a stop, a fenced or a failed completion to say why, " + context)
                            .isGreaterThanOrEqualTo(copies.size() - 1L);
                }
            }
        }
    }

    private record Instance(String name, Listener listener) {
    }

    private static Instance start(String name, InMemoryQueue queue, FaultHuntTest.ChaosLedger ledger, List<Write> writes,
                                  long seed) {
        var random = new SplittableRandom(seed * 17);
        var sinks = Map.<String, Sink>of("x", sink("x", name, writes, random), "y", sink("y", name, writes, random));
        var handler = RoutingHandler.tracked(Router.of(Route.of("both", EventMatcher.any(), "x", "y")), sinks, ledger,
                LEASE, Duration.ofHours(1));
        var config = ListenerConfig.builder()
                .pollers(1)
                .pollWait(Duration.ofMillis(20))
                .lease(LEASE)
                .maxInFlight(20)
                .concurrency(4)
                .throttlePause(Duration.ofMillis(1))
                .maxThrottlePause(Duration.ofMillis(10))
                .retry(RetryPolicy.of(12, Backoff.fixed(Duration.ofMillis(5))))
                .deadLetter(DeadLetterPolicy.maxReceives(40))
                .shutdownDeadline(Duration.ZERO) // abrupt: whatever runs is released at once
                .build();
        var listener = Listener.builder(queue, queue, new LineDecoder(), handler).ledger(ledger).config(config).seed(seed)
                .build().start();
        return new Instance(name, listener);
    }

    /** A sink that writes (recorded with its instance) or fails, throttles or is slow now and then. */
    private static Sink sink(String sinkName, String instance, List<Write> writes, SplittableRandom shared) {
        return new Sink() {
            @Override
            public String name() {
                return sinkName;
            }

            @Override
            public Outcome publish(Event event) {
                int roll;
                synchronized (shared) {
                    roll = shared.nextInt(100);
                }
                if (roll < 8) {
                    return Outcome.retry(sinkName + " is down for a moment");
                }
                if (roll < 12) {
                    throw new IllegalStateException(sinkName + " threw");
                }
                if (roll < 15) {
                    return Outcome.throttled(Duration.ofMillis(roll));
                }
                if (roll < 20) {
                    sleep(350); // past the lease: the message may be handed to another instance meanwhile
                }
                writes.add(new Write(event.key(), sinkName, instance));
                return Outcome.done();
            }
        };
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
