package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A dead-letter topic that compacts loses dead letters (the last of each key kept; a copy without its value,
 * or a dead-lettered tombstone, deletes the others): a source writing to one is refused at start.
 */
@ExtendWith(KafkaBroker.class)
class KafkaDeadLetterTopicIT {

    @Test // a review: nothing looked at the dead-letter topic's cleanup.policy
    void aDeadLetterTopicThatCompacts_isRefusedAtStart_namingTheTopicAndTheSetting() {
        String topic = KafkaBroker.topic("dlq-compacted", 1);
        KafkaBroker.create(topic + ".dlq", 1, Map.of("cleanup.policy", "compact"));
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).build();
        try {
            assertThatThrownBy(source::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'" + topic + ".dlq'").hasMessageContaining("cleanup.policy=compact");
            assertThat(source.problem()).as("nothing started").hasValueSatisfying(p -> assertThat(p).contains("not started"));
        } finally {
            source.close();
        }
    }

    @Test
    void aDeadLetterTopicThatDeletes_orIsNotMadeYet_doesNotStopAStart() {
        String deletes = KafkaBroker.topic("dlq-deletes", 1);
        KafkaBroker.create(deletes + ".dlq", 1, Map.of("cleanup.policy", "delete"));
        String notYet = KafkaBroker.topic("dlq-not-yet", 1);
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(deletes, notYet))
                .build().start()) {
            assertThat(source.problem()).isEmpty();
        }
    }

    @Test // a review: each dead letter to a topic not there waited max.block.ms (5 s) in turn, every ack behind them
    void aSettlesDeadLetters_toATopicNotThere_waitForItsMetadataOnce_notEachInTurn() throws Exception {
        String topic = KafkaBroker.topic("dlq-missing", 1);
        String dlq = topic + ".dlq"; // not made, and the broker makes no topic on its own
        var produced = new ArrayList<String[]>();
        for (int i = 0; i < 6; i++) {
            produced.add(new String[] {"k" + i, "v" + i});
        }
        KafkaBroker.produce(topic, produced);
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .build().start()) {
            var got = handedOut(source, 6);
            var failures = CompletableFuture.supplyAsync(() -> source.settle(
                    got.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList())).get(60, TimeUnit.SECONDS);
            assertThat(failures).as("every dead letter refused, none taken for written").hasSize(6)
                    .allSatisfy(f -> assertThat(f.reason()).contains(dlq));
            assertThat(CountingInterceptor.sends(dlq)).as("one send waited for the topic's metadata; the rest were not sent")
                    .isEqualTo(1);

            // a review: remembered by one settle only, each owed dead letter offered again waited the 5 s out anew
            var offeredAgain = handedOut(source, 6); // owed: handed out again a second on
            long begin = System.nanoTime();
            var again = CompletableFuture.supplyAsync(() -> source.settle(offeredAgain.stream()
                    .map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList())).get(60, TimeUnit.SECONDS);
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
            assertThat(again).as("refused again").hasSize(6);
            assertThat(CountingInterceptor.sends(dlq)).as("the next settle sent none: the topic is remembered").isEqualTo(1);
            assertThat(tookMillis).as("the next settle waited no metadata (max.block.ms is %s ms)",
                    KafkaDeadLetters.MAX_BLOCK_MS).isLessThan(KafkaDeadLetters.MAX_BLOCK_MS);
        }
    }

    @Test // a review: a settle's dead letters were written one after another, each a round trip, every ack of the source behind them
    void aSettlesDeadLetters_ofDifferentKeys_areSentAtOnce_andThoseOfOneKey_inTheirOrder() throws Exception {
        String topic = KafkaBroker.topic("dlq-at-once", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        var produced = new ArrayList<String[]>();
        for (int i = 0; i < 8; i++) {
            produced.add(new String[] {"k" + i, "v" + i});
        }
        produced.add(new String[] {"same", "first"});
        produced.add(new String[] {"same", "second"});
        KafkaBroker.produce(topic, produced);
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .build().start()) {
            var got = handedOut(source, 10);
            CountingInterceptor.shut(dlq);     // the broker writes each copy; its answer is held back
            try {
                var settled = CompletableFuture.supplyAsync(() -> source.settle(
                        got.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList()));
                assertThat(Await.until(Duration.ofSeconds(20), () -> CountingInterceptor.sends(dlq) >= 9))
                        .as("nine sent before any answer (one after another, the second waits for the first): %s",
                                CountingInterceptor.sends(dlq)).isTrue();
                assertThat(settled).isNotDone();
                assertThat(CountingInterceptor.sends(dlq)).as("a key's second record waits for its first's answer").isEqualTo(9);
                CountingInterceptor.open(dlq);
                assertThat(settled.get(60, TimeUnit.SECONDS)).isEmpty();
            } finally {
                CountingInterceptor.open(dlq);
            }
            var copies = KafkaBroker.readAll(dlq, 10);
            assertThat(copies).extracting(r -> KafkaBroker.text(r.value()))
                    .containsExactlyInAnyOrder("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "first", "second");
            assertThat(copies.stream().filter(r -> "same".equals(KafkaBroker.text(r.key()))).map(r -> KafkaBroker.text(r.value())))
                    .as("one key's records in their order").containsExactly("first", "second");
        }
    }

    @Test // a review: once a key's dead letter failed, its later ones were each sent and waited out in turn, every ack behind
    void aKeysDeadLetterThatFails_isNotFollowedByTheKeysLaterOnes_inTheSameSettle() throws Exception {
        String topic = KafkaBroker.topic("dlq-key-failed", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        KafkaBroker.produce(topic, List.of(new String[] {"same", "first"}, new String[] {"same", "second"},
                new String[] {"same", "third"}));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .producerConfig(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 2_000)
                .build().start()) {
            var got = handedOut(source, 3);
            CountingInterceptor.shut(dlq); // no answer to the first: it fails when its wait is out
            try {
                var failed = source.settle(got.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList());
                assertThat(failed).as("all three owed, to be offered again").hasSize(3)
                        .allSatisfy(f -> assertThat(f.retryable()).isTrue());
                assertThat(failed).filteredOn(f -> f.reason().contains("an earlier dead letter of its key")).hasSize(2);
                assertThat(CountingInterceptor.sends(dlq)).as("the key's later records not sent behind the one that failed")
                        .isEqualTo(1);
            } finally {
                CountingInterceptor.open(dlq);
            }
        }
    }

    @Test // a review: a key's second dead letter waits for its first's write; once that outlasted the revocation's wait
          // for it, the second was still sent, for a partition no longer ours: its next owner read it again and
          // dead-lettered (or parked, or ran) it a second time
    void aKeysLaterDeadLetter_isNotSent_onceItsPartitionsRevocationStoppedWaiting() throws Exception {
        String topic = KafkaBroker.topic("dlq-revoked-between", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        KafkaBroker.produce(topic, List.of(new String[] {"same", "first"}, new String[] {"same", "second"}));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .build().start()) {
            var got = handedOut(source, 2);
            var buffers = buffers(source);
            var tp = new TopicPartition(topic, 0);
            CountingInterceptor.shut(dlq); // the first's answer held back: its write outlasts the revocation's wait
            try {
                var settled = CompletableFuture.supplyAsync(() -> source.settle(
                        got.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList()));
                assertThat(Await.until(Duration.ofSeconds(20), () -> CountingInterceptor.sends(dlq) >= 1))
                        .as("the key's first sent").isTrue();
                // as the consumer's rebalance does: its wait for the dead letters under way ends; the partition goes
                Revocations.awaitDeadLetters(buffers, List.of(tp), TimeUnit.MILLISECONDS.toNanos(100));
                buffers.drop(List.of(tp));
                CountingInterceptor.open(dlq);
                assertThat(settled.get(60, TimeUnit.SECONDS)).as("neither taken: the next owner reads both again")
                        .hasSize(2).allSatisfy(f -> {
                            assertThat(f.reason()).contains("revoked");
                            assertThat(f.retryable()).as("not owed here").isFalse();
                        });
            } finally {
                CountingInterceptor.open(dlq);
            }
            assertThat(CountingInterceptor.sends(dlq)).as("the key's second not sent, its partition gone").isEqualTo(1);
            assertThat(KafkaBroker.readAll(dlq, 1)).extracting(r -> KafkaBroker.text(r.value()))
                    .containsExactly("first");
        }
    }

    @Test // a review: a dead letter too large for its topic waited in place for its copy without the value (25 s, a slow
          // broker), and the round's other dead letter, written in ms, was told only then: its partition's revocation gave
          // up waiting, its last commit stayed below it, and the next owner ran it again, its copy in the topic besides
    void aDeadLetterTooLargeForItsTopic_doesNotHoldBackAnotherThatWasWritten_whileItsCopyIsUnanswered() throws Exception {
        String large = KafkaBroker.topic("dlq-too-large", 1);
        String other = KafkaBroker.topic("dlq-beside-too-large", 1);
        KafkaBroker.create(large + ".dlq", 1, Map.of("max.message.bytes", "20000"));
        KafkaBroker.create(other + ".dlq", 1);
        KafkaBroker.produce(large, List.<String[]>of(new String[] {"x", KafkaIT.incompressible(100_000)}));
        KafkaBroker.produce(other, List.<String[]>of(new String[] {"y", "y:poison"}));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(large, other))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, OmittedCopyInterceptor.class.getName())
                .build().start()) {
            var got = handedOut(source, 2);
            // the one too large first: the round's writes were told in its order, the other behind it though written
            got.sort(Comparator.comparing((Delivery d) -> !((PartitionBuffer.Rec) d.receipt()).record.topic().equals(large)));
            var buffers = buffers(source);
            var otherPartition = new TopicPartition(other, 0);
            OmittedCopyInterceptor.hold(large + ".dlq", other + ".dlq"); // the copy's answer held, once the other's came
            try {
                var settled = CompletableFuture.supplyAsync(() -> source.settle(
                        got.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList()));
                assertThat(Await.until(Duration.ofSeconds(30), () -> OmittedCopyInterceptor.holding(large + ".dlq")))
                        .as("the copy without its value sent, its answer held back").isTrue();
                // as the consumer's rebalance does when the other's partition goes: waits for its dead letters under way
                Revocations.awaitDeadLetters(buffers, List.of(otherPartition), Revocations.DEAD_LETTERS_WAITED.toNanos());
                assertThat(deadLettering(buffers, otherPartition))
                        .as("the other's write told before its revocation stopped waiting: its last commit passes it").isFalse();
                assertThat(settled).as("the copy still unanswered").isNotDone();
                OmittedCopyInterceptor.open(large + ".dlq");
                assertThat(settled.get(60, TimeUnit.SECONDS)).as("both written: the copy once answered, told as any other")
                        .isEmpty();
            } finally {
                OmittedCopyInterceptor.open(large + ".dlq");
            }
            assertThat(KafkaBroker.readAll(large + ".dlq", 1)).singleElement().satisfies(copy -> {
                assertThat(copy.value()).as("without the value that cannot fit").isNull();
                assertThat(KafkaBroker.text(copy.key())).isEqualTo("x");
                assertThat(KafkaBroker.text(copy.headers().lastHeader(KafkaSource.VALUE_OMITTED).value()))
                        .contains(large + "-0@0");
            });
            assertThat(KafkaBroker.readAll(other + ".dlq", 1)).extracting(r -> KafkaBroker.text(r.value()))
                    .containsExactly("y:poison");
        }
    }

    @Test // a review: the copy of a dead letter too large for its topic was sent without asking whether its partition went:
          // the refusal slow (a leader moving), the partition's revocation stopped waiting and committed below the record,
          // the copy landed for a partition no longer ours, and its next owner dead-lettered the record a second time
    void aDeadLetterTooLargeForItsTopic_isNotCopied_onceItsPartitionsRevocationStoppedWaiting() throws Exception {
        String topic = KafkaBroker.topic("dlq-too-large-revoked", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1, Map.of("max.message.bytes", "20000"));
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"x", KafkaIT.incompressible(100_000)}));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .build().start()) {
            var got = handedOut(source, 1);
            var buffers = buffers(source);
            var tp = new TopicPartition(topic, 0);
            CountingInterceptor.shut(dlq); // the topic's refusal of the record held back (its answer, failed or not)
            try {
                var settled = CompletableFuture.supplyAsync(() -> source.settle(
                        List.of(new Settlement(got.getFirst(), Disposition.deadLetter("poison")))));
                assertThat(Await.until(Duration.ofSeconds(20), () -> CountingInterceptor.sends(dlq) >= 1))
                        .as("the record sent, whole").isTrue();
                // as the rebalance does: its wait for the dead letters under way ends, its commit below the record
                Revocations.awaitDeadLetters(buffers, List.of(tp), TimeUnit.MILLISECONDS.toNanos(100));
                assertThat(settled).as("the refusal still held back").isNotDone();
                CountingInterceptor.open(dlq); // the refusal comes only now
                assertThat(settled.get(60, TimeUnit.SECONDS)).as("not taken: the next owner reads it again")
                        .singleElement().satisfies(f -> {
                            assertThat(f.reason()).contains("revoked");
                            assertThat(f.retryable()).as("not owed here").isFalse();
                        });
            } finally {
                CountingInterceptor.open(dlq);
            }
            buffers.drop(List.of(tp)); // the partition goes: closing, the source waits for no dead letter of it
            assertThat(CountingInterceptor.sends(dlq)).as("no copy without its value sent, its partition gone").isEqualTo(1);
            assertThat(KafkaBroker.readAll(dlq, 1)).as("no copy in the dead-letter topic: its next owner's is the only one")
                    .isEmpty();
        }
    }

    @Test // a review: an Error making the copy of a dead letter too large for its topic (no memory) was thrown out of its
          // round: the settle offered again each dead letter of it not told yet, the other, written already, among them,
          // and that one went to its dead-letter topic twice
    void anErrorMakingTheCopyOfADeadLetterTooLarge_failsThatOneAlone_andTheOtherOfItsRoundIsToldWritten() throws Exception {
        String large = KafkaBroker.topic("dlq-copy-error", 1);
        String other = KafkaBroker.topic("dlq-beside-copy-error", 1);
        KafkaBroker.create(large + ".dlq", 1, Map.of("max.message.bytes", "20000"));
        KafkaBroker.create(other + ".dlq", 1);
        KafkaBroker.produce(large, List.<String[]>of(new String[] {"x", KafkaIT.incompressible(100_000)}));
        KafkaBroker.produce(other, List.<String[]>of(new String[] {"y", "y:poison"}));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(large, other))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .build().start()) {
            var got = handedOut(source, 2);
            got.sort(Comparator.comparing((Delivery d) -> !topicOf(d).equals(large))); // told first: the other after it
            var copiesMade = new AtomicInteger();
            TooLargeDeadLetters.copyFault = () -> {
                copiesMade.incrementAndGet();
                throw new OutOfMemoryError("test: no memory for the copy without its value");
            };
            List<Settlement.Failure> failures;
            try {
                var settled = CompletableFuture.supplyAsync(() -> source.settle(
                        got.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList()));
                assertThat(settled).as("the Error not thrown out of the settle").succeedsWithin(Duration.ofSeconds(60));
                failures = settled.join();
            } finally {
                TooLargeDeadLetters.copyFault = null;
            }
            assertThat(copiesMade).as("its copy was being made").hasValue(1);
            assertThat(failures).as("the one too large alone not written: owed, offered again").singleElement()
                    .satisfies(f -> {
                        assertThat(topicOf(f.settlement().delivery())).isEqualTo(large);
                        assertThat(f.reason()).contains("OutOfMemoryError");
                        assertThat(f.retryable()).isTrue();
                    });
            assertThat(CountingInterceptor.sends(large + ".dlq")).as("no copy sent").isEqualTo(1);
            var again = handedOut(source, 1); // a second on
            assertThat(again).as("the one too large offered again; the other, written, not")
                    .extracting(KafkaDeadLetterTopicIT::topicOf).containsOnly(large);
            assertThat(CountingInterceptor.sends(other + ".dlq")).as("the other sent once").isEqualTo(1);
            assertThat(KafkaBroker.readAll(other + ".dlq", 1)).extracting(r -> KafkaBroker.text(r.value()))
                    .containsExactly("y:poison");
        }
    }

    @Test // a review: a dead letter went lz4 unless set otherwise (zstd was a release's alone): a record its producer wrote
          // zstd — 1.2 MB with a repeat lz4's 64 KiB window misses — fit its topic's 1 MiB so, and its dead letter was
          // refused; its copy went without the value, the source committed past it, and its topic's retention ended it
    void aPoisonRecordOnlyZstdMakesFitItsTopic_goesToADeadLetterTopicOfTheSameSettings_whole() throws Exception {
        String topic = KafkaBroker.topic("dlq-zstd", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1); // both of the broker's default settings: 1 MiB a batch
        String value = KafkaParkedGroupsIT.onlyZstdFits("!");
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                KafkaBroker.bootstrap(), ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd",
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 3_000_000), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, bytes("k"), bytes(value))).get(60, TimeUnit.SECONDS);
        }
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .build().start()) {
            var got = handedOut(source, 1);
            var failures = CompletableFuture.supplyAsync(() -> source.settle(
                    List.of(new Settlement(got.getFirst(), Disposition.deadLetter("poison"))))).get(60, TimeUnit.SECONDS);
            assertThat(failures).as("written").isEmpty();
        }
        assertThat(KafkaBroker.readAll(dlq, 1)).singleElement().satisfies(copy -> {
            assertThat(copy.headers().lastHeader(KafkaSource.VALUE_OMITTED)).as("not a copy without its value").isNull();
            assertThat(copy.value()).as("its value").isNotNull();
            assertThat(KafkaBroker.text(copy.value()).equals(value)).as("whole, as its topic took it").isTrue();
            assertThat(KafkaBroker.text(copy.key())).isEqualTo("k");
        });
    }

    @Test // a review: a stop's interrupt that came once the broker had confirmed a dead letter, before the settle read its
          // answer, made that write "interrupted while writing" (the client's answer is a latch, whose wait looks at the
          // interrupt before its count): the record was offered again, and went to its dead-letter topic a second time
    void aDeadLetterTheBrokerConfirmed_isToldWritten_whenTheSettleIsInterruptedBeforeReadingItsAnswer() throws Exception {
        String topic = KafkaBroker.topic("dlq-interrupted-answered", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        KafkaBroker.produce(topic, List.of(new String[] {"a", "a:poison"}, new String[] {"b", "b:poison"}));
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic))
                .producerConfig(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, InterruptingInterceptor.class.getName())
                .build().start()) {
            var got = handedOut(source, 2);
            got.sort(Comparator.comparing(KafkaDeadLetterTopicIT::valueText)); // a's sent first; b's send then waits for it
            InterruptingInterceptor.arm(dlq, "b:poison");
            List<Settlement.Failure> failures;
            try {
                // on a thread of its own: the interrupt stays on it (a common-pool thread runs other tests' work next)
                var settled = new FutureTask<List<Settlement.Failure>>(() -> source.settle(got.stream()
                        .map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList()));
                Thread.ofPlatform().name("ferry-test-settle").start(settled);
                failures = settled.get(60, TimeUnit.SECONDS);
            } finally {
                InterruptingInterceptor.disarm();
            }
            assertThat(InterruptingInterceptor.interrupted()).as("the settle interrupted, a's write answered").isTrue();
            assertThat(failures).as("a's write, confirmed before the interrupt, told written: not offered again")
                    .noneMatch(f -> valueText(f.settlement().delivery()).equals("a:poison"));
            assertThat(failures).as("b's alone, not answered when the interrupt came, told interrupted: offered again")
                    .allSatisfy(f -> {
                        assertThat(valueText(f.settlement().delivery())).isEqualTo("b:poison");
                        assertThat(f.reason()).contains("interrupted");
                        assertThat(f.retryable()).isTrue();
                    });
            assertThat(KafkaBroker.readAll(dlq, 1)).extracting(r -> KafkaBroker.text(r.value())).containsOnlyOnce("a:poison");
        }
    }

    /**
     * A producer interceptor (set by class name in {@code interceptor.classes}) that interrupts the thread sending a
     * dead letter armed for ({@link #arm}: its topic and value), in that send, once the write to that topic before it
     * was confirmed and answered: a stop's interrupt landing after the broker confirmed a settle's write and before the
     * settle read that answer, while the round's next write is under way. Public: the producer instantiates it.
     */
    public static final class InterruptingInterceptor implements ProducerInterceptor<byte[], byte[]> {

        /** What is armed: the topic and value whose send interrupts, the write before it confirmed, and on what thread. */
        private record Armed(String topic, String value, CountDownLatch confirmed, AtomicReference<Thread> confirmedOn) {
        }

        private static volatile Armed armed;
        private static volatile boolean interrupted;

        public InterruptingInterceptor() {
        }

        static void arm(String topic, String value) {
            interrupted = false;
            armed = new Armed(topic, value, new CountDownLatch(1), new AtomicReference<>());
        }

        static void disarm() {
            armed = null;
        }

        /** Whether a send armed for interrupted its thread, the write before it answered. */
        static boolean interrupted() {
            return interrupted;
        }

        @Override
        public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
            var a = armed;
            if (a != null && a.topic().equals(record.topic()) && a.value().equals(KafkaBroker.text(record.value()))) {
                try {
                    if (a.confirmed().await(30, TimeUnit.SECONDS) && answered(a.confirmedOn().get())) {
                        interrupted = true;
                        Thread.currentThread().interrupt();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return record;
        }

        /**
         * Waits (10 s at most) until {@code io}, the producer's I/O thread, has left the batch it confirmed the write in:
         * the client completes a write's answer (isDone) only after every callback of its batch, this one's among them.
         * Interrupted sooner, the settle found the write not answered yet — rightly told interrupted.
         */
        private static boolean answered(Thread io) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() - end < 0) {
                if (Arrays.stream(io.getStackTrace()).noneMatch(f -> f.getClassName().endsWith(".ProducerBatch"))) {
                    return true;
                }
                Thread.sleep(1);
            }
            return false;
        }

        @Override
        public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
            var a = armed;
            if (a != null && exception == null && metadata != null && a.topic().equals(metadata.topic())) {
                a.confirmedOn().compareAndSet(null, Thread.currentThread());
                a.confirmed().countDown(); // the first write to the topic: the armed one is held in its send until now
            }
        }

        @Override
        public void close() {
        }

        @Override
        public void configure(Map<String, ?> configs) {
        }
    }

    /** The value of a delivery's record, as text. */
    private static String valueText(Delivery d) {
        return KafkaBroker.text(((PartitionBuffer.Rec) d.receipt()).record.value());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The topic a delivery's record was read from. */
    private static String topicOf(Delivery d) {
        return ((PartitionBuffer.Rec) d.receipt()).record.topic();
    }

    /** Whether a record of {@code tp} is being dead-lettered, as a revocation's wait asks it. */
    private static boolean deadLettering(PartitionBuffers buffers, TopicPartition tp) {
        buffers.lock.lock();
        try {
            var part = buffers.part(tp);
            return part != null && part.deadLettering();
        } finally {
            buffers.lock.unlock();
        }
    }

    /** The source's buffers, to revoke a partition as its consumer's rebalance does. */
    private static PartitionBuffers buffers(KafkaSource source) throws ReflectiveOperationException {
        var field = KafkaSource.class.getDeclaredField("buffers");
        field.setAccessible(true);
        return (PartitionBuffers) field.get(source);
    }

    /** Polls until {@code count} records are handed out (30 s at most). */
    private static List<Delivery> handedOut(KafkaSource source, int count) {
        var got = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(30), () -> {
            got.addAll(source.poll(new PollRequest(10, Duration.ofMillis(200), Duration.ofSeconds(60))));
            return got.size() >= count;
        })).as("%s handed out: %s", count, got.size()).isTrue();
        return got;
    }
}
