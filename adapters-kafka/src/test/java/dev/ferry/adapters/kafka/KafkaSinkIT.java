package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Kafka sink sends each record once per publish; retrying is the producer's (#16, item 16). */
@ExtendWith(KafkaBroker.class)
class KafkaSinkIT {

    private static Event event(String key) {
        return new Event(key, "Test", null, "group-" + key, key.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    @Test // #16
    void anUnreachableBroker_getsOneSendPerPublish_andIsWaitedOut() throws Exception {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();     // closed again: nothing listens there
        }
        String topic = "unreachable-" + UUID.randomUUID().toString().substring(0, 8);
        try (var sink = KafkaSink.builder("127.0.0.1:" + port, topic)
                .config(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .config(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000)
                .build()) {
            // an outage: waited out, no attempt spent (Retry dead-lettered everything a broker restart's minutes brought)
            assertThat(sink.publish(event("e1"))).isInstanceOf(Outcome.Throttled.class);
            assertThat(CountingInterceptor.sends(topic)).as("one send for one publish").isEqualTo(1);
            assertThat(sink.publish(event("e2"))).isInstanceOf(Outcome.Throttled.class);
            assertThat(CountingInterceptor.sends(topic)).as("one send for each publish").isEqualTo(2);
            assertThat(sink.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains(topic));
            assertThat(sink.holdingBackInBrief()).as("the failure's class, not the client's or broker's words")
                    .hasValueSatisfying(p -> assertThat(p).matches("Kafka topic '" + topic + "': \\w+"));
        }
        // past the patience, taken for what no waiting cures (a topic that does not exist looks the same): attempts spent
        try (var impatient = KafkaSink.builder("127.0.0.1:" + port, topic).outagePatience(Duration.ZERO)
                .config(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000).build()) {
            assertThat(impatient.publish(event("e3"))).isInstanceOf(Outcome.Retry.class);
        }
    }

    @Test // a review: an interrupt while send() waited for metadata was taken for the cluster's answer, ending the outage
    void aSendInterruptedWhileItWaitsForTheCluster_neitherEndsTheOutageNorIsItsAnswer() throws Exception {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();     // closed again: nothing listens there
        }
        String topic = "unreachable-int-" + UUID.randomUUID().toString().substring(0, 8);
        try (var sink = KafkaSink.builder("127.0.0.1:" + port, topic)
                .config(ProducerConfig.MAX_BLOCK_MS_CONFIG, 3000)
                .build()) {
            assertThat(sink.publish(event("e1"))).isInstanceOf(Outcome.Throttled.class);
            assertThat(sink.holdingBack()).as("an outage under way").isPresent();
            var answer = new java.util.concurrent.CompletableFuture<Outcome>();
            var publishing = Thread.ofVirtual().start(() -> answer.complete(sink.publish(event("e2"))));
            Thread.sleep(300); // waiting for the topic's metadata, which never comes
            publishing.interrupt();
            assertThat(answer.get(10, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOfSatisfying(Outcome.Retry.class,
                    r -> assertThat(r.reason()).contains("interrupted"));
            assertThat(sink.holdingBack()).as("still the outage: the cluster said nothing").isPresent();
        }
    }

    @Test // #16
    void anUnknownOutcome_isARetrySaidToBeUnknown_withoutASecondSend_soTheRecordIsWrittenOnce() {
        String topic = KafkaBroker.topic("unknown-outcome", 1);
        CountingInterceptor.shut(topic);       // the broker writes the record; the producer's future does not complete
        var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic)
                .config(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .timeout(Duration.ofSeconds(2))
                .build();
        try {
            long start = System.nanoTime();
            var outcome = sink.publish(event("e1"));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(outcome).isInstanceOfSatisfying(Outcome.Retry.class,
                    r -> assertThat(r.reason()).contains("outcome unknown").contains(topic));
            assertThat(tookMs).as("waited delivery.timeout.ms plus the margin, and no longer than needed")
                    .isGreaterThanOrEqualTo(2_000 + KafkaSink.UNKNOWN_OUTCOME_MARGIN.toMillis() - 100)
                    .isLessThan(30_000);
            assertThat(CountingInterceptor.sends(topic)).as("never a second send for one publish").isEqualTo(1);
        } finally {
            CountingInterceptor.open(topic);
            sink.close();
        }
        assertThat(KafkaBroker.readAll(topic, 1)).as("written exactly once").hasSize(1);
    }

    @Test
    void aPublishOnAnInterruptedThread_sendsNothing_soTheRetryWritesTheRecordOnce() {
        // stopping: the record was handed to the producer (metadata cached), the wait for it answered "interrupted" at once,
        // and the record written then was written again when the message came back
        String topic = KafkaBroker.topic("interrupted", 1);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).build()) {
            assertThat(sink.publish(event("warm"))).isEqualTo(Outcome.done()); // the topic's metadata is known
            Thread.currentThread().interrupt();
            try {
                assertThat(sink.publish(event("e1"))).isInstanceOf(Outcome.Retry.class);
            } finally {
                Thread.interrupted();
            }
            assertThat(sink.publish(event("e1"))).isEqualTo(Outcome.done());
        }
        assertThat(KafkaBroker.readAll(topic, 2)).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactly("warm", "e1");
    }

    @Test
    void anErrorThatEndsTheProducersIoThread_getsTheProducerReplaced_andLaterPublishesAreDone() {
        // the client catches Exception, not Error, on its I/O thread: the send's future never completes, and every later
        // send waited out the timeout and was a Retry, until every message on the route was dead-lettered
        String topic = KafkaBroker.topic("io-thread-error", 1);
        CountingInterceptor.errorOnce(topic);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic)
                .config(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName())
                .timeout(Duration.ofSeconds(2))
                .build()) {
            assertThat(sink.publish(event("e1"))).isInstanceOfSatisfying(Outcome.Retry.class,
                    r -> assertThat(r.reason()).contains("outcome unknown"));
            long start = System.nanoTime();
            assertThat(sink.publish(event("e2"))).isEqualTo(Outcome.done());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not another wait for a dead producer")
                    .isLessThan(Duration.ofSeconds(6));
        }
        assertThat(KafkaBroker.readAll(topic, 2)).as("e1 written by the old producer before its thread died, e2 by the new")
                .hasSize(2);
    }

    @Test // a review: a producer the client put in its fatal state within 5 s of the last replacement was kept for good
    void aProducerInTheClientsFatalState_isReplacedOnceTheWaitIsOver_evenThoughEverySendThrowsAtOnce() {
        String topic = KafkaBroker.topic("fatal-state", 1);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic)
                .config(ProducerConfig.PARTITIONER_CLASS_CONFIG, RefusingPartitioner.class.getName())
                .timeout(Duration.ofSeconds(5))
                .build()) {
            RefusingPartitioner.refuseCluster(topic);
            // the first producer is put in its fatal state and replaced; the second one too, too soon to be replaced
            assertThat(sink.publish(event("e1"))).isInstanceOf(Outcome.Throttled.class);
            assertThat(sink.publish(event("e2"))).isInstanceOf(Outcome.Throttled.class);
            RefusingPartitioner.allow(topic); // credentials put right
            // its later sends throw "in an error state" from send() itself: waited out, not spent as attempts
            writtenOnceReplaced(sink, "e3");
        } finally {
            RefusingPartitioner.allow(topic);
        }
    }

    @Test // thirty-sixth round: the client puts a producer in its fatal state for causes of its own too (an
          // InitProducerId answered UNKNOWN_SERVER_ERROR: a plain KafkaException); only named causes replaced it, and
          // every later send failed at once, as Retry, until a restart: each event routed there dead-lettered in turn
    void aProducerInTheFatalStateForAnUnnamedCause_isReplaced_notSpentAsAttempts() throws Exception {
        String topic = KafkaBroker.topic("fatal-unnamed", 1);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).timeout(Duration.ofSeconds(5)).build()) {
            assertThat(sink.publish(event("e1"))).isEqualTo(Outcome.done());
            var renewable = field(sink, "producer");
            var producer = renewable.getClass().getDeclaredMethod("current");
            producer.setAccessible(true);
            var transactions = field(producer.invoke(renewable), "transactionManager");
            var fatal = transactions.getClass().getDeclaredMethod("transitionToFatalError", RuntimeException.class);
            fatal.setAccessible(true);
            fatal.invoke(transactions, new org.apache.kafka.common.KafkaException("Unexpected error in InitProducerIdResponse; "
                    + "The server experienced an unexpected error when processing the request."));
            writtenOnceReplaced(sink, "e2");
        }
    }

    @Test // a review of the fix: the records the producer held as it went into that state are failed with the same plain
          // KafkaException (no class of its own, no "error state"): each spent an attempt, as the event's own fault
    void recordsHeldByAProducerThatWentIntoTheFatalState_areNotSpentAsAttempts() throws Exception {
        String topic = KafkaBroker.topic("fatal-held", 1);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).config("linger.ms", "3000")
                .timeout(Duration.ofSeconds(15)).build()) {
            var renewable = field(sink, "producer");
            var current = renewable.getClass().getDeclaredMethod("current");
            current.setAccessible(true);
            var producer = (org.apache.kafka.clients.producer.KafkaProducer<?, ?>) current.invoke(renewable);
            producer.partitionsFor(topic); // its metadata known: the send below is queued at once, lingering
            var answer = new java.util.concurrent.CompletableFuture<Outcome>();
            Thread.ofPlatform().daemon().start(() -> answer.complete(sink.publish(event("held"))));
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(10),
                    () -> metric(producer, "buffer-available-bytes") < metric(producer, "buffer-total-bytes")))
                    .as("queued in the producer's buffer, lingering").isTrue();
            var transactions = field(producer, "transactionManager");
            var fatal = transactions.getClass().getDeclaredMethod("transitionToFatalError", RuntimeException.class);
            fatal.setAccessible(true);
            fatal.invoke(transactions, new org.apache.kafka.common.KafkaException("Unexpected error in InitProducerIdResponse; "
                    + "The server experienced an unexpected error when processing the request."));
            assertThat(answer.get(30, java.util.concurrent.TimeUnit.SECONDS)).as("the producer's fault, waited out")
                    .isNotInstanceOf(Outcome.Retry.class);
        }
    }

    /** Publishes {@code key} every half second until written (20 s at most), none of the answers an attempt spent. */
    private static void writtenOnceReplaced(KafkaSink sink, String key) {
        var answers = new java.util.ArrayList<Outcome>();
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(20), () -> {
            var answer = sink.publish(event(key));
            answers.add(answer);
            if (!(answer instanceof Outcome.Done)) {
                java.util.concurrent.locks.LockSupport.parkNanos(500_000_000L);
            }
            return answer instanceof Outcome.Done;
        })).as("written once the producer was replaced: %s answers, the last %s", answers.size(), answers.getLast()).isTrue();
        assertThat(answers).as("none spent an attempt").filteredOn(a -> a instanceof Outcome.Retry).isEmpty();
    }

    /** A producer metric's value by name ({@code producer-metrics} group). */
    private static double metric(org.apache.kafka.clients.producer.KafkaProducer<?, ?> producer, String name) {
        return producer.metrics().entrySet().stream()
                .filter(m -> m.getKey().name().equals(name) && m.getKey().group().equals("producer-metrics"))
                .mapToDouble(m -> ((Number) m.getValue().metricValue()).doubleValue()).findFirst().orElseThrow();
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        var f = owner.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
    }

    @Test
    void anAuthorizationRefusal_isWaitedOut_notADeadLetter_andPassesWhenTheAclIsBack() {
        // an ACL missing for a few seconds (or credentials being rotated) is the cluster's fault, not the event's:
        // Reject dead-lettered every event published meanwhile, and Retry spent an attempt a second (5 by default): a
        // rotation of 15 s dead-lettered them all the same. Waited out for the sink's outage patience, as SQS and HTTP do
        String topic = KafkaBroker.topic("acl-refused", 1);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic)
                .config(ProducerConfig.PARTITIONER_CLASS_CONFIG, RefusingPartitioner.class.getName())
                .timeout(Duration.ofSeconds(5))
                .build()) {
            RefusingPartitioner.refuse(topic);
            assertThat(sink.publish(event("e1"))).isInstanceOf(Outcome.Throttled.class);
            assertThat(sink.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains("TopicAuthorizationException"));
            RefusingPartitioner.allow(topic);
            assertThat(sink.publish(event("e1"))).isEqualTo(Outcome.done());
            assertThat(sink.holdingBack()).as("the cluster took it: waiting is over").isEmpty();
        } finally {
            RefusingPartitioner.allow(topic);
        }
    }

    @Test // a review: the ferry.event.id header was the key's UTF-8, where half a surrogate pair is '?': two events' ids one,
          // and a consumer that deduplicates on the header dropped the second
    void eventIdsThatDifferOnlyInHalfASurrogatePair_areTwoHeaderValues() {
        String topic = KafkaBroker.topic("lone-surrogate-ids", 1);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).build()) {
            assertThat(sink.publish(new Event("a\uD800", "T", null, null, new byte[] {1}, Map.of()))).isEqualTo(Outcome.done());
            assertThat(sink.publish(new Event("a\uD801", "T", null, null, new byte[] {2}, Map.of()))).isEqualTo(Outcome.done());
        }
        var out = KafkaBroker.readAll(topic, 2);
        assertThat(out).hasSize(2);
        assertThat(out.get(0).headers().lastHeader("ferry.event.id").value())
                .isNotEqualTo(out.get(1).headers().lastHeader("ferry.event.id").value());
    }

    @Test // a review: the sink kept the client's 1 MiB max.request.size — a 2 MB record the topic takes was dead-lettered as
          // "the record's own fault", and again after every release (the dead-letter producer was given room, the sink not)
    void aRecordOverOneMebibyteThatTheTopicTakes_isWritten_notRejected() {
        String topic = "large-records-" + java.util.UUID.randomUUID();
        KafkaBroker.create(topic, 1, Map.of("max.message.bytes", "3000000"));
        var payload = new byte[2_000_000];
        new java.util.Random(7).nextBytes(payload); // random: not compressed below the client's old limit
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).build()) {
            assertThat(sink.publish(new Event("big-1", "T", null, "k", payload, Map.of()))).isEqualTo(Outcome.done());
        }
        assertThat(KafkaBroker.readAll(topic, 1)).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo(payload));
    }

    @Test // a review of the fix: a buffer.memory the user set (a small heap) was raised to the new request size
    void aBufferMemoryTheUserSet_isKept_andBoundsTheRecordSize() {
        String topic = "small-buffer-" + java.util.UUID.randomUUID();
        KafkaBroker.create(topic, 1, Map.of("max.message.bytes", "3000000"));
        var payload = new byte[2_000_000];
        new java.util.Random(7).nextBytes(payload);
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic)
                .config("buffer.memory", String.valueOf(1 << 20)).build()) {
            assertThat(sink.publish(new Event("big-2", "T", null, "k", payload, Map.of())))
                    .as("larger than the buffer the user gave: refused by the client, not sent").isInstanceOf(Outcome.Reject.class);
        }
    }

    @Test
    void aTombstoneAttribute_fromAnotherTransport_isNoTombstone_theKeyIsNotDeleted() {
        // an SNS message attribute "kafka.tombstone: true" with an empty message reached a Kafka sink as a delete of its
        // key on a compacted topic: only a record a Kafka source read without a value is written as a tombstone
        String topic = KafkaBroker.topic("forged-tombstone", 1);
        String parsed = new String("true".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8); // as a decoder reads it
        var forged = new Event("sns-1", "Raw", null, "k", new byte[0], Map.of(KafkaDeliveries.TOMBSTONE, parsed));
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).build()) {
            assertThat(sink.publish(forged)).isEqualTo(Outcome.done());
        }
        var out = KafkaBroker.readAll(topic, 1);
        assertThat(out).hasSize(1);
        assertThat(out.getFirst().value()).as("an empty value, not a delete").isNotNull().isEmpty();
        assertThat(KafkaBroker.text(out.getFirst().key())).isEqualTo("k");
    }

    @Test
    void aRecordACompactedTopicRefuses_isRejected_andTheRecordThatSharedItsBatch_isNotSpentAnAttempt() throws Exception {
        // the broker refuses a keyless record on a compacted topic (InvalidRecordException), and fails every other record
        // of its batch with a plain KafkaException: both were Retry — the invalid one tried its 5 attempts, and a good
        // record that shared batches with such records was dead-lettered for them
        String topic = "compacted-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        KafkaBroker.create(topic, 1, Map.of("cleanup.policy", "compact"));
        try (var sink = KafkaSink.builder(KafkaBroker.bootstrap(), topic).config(ProducerConfig.LINGER_MS_CONFIG, 500).build();
             var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            assertThat(sink.publish(new Event("warm", "T", null, "k0", "w".getBytes(StandardCharsets.UTF_8), Map.of())))
                    .as("metadata fetched, so both below go into one batch").isEqualTo(Outcome.done());
            var keyless = pool.submit(() -> sink.publish(new Event("e1", "T", null, null,
                    "no key".getBytes(StandardCharsets.UTF_8), Map.of())));
            var keyed = pool.submit(() -> sink.publish(new Event("e2", "T", null, "k",
                    "keyed".getBytes(StandardCharsets.UTF_8), Map.of())));

            assertThat(keyless.get(60, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOfSatisfying(Outcome.Reject.class,
                    r -> assertThat(r.reason()).contains("InvalidRecordException").containsIgnoringCase("without key"));
            assertThat(keyed.get(60, java.util.concurrent.TimeUnit.SECONDS)).as("not spent an attempt for the other's fault")
                    .isNotInstanceOf(Outcome.Retry.class).isNotInstanceOf(Outcome.Reject.class);
        }
    }

    @Test
    void aTransactionalId_isRefusedAtBuild() {
        assertThatThrownBy(() -> KafkaSink.builder(KafkaBroker.bootstrap(), "t").config(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("transaction");
    }

    @Test
    void aSourcesDeadLetterProducer_keepsAcksAllAndIdempotence_andIsNotTransactional() {
        // acks=1 let an offset be committed past a copy only the leader had; a transactional id refused every dead letter
        var builder = KafkaSource.builder(KafkaBroker.bootstrap(), "g", List.of("t"));
        for (var key : List.of(ProducerConfig.ACKS_CONFIG, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
            assertThatThrownBy(() -> builder.producerConfig(key, "1")).as(key)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(key).hasMessageContaining("dead-letter");
        }
        assertThat(builder.producerConfig(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4")).as("others are the user's").isSameAs(builder);
        assertThat(builder.producerConfig(ProducerConfig.ACKS_CONFIG, "all").producerConfig(
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)).as("Ferry's own values, restated").isSameAs(builder);
    }

    @Test
    void aSourcesDeadLetterProducer_whoseIoThreadAnErrorEnded_isReplaced_andTheNextWriteLands() {
        // the same Error on the dead-letter producer left every later dead letter waiting out its timeout, unwritten,
        // and its record offered again for ever
        String dlq = KafkaBroker.topic("dead-letter-renew", 1);
        CountingInterceptor.errorOnce(dlq);
        var buffer = new PartitionBuffer(new org.apache.kafka.common.TopicPartition("src", 0));
        for (long offset = 0; offset < 2; offset++) {
            buffer.add(new org.apache.kafka.clients.consumer.ConsumerRecord<>("src", 0, offset,
                    ("k" + offset).getBytes(StandardCharsets.UTF_8), ("v" + offset).getBytes(StandardCharsets.UTF_8)));
        }
        var recs = new java.util.ArrayList<PartitionBuffer.Rec>();
        buffer.takeInto(recs, 2, System.nanoTime());
        var letters = new KafkaDeadLetters("src", Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrap(),
                ProducerConfig.INTERCEPTOR_CLASSES_CONFIG, CountingInterceptor.class.getName(),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 2_000, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1_000), topic -> dlq);
        letters.open();
        try {
            assertThat(written(letters, recs.get(0))).isNotNull();
            long start = System.nanoTime();
            assertThat(written(letters, recs.get(1))).isNull();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
        } finally {
            letters.close();
        }
    }

    /** What one dead letter's write came to: null once confirmed. */
    private static String written(KafkaDeadLetters letters, PartitionBuffer.Rec r) {
        var told = new String[] {"(not told)"};
        letters.writeAll(List.of(new dev.ferry.domain.transport.Settlement(KafkaDeliveries.delivery(r, "src"),
                dev.ferry.domain.transport.Disposition.deadLetter("poison"))), rec -> false,
                (i, problem) -> told[i] = problem);
        return told[0];
    }
}
