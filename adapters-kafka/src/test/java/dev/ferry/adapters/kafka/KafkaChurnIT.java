package dev.ferry.adapters.kafka;

import static java.util.stream.Collectors.counting;
import static java.util.stream.Collectors.groupingBy;
import static java.util.stream.Collectors.toSet;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A churn hunt: three Ferry instances (a {@link KafkaSource} and a {@link Listener} each) in one consumer group on a
 * topic of 6 partitions, sharing one ledger as instances sharing a durable one would, take 3,000 records of 60 keys
 * ("k17:42": key 17, its 42nd record) produced over ~10 s. Meanwhile 4–6 of them, picked by a seeded {@link Random},
 * are stopped and replaced by newcomers to the group: most gracefully (listener closed, then source), at least one
 * abruptly the way {@code KafkaIT}'s crash test does it (commits held back by a 1 h {@code commitInterval}, then
 * {@code abandon()}: no final commit, settlements refused). {@code abandon()} still closes the consumer, which leaves
 * the group at once: the wait for a session timeout that a real kill -9 costs is not part of this hunt.
 *
 * <p>Replay a failure with {@code -Dferry.kafkachurn.seed=N}; every assertion names the seed and the schedule.
 */
@ExtendWith(KafkaBroker.class)
class KafkaChurnIT {

    private static final long SEED = Long.getLong("ferry.kafkachurn.seed", 20_261_201L);
    private static final int PARTITIONS = 6;
    private static final int KEYS = 60;
    private static final int PER_KEY = 50;
    /** Records are produced in this many rounds, a second apart; churn happens between them. */
    private static final int TICKS = 10;

    /** The record's key is the group key (Ferry keeps its order); its own identity is the event key the ledger sees. */
    static final Decoder DECODER = d -> Decoded.of(List.of(new Event(
            d.deduplicationId() != null ? d.deduplicationId() : d.id(), "Seq", null, d.groupKey(), d.body(), Map.of())));

    private record Instance(String id, KafkaSource source, Listener listener) {
    }

    private record Effect(String key, int seq, String instance) {
    }

    /** At {@code tick}, instance {@code stopped} goes (abruptly or not) and {@code started} joins the group. */
    private record Churn(int tick, String stopped, boolean abrupt, String started) {
        @Override
        public String toString() {
            return "t" + tick + ": " + stopped + (abrupt ? " abandoned" : " stopped") + ", " + started + " joins";
        }
    }

