package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Hunts for faults nobody thought of (#15): per seed, three listeners on one FIFO and one standard
 * queue share one ledger that injects outages, latency, exceptions and {@code Error}s; handlers
 * throw runtime exceptions and {@code Error}s, return Retry, Throttled and Reject, and outlast the
 * lease; instances are stopped abruptly mid-flight and replaced. After each seed: nothing lost
 * (handled or dead-lettered with a reason), no effect twice except for an instance stopped between
 * its effect and its completion or a copy whose completion the ledger fenced (its lease ran out while
 * its handler ran: the transport handed the message to another instance, whose claim was free — a
 * claim ends with its message's lease, #8 — and Ferry counted and said so), no inversion within a
 * group, nothing dead-lettered but poison.
 *
 * <p>{@code -Dferry.hunt.seeds=N} (default 200) and {@code -Dferry.hunt.seed=S} (the first seed):
 * a failing seed prints the flags that replay it alone.
 */
class FaultHuntTest {

    private static final int SEEDS = Integer.getInteger("ferry.hunt.seeds", 200);
    private static final long FIRST_SEED = Long.getLong("ferry.hunt.seed", 15_000L);
    private static final int MAX_ATTEMPTS = 6;

    enum Kind { NORMAL, FLAKY, SLOW, POISON_REJECT, POISON_ERROR }

    record Planned(String key, String queue, String group, int seq, Kind kind, int failures) {
    }

    record Effect(String key, String instance) {
    }

    @TestFactory
    Stream<DynamicTest> nothingLost_nothingTwice_noInversion_onlyPoisonDeadLettered() {
        return LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS)
                .mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> hunt(seed)));
    }

    private static void hunt(long seed) {
        var rnd = new SplittableRandom(seed);
        var fifoDlq = InMemoryQueue.builder("hunt-dlq.fifo").build();
        var fifo = InMemoryQueue.builder("hunt.fifo").contentBasedDeduplication(true).deadLetterQueue(fifoDlq).build();
        var stdDlq = InMemoryQueue.standard("hunt-dlq");
        var std = InMemoryQueue.builder("hunt").deadLetterQueue(stdDlq).build();
        var plan = plan(rnd, fifo, std);
        var byKey = new HashMap<String, Planned>();
        plan.forEach(p -> byKey.put(p.key(), p));

        var ledger = new ChaosLedger(InMemoryLedger.create(), rnd.split());
        var effects = new CopyOnWriteArrayList<Effect>();
        var attempts = new ConcurrentHashMap<String, AtomicInteger>();
        var stopping = ConcurrentHashMap.<String>newKeySet();
        var instances = new ArrayList<Instance>();
        var chaos = rnd.split();
        var context = new StringBuilder("seed " + seed + " (replay: -Dferry.hunt.seed=" + seed + " -Dferry.hunt.seeds=1)");
        try {
            int next = 0;
            for (; next < 3; next++) {
                instances.add(start("i" + next, fifo, std, handler("i" + next, byKey, effects, attempts, stopping, seed), ledger, seed + next));
            }
            // chaos while the queues drain: ledger outages, abrupt stops with a replacement
            long end = System.nanoTime() + Duration.ofMillis(600 + chaos.nextInt(600)).toNanos();
            while (System.nanoTime() < end) {
                sleep(20 + chaos.nextInt(80));
                int roll = chaos.nextInt(100);
                if (roll < 10) {
                    ledger.outage(Duration.ofMillis(50 + chaos.nextInt(250)));
                } else if (roll < 16 && instances.size() < 8) {
                    var victim = instances.get(chaos.nextInt(instances.size()));
                    if (victim.running()) {
                        stopping.add(victim.name());
                        victim.stop();
                        context.append(", stopped ").append(victim.name());
                        String fresh = "i" + next++;
                        instances.add(start(fresh, fifo, std, handler(fresh, byKey, effects, attempts, stopping, seed), ledger, seed + next));
                    }
                }
            }
            ledger.outage(Duration.ZERO);
            boolean drained = Await.until(Duration.ofSeconds(30), () -> fifo.size() == 0 && std.size() == 0
                    && instances.stream().allMatch(i -> i.inFlight() == 0));
            assertThat(drained).as("drained, " + context + ", fifo " + fifo.size() + ", std " + std.size()).isTrue();
        } finally {
            instances.forEach(Instance::stop);
        }
        check(plan, effects, stopping, ledger.fenced(), fifoDlq, stdDlq, context.toString());
    }

    private static void check(List<Planned> plan, List<Effect> effects, Set<String> stopped, Map<String, Integer> fenced,
                              InMemoryQueue fifoDlq, InMemoryQueue stdDlq, String context) {
        var deadLettered = new HashMap<String, String>();
        for (var dlq : List.of(fifoDlq, stdDlq)) {
            for (var m : dlq.messages()) {
                var reason = m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE);
                assertThat(reason).as("a dead letter carries its reason, " + context).isNotBlank();
                deadLettered.put(m.body().split(" ")[0], reason);
            }
        }
        var handled = new LinkedHashMap<String, List<Effect>>();
        effects.forEach(e -> handled.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e));
        for (var p : plan) {
            boolean poison = p.kind() == Kind.POISON_REJECT || p.kind() == Kind.POISON_ERROR;
            if (poison) {
                assertThat(deadLettered).as("poison " + p + " dead-lettered, " + context).containsKey(p.key());
                assertThat(handled).as("poison has no effect, " + context).doesNotContainKey(p.key());
                continue;
            }
            assertThat(deadLettered).as("only poison is dead-lettered: " + p + " was, " + context).doesNotContainKey(p.key());
            assertThat(handled).as("nothing lost: " + p + ", " + context).containsKey(p.key());
            var copies = handled.get(p.key());
            if (copies.size() > 1) {
                // twice only when an instance was stopped between the effect and its completion, or when a
                // copy's completion was fenced (its lease ran out under a late extension on a loaded machine;
                // the claim, which ends with the lease, was taken by the copy the transport handed out next):
                // every copy but one is one of those
                long excused = copies.stream().filter(e -> stopped.contains(e.instance())).count()
                        + fenced.getOrDefault(p.key(), 0);
                assertThat(excused)
                        .as("effect of " + p.key() + " twice without a stop or a fenced completion in between " + copies
                                + ", fenced " + fenced.getOrDefault(p.key(), 0) + ", " + context)
                        .isGreaterThanOrEqualTo(copies.size() - 1L);
            }
        }
        // no inversion: within a FIFO group, first effects come in the order the messages were sent
        var lastSeq = new HashMap<String, Integer>();
        var seen = new HashSet<String>();
        var byKey = new HashMap<String, Planned>();
        plan.forEach(p -> byKey.put(p.key(), p));
        for (var e : effects) {
            var p = byKey.get(e.key());
            if (!p.queue().equals("fifo") || !seen.add(e.key())) {
                continue;
            }
            int before = lastSeq.getOrDefault(p.group(), 0);
            assertThat(p.seq()).as("inversion in group " + p.group() + ": " + p.key() + " after seq " + before + ", " + context)
                    .isGreaterThan(before);
            lastSeq.put(p.group(), p.seq());
        }
    }

    private static List<Planned> plan(SplittableRandom rnd, InMemoryQueue fifo, InMemoryQueue std) {
        var plan = new ArrayList<Planned>();
        var seqs = new HashMap<String, Integer>();
        for (int i = 0; i < 40; i++) {
            boolean ordered = i % 2 == 0;
            var group = ordered ? "g" + rnd.nextInt(4) : null;
            int seq = ordered ? seqs.merge(group, 1, Integer::sum) : 0;
            int roll = rnd.nextInt(100);
            Kind kind = roll < 60 ? Kind.NORMAL : roll < 82 ? Kind.FLAKY : roll < 90 ? Kind.SLOW
                    : roll < 95 ? Kind.POISON_REJECT : Kind.POISON_ERROR;
            var p = new Planned("m" + i, ordered ? "fifo" : "std", group, seq, kind, 1 + rnd.nextInt(3));
            plan.add(p);
            var body = p.key() + " T";
            if (ordered) {
                fifo.send(InMemoryQueue.Message.of(body, group));
            } else {
                std.send(body);
            }
        }
        return plan;
    }

    private static Handler handler(String instance, Map<String, Planned> byKey, List<Effect> effects,
                                   Map<String, AtomicInteger> attempts, Set<String> stopping, long seed) {
        return (event, delivery) -> {
            var p = byKey.get(event.key());
            int attempt = attempts.computeIfAbsent(p.key(), k -> new AtomicInteger()).incrementAndGet();
            var r = new SplittableRandom(seed * 31 + attempt * 7L + p.key().hashCode());
            switch (p.kind()) {
                case POISON_REJECT -> {
                    return Outcome.reject("poison: " + p.key());
                }
                case POISON_ERROR -> throw new NoClassDefFoundError("poison " + p.key() + ": a plugin class is missing");
                case FLAKY -> {
                    if (attempt <= p.failures()) {
                        return switch (r.nextInt(4)) {
                            case 0 -> throw new IllegalStateException("flaky " + p.key());
                            case 1 -> throw new AssertionError("flaky Error " + p.key());
                            case 2 -> Outcome.retry("flaky " + p.key());
                            default -> Outcome.throttled(Duration.ofMillis(r.nextInt(40)));
                        };
                    }
                }
                case SLOW -> sleep(r.nextInt(2) == 0 ? 350 : 20); // past the 300 ms lease half the time
                default -> { }
            }
            effects.add(new Effect(p.key(), instance));
            return Outcome.done();
        };
    }

    /** One Ferry instance: a listener on each queue, stopped together. */
    private record Instance(String name, Listener fifo, Listener standard) {
        boolean running() {
            return fifo.isRunning();
        }

        long inFlight() {
            return fifo.stats().inFlight() + standard.stats().inFlight();
        }

        void stop() {
            fifo.stop();
            standard.stop();
        }
    }

    private static Instance start(String instance, InMemoryQueue fifo, InMemoryQueue std, Handler handler,
                                  IdempotencyLedger ledger, long seed) {
        var config = ListenerConfig.builder()
                .pollers(1)
                .pollWait(Duration.ofMillis(20))
                .lease(Duration.ofMillis(300))
                .maxInFlight(20)
                .concurrency(4)
                .throttlePause(Duration.ofMillis(1))
                .maxThrottlePause(Duration.ofMillis(10))
                .retry(RetryPolicy.of(MAX_ATTEMPTS, Backoff.fixed(Duration.ofMillis(5))))
                .deadLetter(DeadLetterPolicy.maxReceives(20))
                .shutdownDeadline(Duration.ZERO) // abrupt: whatever runs is released at once
                .build();
        var f = Listener.builder(fifo, fifo, new LineDecoder(), handler).ledger(ledger).config(config).seed(seed).build();
        var s = Listener.builder(std, std, new LineDecoder(), handler).ledger(ledger).config(config).seed(seed + 1).build();
        return new Instance(instance, f.start(), s.start());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A real ledger with outages, latency, store exceptions and Errors. */
    static final class ChaosLedger implements IdempotencyLedger {
        private final IdempotencyLedger inner;
        private final SplittableRandom random;
        private final boolean completionWaits;
        private volatile long downUntil;
        /** Completions the ledger refused (fenced), by key: the claim had been lost. */
        private final Map<String, Integer> fenced = new ConcurrentHashMap<>();
        /** Completions that failed (an injected outage or error), by key: what they recorded may be done again. */
        private final Map<String, Integer> failedCompletes = new ConcurrentHashMap<>();

        Map<String, Integer> failedCompletes() {
            return Map.copyOf(failedCompletes);
        }

        ChaosLedger(IdempotencyLedger inner, SplittableRandom random) {
            this.inner = inner;
            this.random = random;
            this.completionWaits = random.nextBoolean(); // half the seeds record completions off the workers
        }

        @Override
        public boolean completionWaits() {
            return completionWaits;
        }

        Map<String, Integer> fenced() {
            return Map.copyOf(fenced);
        }

        void outage(Duration d) {
            downUntil = System.nanoTime() + d.toNanos();
        }

        private void weather() {
            int roll;
            synchronized (random) {
                roll = random.nextInt(1000);
            }
            if (System.nanoTime() - downUntil < 0) {
                throw new FerryException("ledger outage (injected)", true);
            }
            if (roll < 15) {
                throw new FerryException("ledger timeout (injected)", true);
            }
            if (roll < 20) {
                throw new LinkageError("ledger plugin broke (injected)");
            }
            if (roll < 60) {
                sleep(roll % 5);
            }
        }

        @Override
        public Claim claim(String key, Duration lease) {
            weather();
            return inner.claim(key, lease);
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            try {
                weather();
            } catch (RuntimeException | Error e) {
                failedCompletes.merge(key, 1, Integer::sum);
                throw e;
            }
            boolean completed = inner.complete(key, token, ttl);
            if (!completed) {
                fenced.merge(key, 1, Integer::sum);
            }
            return completed;
        }

        @Override
        public boolean release(String key, long token) {
            weather();
            return inner.release(key, token);
        }

        @Override
        public boolean extend(String key, long token, Duration lease) {
            weather();
            return inner.extend(key, token, lease);
        }
    }

    @SuppressWarnings("unused")
    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
