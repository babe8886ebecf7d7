package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
 * The engine's promises over many seeded random runs: handlers that succeed, fail, throw,
 * throttle and outlive their lease; duplicates injected; poison and malformed messages.
 *
 * <p>Every run is reproducible from its seed (the handler's choices depend on the seed, the event
 * and the attempt, not on thread timing): {@code -Dferry.property.seed=N -Dferry.property.runs=1}.
 */
class ListenerPropertyTest {

    private static final int RUNS = Integer.getInteger("ferry.property.runs", 24);
    private static final long SEED = Long.getLong("ferry.property.seed", 20261122L);
    private static final Duration LIMIT = Duration.ofSeconds(60);

    /** One message of a scenario: its event key, group, place in the group, and what it is. */
    record Planned(String key, String group, int seq, Kind kind) {
    }

    enum Kind { NORMAL, DUPLICATE, POISON_RETRY, POISON_REJECT, MALFORMED }

    /** An effect the handler made: the event and its place in its group. */
    record Effect(String key, String group, int seq) {
    }

    @TestFactory
    Stream<DynamicTest> nothingLost_nothingTwice_groupOrderKept_poisonDeadLettered() {
        return LongStream.range(SEED, SEED + RUNS)
                .mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> run(seed)));
    }

    @TestFactory
    Stream<DynamicTest> shutdownMidFlight_losesNothing_andLeavesNothingInvisible() {
        return LongStream.range(SEED, SEED + Math.max(1, RUNS / 2))
                .mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> shutdownRun(seed)));
    }

    private static List<Planned> plan(SplittableRandom rnd, int count, int groups, boolean allowBad, boolean duplicates) {
        var plan = new ArrayList<Planned>();
        var seqs = new HashMap<String, Integer>();
        var normals = new ArrayList<Planned>();
        for (int i = 0; i < count; i++) {
            var group = "g" + rnd.nextInt(groups);
            int seq = seqs.merge(group, 1, Integer::sum);
            int roll = rnd.nextInt(100);
            Kind kind = !allowBad || roll >= 8 ? Kind.NORMAL
                    : roll < 3 ? Kind.POISON_RETRY : roll < 5 ? Kind.POISON_REJECT : Kind.MALFORMED;
            if (duplicates && kind == Kind.NORMAL && !normals.isEmpty() && rnd.nextInt(10) == 0) {
                var original = normals.get(rnd.nextInt(normals.size()));
                // Same event under a new message id, later in the same group.
                plan.add(new Planned(original.key(), original.group(), seqs.merge(original.group(), 1, Integer::sum),
                        Kind.DUPLICATE));
            }
            var p = new Planned("k" + i, group, seq, kind);
            plan.add(p);
            if (kind == Kind.NORMAL) {
                normals.add(p);
            }
        }
        return plan;
    }

    private static String body(Planned p) {
        return switch (p.kind()) {
            case MALFORMED -> "!bad " + p.key();
            case POISON_RETRY -> p.key() + " poison-retry";
            case POISON_REJECT -> p.key() + " poison-reject";
            default -> p.key() + " T";
        };
    }

    private static void sendAll(InMemoryQueue queue, List<Planned> plan, boolean fifo) {
        int n = 0;
        for (var p : plan) {
            var body = body(p).getBytes(StandardCharsets.UTF_8);
            queue.send(new InMemoryQueue.Message(body, Map.of(), fifo ? p.group() : null, fifo ? "send-" + n++ : null, null));
        }
    }

    /** The handler: choices from (seed, event, attempt), effects recorded on Done. */
    private static Handler handler(long seed, Map<String, Planned> byKey, List<Effect> effects, Duration lease,
                                   Set<String> groupsRunning, AtomicInteger overlaps) {
        var attempts = new ConcurrentHashMap<String, AtomicInteger>();
        return (event, delivery) -> {
            var planned = byKey.get(event.key());
            var group = delivery.groupKey();
            if (group != null && !groupsRunning.add(group)) {
                overlaps.incrementAndGet();
            }
            try {
                if (event.type().equals("poison-retry")) {
                    return Outcome.retry("poison " + event.key());
                }
                if (event.type().equals("poison-reject")) {
                    return Outcome.reject("poison " + event.key() + " can never be handled");
                }
                int attempt = attempts.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
                var rnd = new SplittableRandom(seed * 1_000_003L + event.key().hashCode() * 31L + attempt);
                int roll = attempt >= 5 ? 0 : rnd.nextInt(100);
                if (roll >= 97) {
                    throw new IllegalStateException("handler crashed on " + event.key());
                }
                if (roll >= 89) {
                    return Outcome.retry("flaky downstream");
                }
                if (roll >= 78) {
                    return Outcome.throttled(Duration.ofMillis(1 + rnd.nextInt(20)));
                }
                if (roll >= 75) {
                    sleep(lease.multipliedBy(2).plusMillis(rnd.nextInt(200)));
                } else if (roll >= 50) {
                    sleep(Duration.ofMillis(rnd.nextInt(3)));
                }
                effects.add(new Effect(event.key(), planned.group(), planned.seq()));
                return Outcome.done();
            } finally {
                if (group != null) {
                    groupsRunning.remove(group);
                }
            }
        };
    }

    private void run(long seed) {
        var rnd = new SplittableRandom(seed);
        boolean fifo = rnd.nextBoolean();
        int groups = 1 + rnd.nextInt(8);
        var plan = plan(rnd, 60 + rnd.nextInt(60), groups, true, true);
        var dlq = InMemoryQueue.builder("prop-dlq" + (fifo ? ".fifo" : "")).build();
        var queue = InMemoryQueue.builder("prop" + (fifo ? ".fifo" : "")).deadLetterQueue(dlq).build();
        sendAll(queue, plan, fifo);

        var byKey = new HashMap<String, Planned>();
        plan.stream().filter(p -> p.kind() != Kind.DUPLICATE).forEach(p -> byKey.put(p.key(), p));
        var effects = new CopyOnWriteArrayList<Effect>();
        var lease = Duration.ofMillis(400);
        var overlaps = new AtomicInteger();
        var handler = handler(seed, byKey, effects, lease, ConcurrentHashMap.newKeySet(), overlaps);
        var config = ListenerConfig.builder()
                .pollers(1 + rnd.nextInt(2))
                .batchSize(1 + rnd.nextInt(10))
                .pollWait(Duration.ofMillis(20))
                .lease(lease)
                .maxInFlight(30)
                .concurrency(2 + rnd.nextInt(4))
                .retry(RetryPolicy.of(6, Backoff.fixed(Duration.ofMillis(5))))
                .deadLetter(DeadLetterPolicy.maxReceives(1_000))
                .throttlePause(Duration.ofMillis(1))
                .maxThrottlePause(Duration.ofMillis(10))
                .build();
        var expectedEffects = new HashSet<String>();
        var expectedDead = new HashSet<String>();
        for (var p : byKey.values()) {
            (p.kind() == Kind.NORMAL ? expectedEffects : expectedDead).add(body(p));
        }
        var listener = Listener.builder(queue, queue, new LineDecoder(), handler)
                .config(config).ledger(InMemoryLedger.create()).seed(seed).build().start();
        try {
            boolean settled = Await.until(LIMIT, () -> queue.size() == 0 && dlq.size() >= expectedDead.size());
            var context = "seed " + seed + " (fifo=" + fifo + ", groups=" + groups + ", messages=" + plan.size() + ")";
            assertThat(settled).as("everything settled within the limit, " + context + "; stats " + listener.stats().line()).isTrue();

            var effectKeys = effects.stream().map(Effect::key).toList();
            var lost = byKey.values().stream().filter(p -> p.kind() == Kind.NORMAL)
                    .map(Planned::key).filter(k -> !effectKeys.contains(k)).toList();
            assertThat(lost).as("lost events, " + context).isEmpty();
            assertThat(effectKeys).as("effects done twice, " + context).doesNotHaveDuplicates();
            assertThat(effectKeys).as("effects of events that should not have any, " + context)
                    .allSatisfy(k -> assertThat(byKey.get(k).kind()).isEqualTo(Kind.NORMAL));

            var dead = dlq.messages();
            assertThat(dead).extracting(InMemoryQueue.Stored::body).as("dead letters, " + context)
                    .containsExactlyInAnyOrderElementsOf(expectedDead);
            assertThat(dead).allSatisfy(m -> assertThat(m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                    .as("reason of " + m.body()).isNotBlank());
            for (var m : dead) {
                var reason = m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE);
                if (m.body().startsWith("!")) {
                    assertThat(reason).startsWith("malformed:");
                } else if (m.body().endsWith("poison-reject")) {
                    assertThat(reason).contains("can never be handled");
                } else {
                    assertThat(reason).contains("failed 6 time(s)");
                }
            }
            if (fifo) {
                assertThat(overlaps).as("two events of one group handled at once, " + context).hasValue(0);
                var byGroup = new HashMap<String, List<Integer>>();
                effects.forEach(e -> byGroup.computeIfAbsent(e.group(), g -> new ArrayList<>()).add(e.seq()));
                byGroup.forEach((group, seqs) -> assertThat(seqs).as("order of group " + group + ", " + context).isSorted());
            }
        } finally {
            var report = listener.stop();
            assertThat(report.stats().inFlight()).isZero();
        }
    }

    private void shutdownRun(long seed) {
        var rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        boolean fifo = rnd.nextBoolean();
        // No duplicates here: a duplicate of an event in progress is rightly put back until that claim's
        // lease ends, which would look like "invisible for a whole lease" to the check below.
        var plan = plan(rnd, 150, 1 + rnd.nextInt(10), false, false);
        var dlq = InMemoryQueue.builder("stop-dlq" + (fifo ? ".fifo" : "")).build();
        var queue = InMemoryQueue.builder("stop" + (fifo ? ".fifo" : "")).deadLetterQueue(dlq).build();
        sendAll(queue, plan, fifo);
        var byKey = new HashMap<String, Planned>();
        plan.stream().filter(p -> p.kind() != Kind.DUPLICATE).forEach(p -> byKey.put(p.key(), p));
        var effects = new CopyOnWriteArrayList<Effect>();
        var lease = Duration.ofSeconds(30);
        var attempted = java.util.concurrent.ConcurrentHashMap.<String>newKeySet();
        Handler handler = (event, delivery) -> {
            var r = new SplittableRandom(seed + event.key().hashCode());
            sleep(Duration.ofMillis(r.nextInt(30)));
            // a retry waited out in hand is the same delivery (its receive count does not grow): count attempts here
            if (r.nextInt(10) == 0 && attempted.add(event.key())) {
                return Outcome.retry("first attempt fails");
            }
            var p = byKey.get(event.key());
            effects.add(new Effect(p.key(), p.group(), p.seq()));
            return Outcome.done();
        };
        var config = ListenerConfig.builder()
                .pollWait(Duration.ofMillis(20))
                .lease(lease)
                .maxInFlight(40)
                .concurrency(1 + rnd.nextInt(6))
                .retry(RetryPolicy.of(5, Backoff.fixed(Duration.ofMillis(20))))
                .shutdownDeadline(Duration.ofMillis(rnd.nextInt(150)))
                .build();
        var listener = Listener.builder(queue, queue, new LineDecoder(), handler)
                .config(config).ledger(InMemoryLedger.create()).seed(seed).build().start();
        int stopAfter = 10 + rnd.nextInt(100);
        assertThat(Await.until(LIMIT, () -> effects.size() >= stopAfter)).isTrue();

        var report = listener.stop();

        var context = "seed " + seed + " (fifo=" + fifo + ", stopped after " + stopAfter + ", report " + report + ")";
        assertThat(report.stats().inFlight()).as(context).isZero();
        // Nothing may sit invisible for the 30 s lease: whatever is left comes back within seconds.
        var remaining = new ArrayList<String>();
        int left = queue.size();
        Await.until(Duration.ofSeconds(10), () -> {
            var got = queue.poll(new PollRequest(10, Duration.ofMillis(50), Duration.ofSeconds(60)));
            got.forEach(d -> remaining.add(new String(d.body(), StandardCharsets.UTF_8)));
            // Acked as drained, or a FIFO group would stay locked behind its leased head.
            queue.settle(got.stream().map(d -> new Settlement(d, Disposition.ACK)).toList());
            return remaining.size() >= left;
        });
        assertThat(remaining).as("messages left in the queue come back at once, " + context).hasSize(left);

        var effectKeys = effects.stream().map(Effect::key).toList();
        assertThat(effectKeys).as("effects done twice, " + context).doesNotHaveDuplicates();
        var accountedFor = new HashSet<String>(effectKeys);
        remaining.forEach(b -> accountedFor.add(b.split(" ")[0]));
        assertThat(dlq.size()).as(context).isZero();
        var lost = byKey.keySet().stream().filter(k -> !accountedFor.contains(k)).toList();
        assertThat(lost).as("neither handled nor back in the queue, " + context).isEmpty();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
