package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.contract.SinkContract;
import dev.ferry.domain.contract.SourceContract;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
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
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Kafka source and sink on a real KRaft broker in this JVM. */
@ExtendWith(KafkaBroker.class)
class KafkaIT {

    /** Value "key:seq" (or "!..." for a poison record) → one event keyed by the value. */
    static final Decoder DECODER = d -> {
        String v = new String(d.body(), StandardCharsets.UTF_8);
        if (v.startsWith("!")) {
            return Decoded.malformed("value starts with '!': not an event");
        }
        return Decoded.of(List.of(new Event(v, "Seq", null, d.groupKey(), d.body(), Map.of())));
    };

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T open(T c) {
        opened.add(c);
        return c;
    }

    private KafkaSource source(String topic, String group) {
        return open(KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic)).build().start());
    }

    private Listener listen(KafkaSource source, Handler handler, InMemoryLedger ledger) {
        return listen(source, DECODER, handler, ledger);
    }

    private Listener listen(KafkaSource source, Decoder decoder, Handler handler, InMemoryLedger ledger) {
        var b = Listener.builder(source, source, decoder, handler)
                .config(ListenerConfig.builder().pollers(2).concurrency(8).pollWait(Duration.ofMillis(200))
                        .lease(Duration.ofSeconds(30)).shutdownDeadline(Duration.ofSeconds(2))
                        .retry(RetryPolicy.of(100, Backoff.fixed(Duration.ofMillis(20))))
                        .deadLetter(DeadLetterPolicy.maxReceives(200)).build());
        if (ledger != null) {
            b.ledger(ledger);
        }
        return open(b.build().start());
    }

    private static List<String[]> sequences(int keys, int perKey) {
        var records = new ArrayList<String[]>();
        for (int i = 0; i < perKey; i++) {
            for (int k = 0; k < keys; k++) {
                records.add(new String[] {"k" + k, "k" + k + ":" + i});
            }
        }
        return records;
    }

    @Test
    void orderPerKey_acrossThreePartitions_underRandomFailures() {
        String topic = KafkaBroker.topic("orders", 3);
        KafkaBroker.produce(topic, sequences(30, 20));
        var seen = new ConcurrentHashMap<String, List<Integer>>();
        var random = new SplittableRandom(3);
        var failures = new AtomicInteger();
        var listener = listen(source(topic, "g-" + UUID.randomUUID()), (event, delivery) -> {
            boolean fail;
            synchronized (random) {
                fail = random.nextInt(10) == 0;
            }
            if (fail) {
                failures.incrementAndGet();
                return Outcome.retry("random failure");
            }
            var parts = event.key().split(":");
            seen.computeIfAbsent(parts[0], k -> new CopyOnWriteArrayList<>()).add(Integer.parseInt(parts[1]));
            return Outcome.done();
        }, null);

        assertThat(Await.until(Duration.ofSeconds(60), () -> listener.stats().acked() == 600))
                .as("stats " + listener.stats()).isTrue();
        assertThat(failures.get()).isGreaterThan(20);
        var expected = java.util.stream.IntStream.range(0, 20).boxed().toList();
        for (int k = 0; k < 30; k++) {
            assertThat(seen.get("k" + k)).as("key k" + k).containsExactlyElementsOf(expected);
        }
    }

    @Test // a review: records fetched and held unfinished (a sink down) were no lag: the gauge read 0 while 100 waited
    void lag_countsTheRecordsHeldUnfinished_notOnlyThoseNotFetched() throws Exception {
        String topic = KafkaBroker.topic("held", 1);
        KafkaBroker.produce(topic, sequences(1, 100));
        var gate = new java.util.concurrent.CountDownLatch(1);
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).build());
        source.start();
        var listener = listen(source, (event, delivery) -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }, null);
        try {
            assertThat(Await.until(Duration.ofSeconds(30), () -> source.buffered(topic, 0).records() == 100))
                    .as("all 100 fetched: " + source.buffered(topic, 0)).isTrue();
            assertThat(Await.until(Duration.ofSeconds(10), () -> source.lag() == 100))
                    .as("lag " + source.lag() + " with 100 held unfinished").isTrue();
        } finally {
            gate.countDown();
        }
        assertThat(Await.until(Duration.ofSeconds(60), () -> listener.stats().acked() == 100 && source.lag() == 0))
                .as("lag " + source.lag() + ", " + listener.stats()).isTrue();
    }

    @Test
    void lag_isWhatTheConsumerHasNotFetched_whileTheHandlerHoldsBack_andZeroOnceDrained() throws Exception {
        String topic = KafkaBroker.topic("lagging", 1);
        KafkaBroker.produce(topic, sequences(1, 500));
        var gate = new java.util.concurrent.CountDownLatch(1);
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .maxBufferedPerPartition(50).build());
        assertThat(source.lag()).as("before it polled").isEqualTo(-1);
        source.start();
        var listener = listen(source, (event, delivery) -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }, null);
        try {
            assertThat(Await.until(Duration.ofSeconds(30), () -> source.lag() > 300)).as("lag " + source.lag()).isTrue();
            // the partition is paused (its buffer full) and so not fetched: its lag stayed at the pause's while the
            // producers went on — flat exactly while the source was behind
            KafkaBroker.produce(topic, sequences(1, 500));
            assertThat(Await.until(Duration.ofSeconds(30), () -> source.lag() > 700))
                    .as("lag " + source.lag() + " after 500 more").isTrue();
        } finally {
            gate.countDown();
        }
        assertThat(Await.until(Duration.ofSeconds(60), () -> listener.stats().acked() == 1000 && source.lag() == 0))
                .as("lag " + source.lag() + ", " + listener.stats()).isTrue();
    }

    @Test
    void consumerKilledMidWay_andRestarted_losesNothing_andTheLedgerDropsTheReplays() {
        String topic = KafkaBroker.topic("crash", 3);
        KafkaBroker.produce(topic, sequences(10, 50));
        String group = "g-" + UUID.randomUUID();
        var ledger = InMemoryLedger.create();   // stands for the durable ledger both runs share
        var effects = new ConcurrentHashMap<String, AtomicInteger>();
        Handler handler = (event, delivery) -> {
            effects.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            return Outcome.done();
        };
        var first = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic))
                .commitInterval(Duration.ofHours(1)).build().start();
        var firstListener = Listener.builder(first, first, DECODER, handler).ledger(ledger)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).build()).build().start();
        assertThat(Await.until(Duration.ofSeconds(30), () -> effects.size() >= 200)).isTrue();
        first.abandon();         // like kill -9: no final commit, nothing settled after this counts
        firstListener.stop();

        var second = source(topic, group);
        var secondListener = listen(second, handler, ledger);
        // the first may have handled all 500 before it was killed: wait for the replays, not just the effects
        assertThat(Await.until(Duration.ofSeconds(60), () -> effects.size() == 500
                && secondListener.stats().duplicatesDropped() > 0 && secondListener.stats().inFlight() == 0))
                .as("stats " + secondListener.stats()).isTrue();
        assertThat(effects.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
        assertThat(secondListener.stats().duplicatesDropped()).as("replayed records dropped by the ledger").isPositive();
    }

    @Test // a review: "for ever" (ChronoUnit.FOREVER) as the commit interval overflowed in nanoseconds on every loop turn:
          // the consumer died and was replaced in a loop, nothing ever committed; as the restart backoff, the thread ended
    void aCommitIntervalAndRestartBackoffOfForEver_commitOnlyAtClose_andTheConsumerLives() {
        String topic = KafkaBroker.topic("forever", 2);
        KafkaBroker.produce(topic, sequences(4, 10));
        String group = "g-" + UUID.randomUUID();
        var forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
        var effects = new ConcurrentHashMap<String, AtomicInteger>();
        Handler handler = (event, delivery) -> {
            effects.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            return Outcome.done();
        };
        var first = KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(topic)).commitInterval(forever)
                .restartBackoff(Duration.ofSeconds(1), forever).build().start();
        var listener = Listener.builder(first, first, DECODER, handler)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).build()).build().start();
        try {
            assertThat(Await.until(Duration.ofSeconds(30), () -> effects.size() == 40 && listener.stats().inFlight() == 0))
                    .as("%s, %s", listener.stats(), first.problem()).isTrue();
            assertThat(first.problem()).as("its consumer never died").isEmpty();
        } finally {
            listener.stop();
            first.close(); // commits what finished
        }
        var second = listen(source(topic, group), handler, null);
        assertThat(Await.until(Duration.ofSeconds(10), () -> second.stats().received() > 0)).as("committed at close: nothing "
                + "read again").isFalse();
        assertThat(effects.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
    }

    @Test
    void secondConsumerJoining_rebalancesWithoutLosingAnything() {
        String topic = KafkaBroker.topic("rebalance", 3);
        KafkaBroker.produce(topic, sequences(12, 100));
        String group = "g-" + UUID.randomUUID();
        var ledger = InMemoryLedger.create();
        var effects = new ConcurrentHashMap<String, AtomicInteger>();
        Handler slow = (event, delivery) -> {
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            effects.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            return Outcome.done();
        };
        var a = listen(source(topic, group), slow, ledger);
        assertThat(Await.until(Duration.ofSeconds(30), () -> effects.size() >= 100)).isTrue();
        var b = listen(source(topic, group), slow, ledger);

        assertThat(Await.until(Duration.ofSeconds(90), () -> effects.size() == 1200)).as("a " + a.stats() + " b " + b.stats()).isTrue();
        assertThat(effects.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
        assertThat(b.stats().received()).as("the joiner got partitions").isPositive();
    }

    @Test
    void poisonRecords_goToTheDeadLetterTopic_withTheirReasons() {
        String topic = KafkaBroker.topic("poison", 2);
        KafkaBroker.create(topic + ".dlq", 1);
        KafkaBroker.produce(topic, List.of(new String[] {"a", "a:1"}, new String[] {"b", "!bad bytes"}, new String[] {"a", "a:2"},
                new String[] {"c", "c:1"}));
        var listener = listen(source(topic, "g-" + UUID.randomUUID()),
                (event, delivery) -> event.key().equals("c:1") ? Outcome.reject("customer c unknown") : Outcome.done(), null);

        assertThat(Await.until(Duration.ofSeconds(30), () -> listener.stats().settled() == 4)).isTrue();
        var dead = KafkaBroker.readAll(topic + ".dlq", 2);
        assertThat(dead).extracting(r -> KafkaBroker.text(r.value()) + " | "
                        + KafkaBroker.text(r.headers().lastHeader(DeadLetterAttributes.REASON).value()))
                .containsExactlyInAnyOrder("!bad bytes | malformed: value starts with '!': not an event", "c:1 | customer c unknown");
        assertThat(dead).allSatisfy(r -> assertThat(KafkaBroker.text(r.headers().lastHeader(DeadLetterAttributes.SOURCE).value()))
                .isEqualTo(topic));
        assertThat(listener.stats().acked()).isEqualTo(2);
    }

    /** What {@link #largePoison} left: what was handled, the listener, and the one dead letter. */
    private record LargePoison(String topic, List<String> handled, Listener listener, ConsumerRecord<byte[], byte[]> copy) {
    }

    /**
     * A topic that takes records of up to 3 MB (its dead-letter topic only the broker's default, 1 MB), one poison
     * record of {@code key} and {@code value} on it and a good one ({@code k:after}) behind it, a listener on it.
     */
    private LargePoison largePoison(String prefix, byte[] key, byte[] value) throws Exception {
        return largePoison(prefix, key, value, new org.apache.kafka.common.header.internals.RecordHeaders(), Map.of());
    }

    /**
     * {@code n} characters that no compression makes much smaller (base64 of random bytes): a dead letter is sent
     * compressed, so a value of one letter repeated fits any topic.
     */
    static String incompressible(int n) {
        var bytes = new byte[n * 3 / 4 + 3];
        new java.util.Random(n).nextBytes(bytes);
        return java.util.Base64.getEncoder().encodeToString(bytes).substring(0, n);
    }

    private LargePoison largePoison(String prefix, byte[] key, byte[] value, org.apache.kafka.common.header.Headers headers,
                                    Map<String, String> deadLetterTopic) throws Exception {
        String topic = prefix + UUID.randomUUID().toString().substring(0, 8);
        KafkaBroker.create(topic, 1, Map.of("max.message.bytes", "3000000"));
        KafkaBroker.create(topic + ".dlq", 1, deadLetterTopic);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", KafkaBroker.bootstrap(), "max.request.size", 3_000_000),
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, null, key, value, headers))
                    .get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"k", "k:after"}));
        var handled = new CopyOnWriteArrayList<String>();
        var listener = listen(source(topic, "g-" + UUID.randomUUID()), (event, delivery) -> {
            handled.add(event.key());
            return Outcome.done();
        }, null);
        var dead = KafkaBroker.readAll(topic + ".dlq", 1);
        assertThat(dead).as("one copy").hasSize(1);
        return new LargePoison(topic, handled, listener, dead.getFirst());
    }

    @Test
    void aPoisonRecordTooLargeForTheDeadLetterTopic_goesThereWithoutItsValue_sayingWhereItIs_andThePartitionGoesOn()
            throws Exception {
        var large = largePoison("large-", "k".getBytes(StandardCharsets.UTF_8),
                ("!" + incompressible(2_000_000)).getBytes(StandardCharsets.UTF_8));
        var copy = large.copy();
        assertThat(copy.value()).as("without the value that cannot fit").isNull();
        assertThat(KafkaBroker.text(copy.key())).isEqualTo("k");
        assertThat(KafkaBroker.text(copy.headers().lastHeader(DeadLetterAttributes.REASON).value())).startsWith("malformed: ");
        assertThat(KafkaBroker.text(copy.headers().lastHeader(KafkaSource.VALUE_OMITTED).value()))
                .contains("did not fit the dead-letter topic").contains(large.topic() + "-0@0");
        assertThat(Await.until(Duration.ofSeconds(30), () -> large.handled().contains("k:after")))
                .as("the key's next record is handled: " + large.listener().stats()).isTrue();
    }

    @Test // a review: the dead-letter producer kept the client's 1 MiB, uncompressed: a 2 MB record went without its value
          // to a dead-letter topic that takes 3 MB, its header blaming the topic
    void aPoisonRecordOverAMegabyte_goesToADeadLetterTopicThatTakesIt_withItsValue() throws Exception {
        String value = "!" + incompressible(2_000_000);
        var large = largePoison("largefits-", "k".getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8),
                new org.apache.kafka.common.header.internals.RecordHeaders(), Map.of("max.message.bytes", "3000000"));
        var copy = large.copy();
        assertThat(copy.value()).as("kept whole").isNotNull();
        assertThat(KafkaBroker.text(copy.value())).isEqualTo(value);
        assertThat(copy.headers().lastHeader(KafkaSource.VALUE_OMITTED)).isNull();
    }

    @Test // a release's mark went with the other headers: the record a release sent back, failing again, was parked as a
          // head the next release did not know for one, and sent after the rest of its key
    void aRecordSentBackByARelease_tooLargeForTheDeadLetterTopic_keepsItsReleaseMarkThere() throws Exception {
        var headers = new org.apache.kafka.common.header.internals.RecordHeaders()
                .add(GroupParker.RELEASE_ATTRIBUTE, "T0#2".getBytes(StandardCharsets.UTF_8))
                .add("big", "y".repeat(600).getBytes(StandardCharsets.UTF_8));
        var large = largePoison("largemark-", "k".getBytes(StandardCharsets.UTF_8),
                ("!" + incompressible(2_000_000)).getBytes(StandardCharsets.UTF_8), headers, Map.of());
        var copy = large.copy();
        assertThat(copy.value()).isNull();
        assertThat(KafkaBroker.text(copy.headers().lastHeader(GroupParker.RELEASE_ATTRIBUTE).value())).isEqualTo("T0#2");
        assertThat(copy.headers().lastHeader("big")).as("the record's other headers stay with it").isNull();
    }

    @Test // refused again for its key alone, the copy failed for good and held the partition for ever
    void aPoisonRecordWhoseKeyAloneIsTooLargeForTheDeadLetterTopic_goesThereWithoutIt_namedByItsHash() throws Exception {
        var large = largePoison("largekey-", incompressible(2_000_000).getBytes(StandardCharsets.UTF_8),
                "!poison".getBytes(StandardCharsets.UTF_8));
        var copy = large.copy();
        assertThat(copy.key()).as("without the key that cannot fit").isNull();
        assertThat(KafkaBroker.text(copy.headers().lastHeader(KafkaSource.KEY_OMITTED).value()))
                .startsWith("sha256:").endsWith("(2000000 bytes)");
        assertThat(KafkaBroker.text(copy.headers().lastHeader(KafkaSource.VALUE_OMITTED).value()))
                .contains(large.topic() + "-0@0");
        assertThat(Await.until(Duration.ofSeconds(30), () -> large.handled().contains("k:after")))
                .as("the partition goes on: " + large.listener().stats()).isTrue();
    }

    @Test
    void aRecordRejectedWithAHugeReason_goesToTheDeadLetterTopicWithItsValue_theReasonCut() throws Exception {
        // a 600 KB record and a reason as long (a handler quoting the body): together over the topic's 1 MB, the copy went
        // without its value — which then lived only in the source topic, until its retention
        String topic = "reasons-" + UUID.randomUUID().toString().substring(0, 8);
        KafkaBroker.create(topic, 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var body = "x".repeat(600_000);
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"k", body}));
        var listener = listen(source(topic, "g-" + UUID.randomUUID()),
                (event, delivery) -> Outcome.reject("invalid document: " + body), null);

        var dead = KafkaBroker.readAll(topic + ".dlq", 1);
        assertThat(dead).as(listener.stats().line()).hasSize(1);
        var copy = dead.getFirst();
        assertThat(copy.value()).as("the value kept").isNotNull();
        assertThat(KafkaBroker.text(copy.value())).isEqualTo(body);
        assertThat(KafkaBroker.text(copy.headers().lastHeader(DeadLetterAttributes.REASON).value()))
                .startsWith("invalid document: xxx").hasSizeLessThan(70_000);
    }

    @Test
    void aTombstone_relayedThroughAKafkaSink_isATombstoneAgain() throws Exception {
        // it became an empty value on the way: a compacted topic downstream kept the key it was meant to delete
        String from = KafkaBroker.topic("tombstones-in", 1);
        String to = KafkaBroker.topic("tombstones-out", 1);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", KafkaBroker.bootstrap()), new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(from, "k".getBytes(StandardCharsets.UTF_8),
                    null)).get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        var sink = open(KafkaSink.builder(KafkaBroker.bootstrap(), to).build());
        Decoder raw = d -> Decoded.of(List.of(new Event(d.id(), "Raw", null, d.groupKey(), d.body(), d.attributes())));
        var listener = listen(source(from, "g-" + UUID.randomUUID()), raw, (event, delivery) -> sink.publish(event), null);

        var out = KafkaBroker.readAll(to, 1);
        assertThat(out).as(listener.stats().line()).hasSize(1);
        assertThat(out.getFirst().value()).as("a tombstone").isNull();
        assertThat(KafkaBroker.text(out.getFirst().key())).isEqualTo("k");
    }

    @Test
    void fanOutToTwoTopics_oneFailingForAWhile_writesEachTargetOnce() throws Exception {
        String qa = KafkaBroker.topic("qa-archive-new", 1);
        String prod = "prod-archive-new-" + UUID.randomUUID().toString().substring(0, 8);   // not there yet
        var qaSink = open(KafkaSink.builder(KafkaBroker.bootstrap(), qa).valueFromAttribute("s3.key").build());
        var prodSink = open(KafkaSink.builder(KafkaBroker.bootstrap(), prod).valueFromAttribute("s3.key")
                .config("max.block.ms", 1000).build());
        var ledger = InMemoryLedger.create();
        var router = Router.of(Route.of("archive", EventMatcher.any(), "qa", "prod"));
        var handler = RoutingHandler.tracked(router, Map.<String, Sink>of("qa", qaSink, "prod", prodSink), ledger,
                Duration.ofSeconds(30), Duration.ofHours(1));
        var queue = InMemoryQueue.standard("s3-notifications");
        Decoder s3ish = d -> {
            String key = new String(d.body(), StandardCharsets.UTF_8);
            return Decoded.of(List.of(new Event("bucket/" + key, "ObjectCreated", null, "bucket/" + key, d.body(),
                    Map.of("s3.key", key))));
        };
        var listener = open(Listener.builder(queue, queue, s3ish, handler).ledger(ledger)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(100)).lease(Duration.ofSeconds(30))
                        .retry(RetryPolicy.of(1000, Backoff.fixed(Duration.ofMillis(200))))
                        .deadLetter(DeadLetterPolicy.maxReceives(1000)).build())
                .build().start());
        for (int i = 0; i < 5; i++) {
            queue.send("archive/file-" + i + ".gz");
        }
        // the topic not there looks like an outage from the sink: waited out (throttled), within the sink's patience
        assertThat(Await.until(Duration.ofSeconds(10), () -> listener.stats().throttled() >= 5)).as("prod is down").isTrue();
        Thread.sleep(1000);
        KafkaBroker.create(prod, 1);     // prod comes back

        assertThat(Await.until(Duration.ofSeconds(60), () -> listener.stats().acked() == 5)).as("stats " + listener.stats()).isTrue();
        var toQa = KafkaBroker.readAll(qa, 5);
        var toProd = KafkaBroker.readAll(prod, 5);
        assertThat(toQa).extracting(r -> KafkaBroker.text(r.value())).as("qa written once per file despite the retries")
                .containsExactlyInAnyOrder("archive/file-0.gz", "archive/file-1.gz", "archive/file-2.gz",
                        "archive/file-3.gz", "archive/file-4.gz");
        assertThat(toProd).hasSize(5);
        assertThat(toQa.getFirst().headers().lastHeader("ferry.event.type").value())
                .isEqualTo("ObjectCreated".getBytes(StandardCharsets.UTF_8));
        assertThat(KafkaBroker.text(toQa.getFirst().key())).startsWith("bucket/archive/file-");
    }

    @Nested
    class SinkPromises extends SinkContract {
        @Override
        protected SinkFixture newFixture() {
            String topic = KafkaBroker.topic("sink-contract", 1);
            var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).build();
            return new SinkFixture() {
                @Override
                public Sink sink() {
                    return sink;
                }

                @Override
                public boolean keepsGroupOrder() {
                    return true;
                }

                @Override
                public List<String> received(int count) {
                    return KafkaBroker.readAll(topic, count).stream().map(r -> KafkaBroker.text(r.value())).toList();
                }

                @Override
                public void close() {
                    sink.close();
                }
            };
        }
    }

    @Nested
    class SourcePromises extends SourceContract {
        @Override
        protected SourceFixture newFixture() {
            String topic = KafkaBroker.topic("source-contract", 1);
            var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).build().start();
            return new SourceFixture() {
                @Override
                public Source source() {
                    return source;
                }

                @Override
                public Acknowledger acknowledger() {
                    return source;
                }

                @Override
                public void offer(String body) {
                    KafkaBroker.produce(topic, List.<String[]>of(new String[] {null, body}));
                }

                @Override
                public void close() {
                    source.close();
                }
            };
        }
    }
}