    private final List<AutoCloseable> opened = new ArrayList<>();
    private final InMemoryLedger ledger = InMemoryLedger.create();   // stands for the durable ledger all instances share
    private final List<Effect> effects = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> handled = ConcurrentHashMap.newKeySet();
    private String topic;
    private String group;

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();      // both are idempotent: instances stopped during the churn are closed again harmlessly
        }
    }

    private <T extends AutoCloseable> T open(T c) {
        opened.add(c);
        return c;
    }

    /** The seeded schedule, decided up front so that a seed always replays the same churn. */
    static List<Churn> schedule(long seed) {
        var random = new Random(seed);
        var ticks = new ArrayList<Integer>();
        for (int t = 1; t < TICKS; t++) {
            ticks.add(t);
        }
        Collections.shuffle(ticks, random);
        var chosen = ticks.subList(0, 4 + random.nextInt(3)).stream().sorted().toList();
        int surelyAbrupt = random.nextInt(chosen.size());
        var live = new ArrayList<>(List.of("i0", "i1", "i2"));
        var churns = new ArrayList<Churn>();
        for (int n = 0; n < chosen.size(); n++) {
            String stopped = live.remove(random.nextInt(live.size()));
            String started = "i" + (3 + n);
            live.add(started);
            churns.add(new Churn(chosen.get(n), stopped, n == surelyAbrupt || random.nextInt(3) == 0, started));
        }
        return churns;
    }

    private Handler handler(String instance) {
        return (event, delivery) -> {
            try {
                Thread.sleep(3);    // a handler that takes a moment: stops and rebalances find records in flight
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Outcome.retry("stopped before its effect");
            }
            String value = event.payloadAsString();
            var parts = value.split(":");
            effects.add(new Effect(parts[0], Integer.parseInt(parts[1]), instance));
            handled.add(value);
            return Outcome.done();
        };
    }

    /** Built as KafkaIT's {@code source} and {@code listen}; an instance to be abandoned commits nothing meanwhile. */
    private Instance start(String id, boolean doomed) {
        var builder = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic));
        if (doomed) {
            builder.commitInterval(Duration.ofHours(1));
        }
        var source = open(builder.build().start());
        var listener = open(Listener.builder(source, source, DECODER, handler(id)).ledger(ledger)
                .config(ListenerConfig.builder().pollers(2).concurrency(8).pollWait(Duration.ofMillis(200))
                        .lease(Duration.ofSeconds(30)).shutdownDeadline(Duration.ofSeconds(2))
                        .retry(RetryPolicy.of(100, Backoff.fixed(Duration.ofMillis(20))))
                        .deadLetter(DeadLetterPolicy.maxReceives(200)).build())
                .seed(SEED).build().start());
        return new Instance(id, source, listener);
    }

    private static void stop(Instance instance, boolean abrupt) {
        if (abrupt) {
            instance.source().abandon();     // like kill -9: no final commit, nothing settled after this counts
            instance.listener().stop();
        } else {
            instance.listener().close();
            instance.source().close();
        }
    }

    /** Round {@code tick}: the next {@code PER_KEY / TICKS} records of every key, in order. */
    private static List<String[]> round(int tick) {
        var records = new ArrayList<String[]>();
        int perTick = PER_KEY / TICKS;
        for (int s = tick * perTick; s < (tick + 1) * perTick; s++) {
            for (int k = 0; k < KEYS; k++) {
                records.add(new String[] {"k" + k, "k" + k + ":" + s});
            }
        }
        return records;
    }

    @Test
    void threeInstancesChurnedWhileRecordsFlow_loseNothing_keepEachKeysOrder_andCommitToTheEnd() throws Exception {
        topic = KafkaBroker.topic("churn", PARTITIONS);
        group = "g-" + UUID.randomUUID();
        var admin = open(Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrap())));
        var churns = schedule(SEED);
        var doomed = churns.stream().filter(Churn::abrupt).map(Churn::stopped).collect(toSet());
        String replay = "seed " + SEED + " (replay: -Dferry.kafkachurn.seed=" + SEED + "), schedule " + churns;

        var live = new LinkedHashMap<String, Instance>();
        var everyone = new LinkedHashMap<String, Instance>();
        for (var id : List.of("i0", "i1", "i2")) {
            live.put(id, start(id, doomed.contains(id)));
        }
        everyone.putAll(live);
        long t0 = System.nanoTime();
        for (int tick = 0; tick < TICKS; tick++) {
            KafkaBroker.produce(topic, round(tick));
            for (var churn : churns) {
                if (churn.tick() == tick) {
                    stop(live.remove(churn.stopped()), churn.abrupt());
                    var joiner = start(churn.started(), doomed.contains(churn.started()));
                    live.put(joiner.id(), joiner);
                    everyone.put(joiner.id(), joiner);
                }
            }
            long wait = t0 + TimeUnit.SECONDS.toNanos(tick + 1) - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }

        // 1. nothing lost: the churn is over, three instances still run
        Await.until(Duration.ofSeconds(90), () -> handled.size() == KEYS * PER_KEY);
        List<Effect> seen;
        synchronized (effects) {
            seen = List.copyOf(effects);
        }
        var stats = new LinkedHashMap<String, String>();
        everyone.forEach((id, i) -> stats.put(id, i.listener().stats().line()));
        String context = replay + "; effects per instance "
                + seen.stream().collect(groupingBy(Effect::instance, TreeMap::new, counting())) + "; stats " + stats;
        var missing = new ArrayList<String>();
        for (int k = 0; k < KEYS; k++) {
            for (int s = 0; s < PER_KEY; s++) {
                if (!handled.contains("k" + k + ":" + s)) {
                    missing.add("k" + k + ":" + s);
                }
            }
        }
        assertThat(missing).as("records never handled, 90 s after the churn; " + context).isEmpty();

        // 2. per-key order across rebalances: a key's first effects come in seq order
        var firsts = new HashMap<String, List<Integer>>();
        var handledBy = new TreeMap<String, List<String>>();
        for (var e : seen) {
            var who = handledBy.computeIfAbsent(e.key() + ":" + e.seq(), pair -> new ArrayList<>());
            if (who.isEmpty()) {
                firsts.computeIfAbsent(e.key(), key -> new ArrayList<>()).add(e.seq());
            }
            who.add(e.instance());
        }
        var inversions = new TreeMap<String, List<Integer>>();
        firsts.forEach((key, seqs) -> {
            for (int i = 1; i < seqs.size(); i++) {
                if (seqs.get(i) < seqs.get(i - 1)) {
                    inversions.put(key, seqs);
                    break;
                }
            }
        });
        assertThat(inversions).as("keys whose first effects are out of order; " + context).isEmpty();

        // 3. docs/RELIABILITY.md: "Duplicated effects are 0 except where a process dies or freezes between its sink
        // write and its ledger completion" (sigterm-under-load: 0), and the shared ledger drops the replays
        // (adapters-kafka/README.md). So an effect twice must involve an instance that was abandoned.
        var unexcused = new TreeMap<String, List<String>>();
        handledBy.forEach((pair, who) -> {
            if (who.size() > 1 && who.stream().noneMatch(doomed::contains)) {
                unexcused.put(pair, who);
            }
        });
        assertThat(unexcused).as("records handled more than once with no abrupt stop among their handlers "
                + "(abandoned: " + doomed + "); " + context).isEmpty();
        // and an abandoned instance's replays are the ledger's to drop: twice only what was between its effect and its
        // completion, a few per instance at most — without the shared ledger every record it handled since its last
        // commit (it held its commits back) ran again
        long twice = handledBy.values().stream().filter(who -> who.size() > 1).count();
        assertThat(twice).as("records handled more than once (abandoned: " + doomed + "); " + context)
                .isLessThanOrEqualTo(doomed.size() * 8L);

        // 4. the group committed to the end of every partition: a newcomer would replay nothing
        var behind = uncommitted(admin);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!behind.isEmpty() && System.nanoTime() - deadline < 0) {
            Thread.sleep(200);
            behind = uncommitted(admin);
        }
        assertThat(behind).as("partitions whose committed offset is short of their end (committed/end); " + context)
                .isEmpty();
    }

    /** Partition → "committed/end" for every partition the group has not committed to its end; an error if asking failed. */
    private Map<String, String> uncommitted(Admin admin) throws InterruptedException {
        var latest = new HashMap<TopicPartition, OffsetSpec>();
        for (int p = 0; p < PARTITIONS; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        try {
            var ends = admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
            var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            var behind = new TreeMap<String, String>();
            ends.forEach((tp, end) -> {
                var at = committed.get(tp);
                long offset = at == null ? -1 : at.offset();
                if (offset < end.offset()) {
                    behind.put(tp.toString(), (offset < 0 ? "none" : offset) + "/" + end.offset());
                }
            });
            return behind;
        } catch (ExecutionException | TimeoutException e) {
            return Map.of("admin", e.toString());       // e.g. the coordinator moving: asked again
        }
    }
}
