package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * on-poison park on a Kafka key, on an in-JVM KRaft broker: a poison record parks its key, the key's
 * later records wait in the dead-letter topic in order while other keys flow, and a release
 * produces them back in order; a second release of the key later moves only what was parked since.
 */
@ExtendWith(KafkaBroker.class)
class KafkaParkedGroupsIT {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final Map<String, List<String>> handled = new ConcurrentHashMap<>();
    private final Set<String> poison = ConcurrentHashMap.newKeySet();
    /** Per event, the identity of each delivery it came in: what a raw source keys it by. */
    private final Map<String, List<String>> identities = new ConcurrentHashMap<>();
    private Listener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    /** a1, a2, a3 of key A, a2 refused: A parked at a2 with a3 behind it; the mover of the topic's dead letters. */
    private GroupParker.Mover parkA2(GroupParker parker, String topic) {
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();
        poison.add("a2");
        KafkaBroker.produce(topic, List.of(new String[] {"A", "a1"}, new String[] {"A", "a2"}, new String[] {"A", "a3"}));
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 2).orElse(false)))
                .as(() -> "handled " + handled).isTrue();
        return mover;
    }

    private List<String> handled(String key) {
        return handled.getOrDefault(key, List.of());
    }

    /** A started listener with on-poison park, one attempt per event, whose handler refuses the events named in {@link #poison}. */
    private Listener parkingListener(KafkaSource source, InMemoryLedger ledger) {
        return parkingListener(source, ledger, Clock.systemUTC());
    }

    private Listener parkingListener(KafkaSource source, InMemoryLedger ledger, Clock clock) {
        Handler handler = (event, delivery) -> {
            identities.computeIfAbsent(event.key(), k -> new CopyOnWriteArrayList<>()).add(delivery.deduplicationId());
            if (poison.contains(event.key())) {
                return Outcome.reject(event.key() + " is refused downstream");
            }
            handled.computeIfAbsent(event.groupKey(), k -> new CopyOnWriteArrayList<>()).add(event.key());
            return Outcome.done();
        };
        return Listener.builder(source, KafkaIT.DECODER, handler).ledger(ledger).onPoison(OnPoison.PARK).clock(clock)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(100)).retry(RetryPolicy.of(1,
                        Backoff.fixed(Duration.ofMillis(1)))).build()).build().start();
    }

    @Test
    void aPoisonRecord_parksItsKey_andAReleaseProducesTheKeysRecordsBackInOrder() throws Exception {
        String topic = KafkaBroker.topic("parked", 2);
        KafkaBroker.create(topic + ".dlq", 2);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        listener = parkingListener(source, ledger);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();

        poison.add("a2");
        KafkaBroker.produce(topic, List.of(new String[] {"A", "a1"}, new String[] {"A", "a2"}, new String[] {"B", "b1"},
                new String[] {"A", "a3"}, new String[] {"B", "b2"}, new String[] {"A", "a4"}));
        assertThat(Await.until(LIMIT, () -> handled("B").size() == 2
                && parker.parked("orders", "A").map(p -> p.parked() >= 3).orElse(false))).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1");
        assertThat(parker.parked("orders", "A").orElseThrow().head()).isEqualTo("a2");

        poison.clear();
        var released = parker.release("orders", "A", false, mover, Duration.ofSeconds(20));
        // a dead letter may be written twice (the source's commit lost in a rebalance: at least once), and then goes back
        // twice; the ledger drops the second copy, so what the handler sees is what counts
        assertThat(released.redriven()).isGreaterThanOrEqualTo(3);
        assertThat(Await.until(LIMIT, () -> handled("A").size() == 4)).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1", "a2", "a3", "a4");
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").isEmpty())).as("unparked").isTrue();

        // parked again later: the release moves only what was parked since, dropping the head — even when the key's
        // cursor (its release group's committed offsets) is gone, as Kafka expires an idle group's offsets after a week
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", KafkaBroker.bootstrap()))) {
            admin.deleteConsumerGroups(List.of(((KafkaParkedGroupMover) mover).releaseGroup("A"))).all()
                    .get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        Thread.sleep(KafkaParkedGroupMover.CLOCK_SKEW.toMillis() + 200); // the earlier park's records are older than the skew allowed
        poison.add("a5");
        KafkaBroker.produce(topic, List.of(new String[] {"A", "a5"}, new String[] {"A", "a6"}));
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 2).orElse(false))).isTrue();
        var again = parker.release("orders", "A", true, mover, Duration.ofSeconds(20));
        assertThat(again.redriven()).as("only a6: a5 dropped, a2..a4 not sent again").isBetween(1L, 2L);
        assertThat(again.skipped()).isBetween(1L, 2L);
        assertThat(Await.until(LIMIT, () -> handled("A").size() == 5)).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1", "a2", "a3", "a4", "a6");
    }

    @Test // a review: the park's time is the parking instance's clock, a dead letter's the producer's (or the broker's);
          // with the parker's clock 5 s ahead every record of the park looked older than it, the release moved none
    void aParkerWhoseClockIsAhead_stillReleasesTheParksRecords() throws Exception {
        String topic = KafkaBroker.topic("parked-skew", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var ahead = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(5));
        var parker = new GroupParker(ledger, ahead);
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        listener = parkingListener(source, ledger, ahead);
        var mover = parkA2(parker, topic);

        poison.clear();
        var released = parker.release("orders", "A", false, mover, Duration.ofSeconds(20));
        assertThat(released.redriven()).as("a2 and a3 moved back").isGreaterThanOrEqualTo(2);
        assertThat(Await.until(LIMIT, () -> handled("A").size() == 3)).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1", "a2", "a3");
        // the head came back as itself (its place in the source topic, not its copy's in the dead-letter topic): a raw
        // source keys it alike, and the sinks a fan-out wrote for it before it was parked are not written again
        assertThat(identities.get("a2")).hasSize(2);
        assertThat(identities.get("a2").get(1)).isEqualTo(identities.get("a2").get(0));
    }

    @Test // a review: the head's dead-letter write failed once and was made again a second later, behind the key's later
          // records' copies — and the release moved them back in the dead-letter topic's order: a3, a4 before a2
    void aHeadWhoseDeadLetterWriteFailedOnce_isStillReleasedFirst() throws Exception {
        String topic = KafkaBroker.topic("parked-late-head", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var failOnce = new java.util.concurrent.atomic.AtomicBoolean(false);
        poison.add("a2");
        KafkaBroker.produce(topic, List.of(new String[] {"A", "a1"}, new String[] {"A", "a2"}, new String[] {"A", "a3"},
                new String[] {"A", "a4"}));
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> {
                    if (failOnce.getAndSet(false)) {
                        throw new IllegalStateException("the dead-letter topic's leader is moving");
                    }
                    return t + ".dlq";
                }).build().start();
        failOnce.set(true); // the first write's call, not start's (a look at the topic's cleanup.policy)
        listener = parkingListener(source, ledger);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 3).orElse(false)))
                .as(() -> "handled " + handled).isTrue();
        // the head's copy is written last as a rule; across two settle calls a key's copies may land in another order
        // (RELIABILITY, thirty-first round, left): a CI run under load wrote a4, a2, a3. What this test is about is the
        // release below, which runs the head first whatever the order of the copies
        assertThat(KafkaBroker.readAll(topic + ".dlq", 3)).as("the key's three copies")
                .extracting(r -> new String(r.value(), java.nio.charset.StandardCharsets.UTF_8))
                .containsExactlyInAnyOrder("a2", "a3", "a4");

        poison.clear();
        parker.release("orders", "A", false, mover, Duration.ofSeconds(20));
        assertThat(Await.until(LIMIT, () -> handled("A").size() >= 4)).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1", "a2", "a3", "a4");
    }

    @Test // a record dead-lettered twice (a write that timed out, then landed) is moved back once, and runs once
    void aRecordWithTwoDeadLetterCopies_isMovedBackOnce_evenWhenItsEventsAreKeyedByTheirRecord() throws Exception {
        String topic = KafkaBroker.topic("parked-twice", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .build().start();
        // as the raw decoder keys its events: by the delivery's deduplication id
        dev.ferry.domain.decode.Decoder byRecord = d -> dev.ferry.domain.decode.Decoded.of(List.of(new dev.ferry.domain.model.Event(
                d.deduplicationId() != null ? d.deduplicationId() : d.id(), "raw", d.sentAt(), d.groupKey(), d.body(),
                d.attributes())));
        Handler handler = (event, delivery) -> {
            String value = new String(event.payload(), java.nio.charset.StandardCharsets.UTF_8);
            if (poison.contains(value)) {
                return Outcome.reject(value + " is refused downstream");
            }
            handled.computeIfAbsent(event.groupKey(), k -> new CopyOnWriteArrayList<>()).add(value);
            return Outcome.done();
        };
        listener = Listener.builder(source, byRecord, handler).ledger(ledger).onPoison(OnPoison.PARK)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(100)).retry(RetryPolicy.of(1,
                        Backoff.fixed(Duration.ofMillis(1)))).build()).build().start();
        var mover = parkA2(parker, topic);
        var head = KafkaBroker.readAll(topic + ".dlq", 2).stream()
                .filter(r -> new String(r.value(), java.nio.charset.StandardCharsets.UTF_8).equals("a2")).findFirst().orElseThrow();
        try (var producer = KafkaBroker.producer()) { // the head's second copy, as a late write would leave it
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic + ".dlq", null, head.key(), head.value(),
                    head.headers())).get(30, java.util.concurrent.TimeUnit.SECONDS);
        }

        poison.clear();
        parker.release("orders", "A", false, mover, Duration.ofSeconds(20));
        assertThat(Await.until(LIMIT, () -> handled("A").size() >= 3)).as(() -> "handled " + handled).isTrue();
        Thread.sleep(1000); // a second run of a2 would come now
        assertThat(handled("A")).containsExactly("a1", "a2", "a3");
    }

    @Test
    void aParkedRecordTooLargeForTheDeadLetterTopic_isReadBackFromItsTopic_whenItsKeyIsReleased() throws Exception {
        // the source topic takes records of up to 3 MB, its dead-letter topic only the broker's default (1 MB)
        String topic = "parked-large-" + UUID.randomUUID().toString().substring(0, 8);
        KafkaBroker.create(topic, 1, Map.of("max.message.bytes", "3000000"));
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .producerConfig("max.request.size", "3000000").build().start();
        listener = lengthListener(source, ledger);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000,
                Map.of("max.request.size", "3000000")).parkedGroupMover();

        poison.add("a2");
        String large = "a2" + "x".repeat(1_500_000);
        produceLarge(topic, "A", "a1", large, "a3");
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 2).orElse(false)))
                .as(() -> "parked, handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1:2");

        poison.clear();
        var released = parker.release("orders", "A", false, mover, Duration.ofSeconds(30));
        assertThat(released.redriven()).isGreaterThanOrEqualTo(2);
        assertThat(Await.until(LIMIT, () -> handled("A").size() == 3)).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).as("the large record whole, back from its topic, in its place")
                .containsExactly("a1:2", "a2:" + large.length(), "a3:2");
    }

    @Test // a review: the release's producer kept the client's 1 MiB max.request.size, and a record its topic took that is
          // larger — dead-lettered without its value, read back from its topic to go back — was refused at every release:
          // nothing of the key after it moved, and --skip-head could not skip it (it is not the head)
    void aLargeRecordParkedBehindTheHead_goesBackWhole_withNoMaxRequestSizeSetByTheUser() throws Exception {
        String topic = "parked-large-behind-" + UUID.randomUUID().toString().substring(0, 8);
        KafkaBroker.create(topic, 1, Map.of("max.message.bytes", "3000000"));
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        listener = lengthListener(source, ledger);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();

        poison.add("a2");
        String large = "a3" + KafkaIT.incompressible(2_000_000); // dead letters go compressed: a letter repeated would fit
        produceLarge(topic, "A", "a1", "a2", large, "a4");
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 3).orElse(false)))
                .as(() -> "parked, handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1:2");
        assertThat(KafkaBroker.readAll(topic + ".dlq", 3)).as("a3 dead-lettered without its value, behind the head a2")
                .anyMatch(r -> r.value() == null && r.headers().lastHeader(KafkaSource.VALUE_OMITTED) != null);

        poison.clear();
        var released = parker.release("orders", "A", false, mover, Duration.ofSeconds(30));
        assertThat(released.redriven()).isGreaterThanOrEqualTo(3);
        assertThat(Await.until(LIMIT, () -> handled("A").size() == 4)).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).as("the large record whole, back from its topic, in its place")
                .containsExactly("a1:2", "a2:2", "a3:" + large.length(), "a4:2");
    }

    @Test // a review: a key whose producer sends on during its release was never released — a move told what it moved only
          // at its end, and moved only what was there when its read began: each record sent meanwhile was parked behind,
          // the count stayed below the parked, the release ended NOT_YET, and the key's records built up in the DLQ
    void aKeyWhoseProducerSendsOnDuringItsRelease_isReleased_andEachOfItsRecordsHandledOnceInOrder() throws Exception {
        String topic = KafkaBroker.topic("parked-busy", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        listener = parkingListener(source, ledger);
        // each move's clients take over a second to stop (a pass's own costs, as on a cluster far away): told only once the
        // move returned, its count came after the records sent meanwhile had been parked behind, every time
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000,
                Map.of("interceptor.classes", SlowClosingInterceptor.class.getName())).parkedGroupMover();
        var sent = new CopyOnWriteArrayList<String>(List.of("a1", "a2", "a3"));
        poison.add("a2");
        KafkaBroker.produce(topic, List.of(new String[] {"A", "a1"}, new String[] {"A", "a2"}, new String[] {"A", "a3"}));
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 2).orElse(false)))
                .as(() -> "handled " + handled).isTrue();
        poison.clear();

        var sending = new java.util.concurrent.atomic.AtomicBoolean(true);
        var failed = new java.util.concurrent.atomic.AtomicReference<Throwable>();
        var sender = new Thread(() -> {
            try (var producer = KafkaBroker.producer()) {
                for (int n = 4; sending.get(); n++) {
                    producer.send(new ProducerRecord<>(topic, bytes("A"), bytes("a" + n))).get(30, TimeUnit.SECONDS);
                    sent.add("a" + n);
                    Thread.sleep(1000); // slower than a moved record's round trip back (a faster producer parks on: left)
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "key A's producer");
        sender.start();
        GroupParker.Released released;
        try {
            released = parker.release("orders", "A", false, mover, Duration.ofSeconds(45));
            Thread.sleep(1000); // the key flows again while its producer sends
        } finally {
            sending.set(false);
            sender.join(LIMIT.toMillis());
        }
        assertThat(failed.get()).isNull();
        assertThat(released.finish()).as(() -> "released while its producer sent: " + released + ", parked "
                + parker.parked("orders", "A")).isNotEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").isEmpty() && handled("A").size() >= sent.size()))
                .as(() -> "handled " + handled("A") + " of " + sent + ", parked " + parker.parked("orders", "A")).isTrue();
        Thread.sleep(1000); // a second run of any of them would come now
        assertThat(handled("A")).as("each once, in order").containsExactlyElementsOf(sent);
    }

    @Test // a review: a release stopped at the first batch's end once a record it sent back failed again and parked the
          // key behind it; the rest stayed in the topic below the copies parked behind the new head, and the next release
          // sent them first — the key's records handled out of order
    void aRecordThatFailsAgainDuringARelease_parksTheRestBehindIt_inOrder() throws Exception {
        String topic = KafkaBroker.topic("parked-again", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        listener = parkingListener(source, ledger);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000,
                Map.of("interceptor.classes", SlowSendingInterceptor.class.getName())).parkedGroupMover();
        int count = 2 * ReleaseBatches.BATCH + 50;
        var records = new java.util.ArrayList<String[]>();
        for (int n = 1; n <= count; n++) {
            records.add(new String[] {"A", "a" + n});
        }
        poison.add("a1");
        poison.add("a5");
        KafkaBroker.produce(topic, records);
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= count).orElse(false)))
                .as(() -> "parked " + parker.parked("orders", "A")).isTrue();

        poison.remove("a1");
        try {
            parker.release("orders", "A", true, mover, Duration.ofSeconds(30)); // a1 dropped; a5 fails again
        } catch (dev.ferry.domain.model.FerryException parkedAgain) {
            // said: the key parked again behind a new head
        }
        // every record moved is counted, those sent back after a5 failed again too (a review: they were not, and the key
        // was never drained again): what waits is a5 and the 245 parked behind it
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.head().equals("a5")
                && p.parked() - p.moved() == count - 4).orElse(false)))
                .as(() -> "parked again behind a5: " + parker.parked("orders", "A")).isTrue();
        poison.clear();
        var expected = new java.util.ArrayList<String>(List.of("a2", "a3", "a4"));
        for (int n = 6; n <= count; n++) {
            expected.add("a" + n);
        }
        var again = parker.release("orders", "A", true, mover, Duration.ofSeconds(30)); // a5 dropped
        assertThat(again.finish()).isNotEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(again.notFound()).as("none counted that was not there").isZero();
        assertThat(Await.until(LIMIT, () -> handled("A").size() >= expected.size())).as(() -> "handled " + handled("A"))
                .isTrue();
        Thread.sleep(1000); // a second run of any of them would come now
        assertThat(handled("A")).as("each once, in order").containsExactlyElementsOf(expected);
    }

    @Test // a review: a record its producer sent compressed fits a topic of default settings; read back whole and sent
          // uncompressed by the release, the broker refused it against the topic's max.message.bytes, at every release
    void aLargeRecordItsProducerCompressed_goesBackWhole_toATopicOfDefaultSettings() throws Exception {
        parkedAndReleasedWhole("parked-compressed", "lz4", "a3" + "x".repeat(2_000_000));
    }

    @Test // thirty-sixth round: a record its producer wrote zstd-compressed fit its topic (1 MiB) so; sent back lz4 — whose
          // 64 KiB window misses a repeat zstd finds — it did not: every release stopped at it, and behind the head it
          // could not be skipped, its key parked for good
    void aRecordOnlyADenserCompressionFitsItsTopic_goesBackWhole() throws Exception {
        parkedAndReleasedWhole("parked-zstd", "zstd", onlyZstdFits("a3"));
    }

    /**
     * {@code start} and 1.2 MB after it that only zstd makes fit a topic of default settings (1 MiB): a block of random
     * printable characters, twice — zstd sees the repeat, lz4's 64 KiB window does not.
     */
    static String onlyZstdFits(String start) {
        var random = new java.util.Random(36);
        var block = new StringBuilder();
        for (int i = 0; i < 600_000; i++) {
            block.append((char) ('!' + random.nextInt(90)));
        }
        return start + block + block;
    }

    /**
     * a1, a2 (poison), {@code large} and a4 of key A produced {@code compression}-compressed: parked, {@code large} in the
     * dead-letter topic whole (its topic took it so), then released whole.
     */
    private void parkedAndReleasedWhole(String name, String compression, String large) throws Exception {
        String topic = KafkaBroker.topic(name, 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        listener = lengthListener(source, ledger);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();

        poison.add("a2");
        produceCompressed(topic, compression, "A", "a1", "a2", large, "a4");
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 3).orElse(false)))
                .as(() -> "parked, handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1:2");
        // a review: the dead letter went lz4 (zstd was a release's alone): a3, which only zstd makes fit, was refused, went
        // without its value, and the source committed past it — once its topic aged it out, it was gone for good
        assertThat(KafkaBroker.readAll(topic + ".dlq", 3)).as("a3's dead letter (offset 2)")
                .filteredOn(r -> "2".equals(header(r, KafkaSource.OFFSET))).singleElement().satisfies(a3 -> {
                    assertThat(header(a3, KafkaSource.VALUE_OMITTED)).as("not a copy without its value").isNull();
                    assertThat(a3.value()).as("its value").isNotNull();
                    assertThat(new String(a3.value(), StandardCharsets.UTF_8).equals(large)).as("whole").isTrue();
                });

        poison.clear();
        var released = parker.release("orders", "A", false, mover, Duration.ofSeconds(30));
        assertThat(released.redriven()).isGreaterThanOrEqualTo(3);
        assertThat(Await.until(LIMIT, () -> handled("A").size() == 4)).as(() -> "handled " + handled).isTrue();
        assertThat(handled("A")).containsExactly("a1:2", "a2:2", "a3:" + large.length(), "a4:2");
    }

    /** The text of {@code record}'s last header {@code name}; null when it has none. */
    private static String header(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : KafkaBroker.text(header.value());
    }

    /** A parking listener whose handler records each event as its first two characters and its length ("a3:1500002"). */
    private Listener lengthListener(KafkaSource source, InMemoryLedger ledger) {
        Handler handler = (event, delivery) -> {
            String seq = event.key().substring(0, 2);
            if (poison.contains(seq)) {
                return Outcome.reject(seq + " is refused downstream");
            }
            handled.computeIfAbsent(event.groupKey(), k -> new CopyOnWriteArrayList<>()).add(seq + ":" + event.key().length());
            return Outcome.done();
        };
        return Listener.builder(source, KafkaIT.DECODER, handler).ledger(ledger).onPoison(OnPoison.PARK)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(100)).retry(RetryPolicy.of(1,
                        Backoff.fixed(Duration.ofMillis(1)))).build()).build().start();
    }

    private static void produceLarge(String topic, String key, String... values) {
        produceCompressed(topic, "none", key, values);
    }

    private static void produceCompressed(String topic, String compression, String key, String... values) {
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", KafkaBroker.bootstrap(), "max.request.size", 3_000_000, "enable.idempotence", true,
                "compression.type", compression),
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (var value : values) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic,
                        key.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        value.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test // a review: a release appends its mark after every header of the record it moves back; past the first thousand
          // it was no attribute, and the record was parked behind again while the key's next record passed — every release
    void aReleasedRecordOfManyHeaders_isHandledInItsPlace_andItsKeyUnparked() throws Exception {
        String topic = KafkaBroker.topic("parked-headers", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        listener = parkingListener(source, ledger);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();
        poison.add("a2");
        KafkaBroker.produce(topic, List.of(new String[] {"A", "a1"}, new String[] {"A", "a2"}));
        var headers = new RecordHeaders();
        for (int h = 0; h < 1_200; h++) {
            headers.add("h" + h, new byte[] {'v'});
        }
        try (var producer = KafkaBroker.producer()) { // a producer may send that many: Kafka bounds only a record's bytes
            producer.send(new ProducerRecord<>(topic, null, bytes("A"), bytes("a3"), headers)).get(60, TimeUnit.SECONDS);
        }
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"A", "a4"}));
        assertThat(Await.until(LIMIT, () -> parker.parked("orders", "A").map(p -> p.parked() >= 3).orElse(false)))
                .as(() -> "handled " + handled).isTrue();

        poison.clear();
        parker.release("orders", "A", true, mover, Duration.ofSeconds(20));
        assertThat(Await.until(LIMIT, () -> handled("A").size() >= 3 && parker.parked("orders", "A").isEmpty()))
                .as(() -> "handled " + handled + ", parked " + parker.parked("orders", "A")).isTrue();
        assertThat(handled("A")).as("a3 in its place, its release mark read past its 1,200 headers")
                .containsExactly("a1", "a3", "a4");
    }

    @Test // a review: the head a release sent back failed again, and its copy — the release's token on it, now stale — was
          // read by the release's next pass ahead of the key's next records, still on their way to the dead-letter topic:
          // produced back, it was parked behind them again, and the next release turned the key round
    void aDeadLetterTheReleaseSentBackItself_stopsTheRelease_andNothingFromItOnIsProduced() throws Exception {
        String topic = KafkaBroker.topic("parked-again", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var mover = new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();
        var since = Instant.now().minusSeconds(60);
        var parked = new ParkedGroup("orders", "K", "k1", "m1", "refused", since, since, 3, 0, "T", 0, 0, false, 1);
        try (var producer = KafkaBroker.producer()) {
            var copies = List.of(new String[] {"k1", GroupParker.at(parked), "T#1"},
                    new String[] {"k2", GroupParker.behind(parked), null}, new String[] {"k3", GroupParker.behind(parked), null});
            for (int i = 0; i < copies.size(); i++) {
                var copy = copies.get(i);
                var headers = new RecordHeaders().add(DeadLetterAttributes.REASON, bytes(copy[1]))
                        .add(DeadLetterAttributes.SOURCE, bytes(topic)).add(KafkaSource.PARTITION, bytes("0"))
                        .add(KafkaSource.OFFSET, bytes(Integer.toString(i)));
                if (copy[2] != null) {
                    headers.add(GroupParker.RELEASE_ATTRIBUTE, bytes(copy[2]));
                }
                producer.send(new ProducerRecord<>(topic + ".dlq", null, bytes("K"), bytes(copy[0]), headers))
                        .get(60, TimeUnit.SECONDS);
            }
        }

        var moved = mover.move(parked, "T", false);
        assertThat(moved.problem()).as("the move stops at the copy it sent back itself")
                .contains("parked again while this release ran");
        assertThat(moved.redriven()).isZero();
        assertThat(moved.counted()).isZero();
        assertThat(KafkaBroker.readAll(topic, 1)).as("nothing produced back").isEmpty();

        // its cursor stayed there: the release that follows (another token) takes the key up from it, in order
        var next = mover.move(parked, "T2", false);
        assertThat(next.problem()).isNull();
        assertThat(next.redriven()).isEqualTo(3);
        assertThat(KafkaBroker.readAll(topic, 3)).extracting(r -> KafkaBroker.text(r.value())).containsExactly("k1", "k2", "k3");
    }
}
