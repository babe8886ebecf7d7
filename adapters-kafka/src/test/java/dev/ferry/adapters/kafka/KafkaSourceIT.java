package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Kafka source: a consumer that dies is replaced, buffers are capped by bytes, a Redeliver holds only its key (#16). */
@ExtendWith(KafkaBroker.class)
class KafkaSourceIT {

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

    private static String text(Delivery d) {
        return new String(d.body(), StandardCharsets.UTF_8);
    }

    private static PollRequest request(int max, Duration wait) {
        return new PollRequest(max, wait, Duration.ofSeconds(30));
    }

    private static void ack(KafkaSource source, List<Delivery> deliveries) {
        var failures = source.settle(deliveries.stream().map(d -> new Settlement(d, Disposition.ACK)).toList());
        assertThat(failures).as("acks carried out").isEmpty();
    }

    private static List<String[]> keyed(String prefix, int keys, int perKey) {
        var records = new ArrayList<String[]>();
        for (int i = 0; i < perKey; i++) {
            for (int k = 0; k < keys; k++) {
                records.add(new String[] {"k" + k, prefix + "k" + k + ":" + i});
            }
        }
        return records;
    }

    @Test // #16
    void aConsumerThatDies_isReplacedAfterAPause_meanwhileTheSourceSaysSo_andRecordsKeepFlowing() {
        String topic = KafkaBroker.topic("restart", 2);
        KafkaBroker.produce(topic, keyed("a-", 5, 10));
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .restartBackoff(Duration.ofSeconds(3), Duration.ofSeconds(30)).build().start());
        var effects = new ConcurrentHashMap<String, AtomicInteger>();
        Handler handler = (event, delivery) -> {
            effects.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            return Outcome.done();
        };
        var listener = open(Listener.builder(source, source, KafkaIT.DECODER, handler).ledger(InMemoryLedger.create())
                .config(ListenerConfig.builder().pollers(2).concurrency(8).pollWait(Duration.ofMillis(200))
                        .lease(Duration.ofSeconds(30)).shutdownDeadline(Duration.ofSeconds(2))
                        .retry(RetryPolicy.of(100, Backoff.fixed(Duration.ofMillis(20))))
                        .deadLetter(DeadLetterPolicy.maxReceives(200)).build())
                .build().start());
        assertThat(Await.until(Duration.ofSeconds(30), () -> effects.size() == 50)).as("stats " + listener.stats()).isTrue();
        assertThat(source.healthy()).isTrue();
        assertThat(source.problem()).isEmpty();

        assertThat(Await.until(Duration.ofSeconds(10), () -> source.lag() == 0)).as("lag " + source.lag()).isTrue();
        source.killConsumerLoopOnce();
        var reported = new AtomicReference<String>();
        assertThat(Await.until(Duration.ofSeconds(10), () -> {
            source.problem().ifPresent(reported::set);
            return reported.get() != null;
        })).as("the death is reported").isTrue();
        assertThat(source.lag()).as("not known while the consumer is replaced (the last figure stood before)").isEqualTo(-1);
        assertThat(reported.get()).contains("consumer died").contains("killed by the test hook");
        assertThatThrownBy(() -> source.poll(request(10, Duration.ZERO)))
                .as("polls fail, retryably, while the consumer is being replaced")
                .isInstanceOfSatisfying(FerryException.class, e -> assertThat(e.retryable()).isTrue());

        KafkaBroker.produce(topic, keyed("b-", 5, 10));
        assertThat(Await.until(Duration.ofSeconds(60), () -> effects.size() == 100))
                .as("records flow again after the restart; stats " + listener.stats()).isTrue();
        assertThat(effects.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
        assertThat(source.problem()).isEmpty();
        assertThat(source.healthy()).isTrue();
    }

    @Test // another member joining must not take back partitions that stay here: their records in hand would run twice
    void aMemberJoiningTheGroup_doesNotRevokeThePartitionsThatStay_soTheRecordsInHandAreSettled() {
        String mine = KafkaBroker.topic("stay", 1);
        String theirs = KafkaBroker.topic("join", 1);
        KafkaBroker.produce(mine, List.of(new String[] {"k", "one"}, new String[] {"j", "two"}));
        KafkaBroker.produce(theirs, List.<String[]>of(new String[] {"x", "theirs"}));
        String group = "g-" + UUID.randomUUID();
        var a = open(KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(mine)).build().start());
        var inHand = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(30), () -> {
            inHand.addAll(a.poll(request(10, Duration.ofMillis(200))));
            return inHand.size() == 2;
        })).isTrue();

        var b = open(KafkaSource.builder(KafkaBroker.bootstrap(), group, List.of(theirs)).build().start());
        var got = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(60), () -> {
            got.addAll(b.poll(request(10, Duration.ofMillis(200))));
            return !got.isEmpty();
        })).as("the group rebalanced: the new member has its topic").isTrue();

        var failures = a.settle(inHand.stream().map(d -> new Settlement(d, Disposition.ACK)).toList());
        assertThat(failures).as("the partition stayed with its member through the rebalance").isEmpty();
    }

    @Test // a record of an aborted transaction never happened: it is not handed out (read_committed by default)
    void recordsOfAnAbortedTransaction_areNotHandedOut_thoseOfACommittedOneAre() throws Exception {
        String topic = KafkaBroker.topic("txn", 1);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", KafkaBroker.bootstrap(), "transactional.id", "t-" + UUID.randomUUID(),
                "delivery.timeout.ms", 110_000), new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8), "aborted".getBytes(StandardCharsets.UTF_8)));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8), "committed".getBytes(StandardCharsets.UTF_8)));
            producer.commitTransaction();
        }
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).build().start());
        var got = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(30), () -> {
            got.addAll(source.poll(request(10, Duration.ofMillis(200))));
            return got.stream().anyMatch(d -> text(d).equals("committed"));
        })).isTrue();
        assertThat(got).extracting(KafkaSourceIT::text).containsExactly("committed");
    }

    @Test // a write given up on while the producer still holds it would land later, beside the copy sent again
    void aDeadLetterWrite_isWaitedForPastTheProducersOwnDeliveryTimeout_whateverItIsConfiguredTo() {
        String topic = KafkaBroker.topic("dl-wait", 1);
        var defaults = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .build().start());
        assertThat(defaults.deadLetterWait()).isGreaterThan(Duration.ofMillis(KafkaSource.DEAD_LETTER_DELIVERY_MS))
                .as("the settler is not held longer than before").isLessThanOrEqualTo(Duration.ofSeconds(30));
        var longer = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig("delivery.timeout.ms", 60_000).build().start());
        assertThat(longer.deadLetterWait()).isGreaterThan(Duration.ofSeconds(60));
        var shorter = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig("delivery.timeout.ms", "1000").build().start()); // the producer takes it: requests shortened
        assertThat(shorter.deadLetterWait()).isGreaterThan(Duration.ofSeconds(1)).isLessThan(Duration.ofSeconds(10));
        var usualRequestTimeout = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig("request.timeout.ms", 30_000).build().start()); // a common setting: still starts
        assertThat(usualRequestTimeout.deadLetterWait()).isGreaterThan(Duration.ofSeconds(30));
    }

    @Test // a dead-letter write that throws (the topic function, an Error from the producer) must not strand its record
    void aDeadLetterWriteThatThrows_isAFailure_andTheRecordIsOfferedAgain_notStrandedForEver() {
        String topic = KafkaBroker.topic("dl-throws", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        KafkaBroker.produce(topic, List.of(new String[] {"k", "poison"}, new String[] {"k", "next"}));
        var firstCall = new java.util.concurrent.atomic.AtomicBoolean(false);
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .deadLetterTopic(t -> {
                    if (firstCall.getAndSet(false)) {
                        throw new ExceptionInInitializerError("a plugin's naming function failed");
                    }
                    return t + ".dlq";
                }).build().start());
        firstCall.set(true); // the first write's call, not start's (a look at the topic's cleanup.policy)
        var got = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(30), () -> {
            got.addAll(source.poll(request(10, Duration.ofMillis(200))));
            return got.size() == 2;
        })).isTrue();
        var poison = got.getFirst();
        assertThat(text(poison)).isEqualTo("poison");

        var failures = source.settle(List.of(new Settlement(poison, Disposition.deadLetter("rejected"))));
        assertThat(failures).as("a failure to report, not a throw").hasSize(1);
        assertThat(failures.getFirst().retryable()).isTrue();
        ack(source, List.of(got.get(1)));

        var again = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(30), () -> {
            again.addAll(source.poll(request(10, Duration.ofMillis(200))));
            return !again.isEmpty();
        })).as("the record is offered again").isTrue();
        assertThat(again).extracting(KafkaSourceIT::text).containsExactly("poison");
        assertThat(source.settle(List.of(new Settlement(again.getFirst(), Disposition.deadLetter("rejected"))))).isEmpty();
        assertThat(KafkaBroker.readAll(topic + ".dlq", 1)).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactly("poison");
    }

    @Test
    void anErrorOutOfTheConsumersPoll_replacesTheConsumer_insteadOfEndingTheSource() {
        String topic = KafkaBroker.topic("error", 1);
        ErrorOnceInterceptor.arm(topic);
        KafkaBroker.produce(topic, keyed("e-", 5, 2));
        assertEveryRecordHandled_afterTheConsumerIsReplaced(topic);
    }

    /** The 10 records of {@code topic} (armed to throw once out of the consumer's poll) are each handled once replaced. */
    private void assertEveryRecordHandled_afterTheConsumerIsReplaced(String topic) {
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .consumerConfig("interceptor.classes", ErrorOnceInterceptor.class.getName())
                .restartBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).build().start());
        var effects = new ConcurrentHashMap<String, AtomicInteger>();
        Handler handler = (event, delivery) -> {
            effects.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet();
            return Outcome.done();
        };
        var listener = open(Listener.builder(source, source, KafkaIT.DECODER, handler).ledger(InMemoryLedger.create())
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                        .shutdownDeadline(Duration.ofSeconds(2)).build())
                .build().start());

        assertThat(Await.until(Duration.ofSeconds(30), () -> effects.size() == 10))
                .as("every record handled after the consumer was replaced; stats " + listener.stats()
                        + ", problem " + source.problem()).isTrue();
        assertThat(source.problem()).isEmpty();
    }

    @Test
    void aTopicThatDoesNotExist_isRefusedAtStart_notWaitedOnUnseen() throws Exception {
        // a topic name mistyped: the consumer subscribed, was assigned nothing, and the source stood ready reading nothing
        // while the records on the right topic aged out (and a broker that creates topics made the mistyped one)
        String mistyped = "ordrs-" + UUID.randomUUID().toString().substring(0, 8);
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(mistyped)).build();

        assertThatThrownBy(source::start).isInstanceOf(IllegalStateException.class).hasMessageContaining(mistyped)
                .hasMessageContaining("does not exist");
        source.close();
    }

    @Test
    void anErrorWhoseTextThrows_outOfTheConsumersPoll_replacesTheConsumer_too() {
        // described in the consumer thread's own bookkeeping ("its consumer died (" + death + ")"), the Error threw again
        // and ended the thread: the source consumed nothing more, and liveness never said so
        String topic = KafkaBroker.topic("unreadable-error", 1);
        ErrorOnceInterceptor.armUnreadable(topic);
        KafkaBroker.produce(topic, keyed("u-", 5, 2));
        assertEveryRecordHandled_afterTheConsumerIsReplaced(topic);
    }

    /** Kafka hands a record out again only after a rebalance: one that waited past its lease is still ours to handle. */
    @Test
    void recordsThatWaitedPastTheirLease_behindASlowOneOfTheirKey_areHandled_notDroppedAsStale() {
        String topic = KafkaBroker.topic("waited", 1);
        KafkaBroker.produce(topic, List.of(new String[] {"k", "w-0"}, new String[] {"k", "w-1"}, new String[] {"k", "w-2"}));
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).build().start());
        var handled = new java.util.concurrent.CopyOnWriteArrayList<String>();
        Handler handler = (event, delivery) -> {
            if (handled.isEmpty()) {
                sleep(1_500); // the records behind it wait past their 1 s lease
            }
            handled.add(new String(event.payload(), java.nio.charset.StandardCharsets.UTF_8));
            return Outcome.done();
        };
        var listener = open(Listener.builder(source, source, KafkaIT.DECODER, handler)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(1))
                        .extendLeases(false).shutdownDeadline(Duration.ofSeconds(2)).build())
                .build().start());

        assertThat(Await.until(Duration.ofSeconds(20), () -> handled.size() == 3))
                .as("stats " + listener.stats()).isTrue();
        assertThat(handled).containsExactly("w-0", "w-1", "w-2");
        assertThat(listener.stats().staleDropped()).isZero();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test // #16
    void aPartitionsBuffer_isCappedByBytes_andEverythingStillComesThrough() throws Exception {
        String topic = KafkaBroker.topic("bytes", 1);
        int count = 30;
        String big = "x".repeat(20_000);
        var records = new ArrayList<String[]>();
        for (int i = 0; i < count; i++) {
            records.add(new String[] {"k" + (i % 10), String.format("%02d", i) + big});
        }
        KafkaBroker.produce(topic, records);
        long recordSize = 2 + 2 + 20_000;          // key "kN" + value "NN" + 20,000 x
        long cap = 64 * 1024;
        long maxRecords = cap / recordSize + 1;    // 4: the record that crosses the cap is the last one taken
        var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .maxBufferedBytesPerPartition(cap).build().start());

        assertThat(Await.until(Duration.ofSeconds(30), () -> source.buffered(topic, 0).records() > 0)).isTrue();
        Thread.sleep(500);       // the consumer polls a few more times: nothing more comes in
        var filled = source.buffered(topic, 0);
        assertThat(filled.peakRecords()).as("records in hand " + filled).isLessThanOrEqualTo((int) maxRecords);
        assertThat(filled.peakBytes()).as("bytes in hand " + filled).isLessThan(cap + recordSize);

        var seen = new HashSet<String>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (seen.size() < count && System.nanoTime() - deadline < 0) {
            var batch = source.poll(request(10, Duration.ofMillis(200)));
            batch.forEach(d -> seen.add(text(d).substring(0, 2)));
            ack(source, batch);
            var now = source.buffered(topic, 0);
            assertThat(now.peakRecords()).as("records in hand " + now).isLessThanOrEqualTo((int) maxRecords);
            assertThat(now.peakBytes()).as("bytes in hand " + now).isLessThan(cap + recordSize);
        }
        assertThat(seen).as("every record came through").hasSize(count);
    }

    @Test // #16
    void aRedeliver_holdsOnlyItsKey_otherKeysOfThePartitionGoOn() throws Exception {
        String topic = KafkaBroker.topic("key-hold", 1);
        try (var producer = KafkaBroker.producer()) {
            for (var kv : List.of(new String[] {"A", "A:1"}, new String[] {"B", "B:1"}, new String[] {"A", "A:2"},
                    new String[] {"B", "B:2"})) {
                producer.send(new ProducerRecord<>(topic, kv[0].getBytes(StandardCharsets.UTF_8),
                        kv[1].getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            }
            var source = open(KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                    .build().start());
            var first = source.poll(request(1, Duration.ofSeconds(30)));
            assertThat(first).extracting(KafkaSourceIT::text).containsExactly("A:1");
            assertThat(source.settle(List.of(new Settlement(first.getFirst(), Disposition.redeliver(Duration.ofSeconds(3))))))
                    .isEmpty();
            long t0 = System.nanoTime();
            // sent during A's hold: the partition is not paused for a key's hold, so this is fetched and handed out too
            producer.send(new ProducerRecord<>(topic, "B".getBytes(StandardCharsets.UTF_8),
                    "B:3".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);

            var order = new ArrayList<String>();
            var ackedAtMs = new ConcurrentHashMap<String, Long>();
            var receives = new ConcurrentHashMap<String, Integer>();
            long deadline = t0 + TimeUnit.SECONDS.toNanos(10);
            while (order.size() < 5 && System.nanoTime() - deadline < 0) {
                var batch = source.poll(request(10, Duration.ofMillis(100)));
                ack(source, batch);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                for (var d : batch) {
                    order.add(text(d));
                    ackedAtMs.put(text(d), ms);
                    receives.put(text(d), d.receiveCount());
                }
            }
            assertThat(order).as("handed out: " + order + " at " + ackedAtMs)
                    .containsExactlyInAnyOrder("A:1", "B:1", "A:2", "B:2", "B:3");
            for (var b : List.of("B:1", "B:2", "B:3")) {
                assertThat(ackedAtMs.get(b)).as(b + " handed out and acked while A is held: " + ackedAtMs).isLessThan(1_000);
            }
            assertThat(ackedAtMs.get("A:1")).as("A:1 comes back after its delay: " + ackedAtMs).isGreaterThanOrEqualTo(2_900);
            assertThat(receives.get("A:1")).isEqualTo(2);
            assertThat(order.indexOf("A:1")).as("A:1 again before the later A:2: " + order).isLessThan(order.indexOf("A:2"));
        }
    }
}
