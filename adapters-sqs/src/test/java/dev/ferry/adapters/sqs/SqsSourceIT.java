package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/** What the SQS source does beyond the shared contract, on a real SQS server (ElasticMQ). */
@ExtendWith(ElasticMq.class)
class SqsSourceIT {

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private SqsFixture queue(boolean fifo, int maxReceiveCount) {
        var q = SqsFixture.create(ElasticMq.client(), fifo, maxReceiveCount);
        opened.add(q);
        return q;
    }

    private static PollRequest poll(int max, int waitSeconds, int leaseSeconds) {
        return new PollRequest(max, Duration.ofSeconds(waitSeconds), Duration.ofSeconds(leaseSeconds));
    }

    private static String body(Delivery d) {
        return new String(d.body(), StandardCharsets.UTF_8);
    }

    @Test
    void poll_returnsABatchOfTen_inOneCall() {
        var q = queue(false, 1000);
        for (int i = 0; i < 10; i++) {
            q.send("m" + i, Map.of(), null);
        }
        // ElasticMQ, like SQS, may return fewer than asked for; it returns all ten once they are stored
        List<Delivery> got = List.of();
        for (int i = 0; i < 20 && got.size() < 10; i++) {
            got = q.source().poll(poll(10, 1, 30));
            if (got.size() < 10) {
                q.source().settle(got.stream().map(d -> new Settlement(d, Disposition.RELEASE)).toList());
            }
        }
        assertThat(got).hasSize(10);
        assertThat(got).extracting(SqsSourceIT::body).doesNotHaveDuplicates();
    }

    @Test // a review: max-wait 0s (allowed, 0..20 s) sent WaitTimeSeconds=0 while the listener asked to wait 20 s, and an
          // idle queue answered at once: the pollers went round without a pause, tens of paid receives a second each
    void shortPollsOfAnIdleQueue_whileTheListenerWouldWait_pauseBetweenThem() {
        try (var q = SqsFixture.create(ElasticMq.client(), false, 5, b -> b.maxWait(Duration.ZERO))) {
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
            int polls = 0;
            while (System.nanoTime() < end) {
                assertThat(q.source().poll(new PollRequest(10, Duration.ofSeconds(20), Duration.ofSeconds(30)))).isEmpty();
                polls++;
            }
            assertThat(polls).as("10 ms doubling to 1 s: a handful in two seconds, not hundreds").isBetween(2, 30);

            q.send("order-1", Map.of(), null);
            var got = new java.util.ArrayList<Delivery>();
            for (int i = 0; i < 10 && got.isEmpty(); i++) {
                got.addAll(q.source().poll(new PollRequest(10, Duration.ofSeconds(20), Duration.ofSeconds(30))));
            }
            assertThat(got).as("a message is still taken").hasSize(1);
        }
    }

    @Test
    void longPoll_waitsForAMessage_andWakesUpWhenItArrives() throws Exception {
        var q = queue(false, 1000);
        long start = System.nanoTime();
        var polled = CompletableFuture.supplyAsync(() -> q.source().poll(poll(10, 20, 30)));
        Thread.sleep(1500);
        assertThat(polled).as("still waiting after 1.5 s").isNotDone();
        q.send("wake up", Map.of(), null);
        var got = polled.get(10, TimeUnit.SECONDS);
        assertThat(got).extracting(SqsSourceIT::body).containsExactly("wake up");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void delivery_carriesSystemAndMessageAttributes_withSystemOnesWinningANameClash() {
        var q = queue(true, 1000);
        q.client.sendMessage(b -> b.queueUrl(q.url).messageBody("fifo body").messageGroupId("hit-7")
                .messageDeduplicationId("doc-1")
                .messageAttributes(Map.of(
                        "SenderId", MessageAttributes.string("spoofed"),
                        "count", MessageAttributeValue.builder().dataType("Number").stringValue("42").build(),
                        "blob", MessageAttributeValue.builder().dataType("Binary")
                                .binaryValue(SdkBytes.fromUtf8String("bin")).build())));
        var d = q.source().poll(poll(1, 5, 30)).getFirst();
        assertThat(d.groupKey()).isEqualTo("hit-7");
        assertThat(d.deduplicationId()).isEqualTo("doc-1");
        assertThat(d.receiveCount()).isEqualTo(1);
        assertThat(d.attributes()).containsEntry("count", "42").containsEntry("blob", "Ymlu")
                .containsKey("SequenceNumber").containsKey("SentTimestamp");
        assertThat(d.attributes().get("SenderId")).isNotEqualTo("spoofed").isNotBlank();
        assertThat(d.sentAt()).isBefore(java.time.Instant.now().plusSeconds(5));
    }

    @Test
    void messageWithAttributes_passesTheMd5Check() {
        var q = queue(false, 1000);
        q.client.sendMessage(b -> b.queueUrl(q.url).messageBody("Grüße ✓").messageAttributes(Map.of(
                "s", MessageAttributes.string("välue"),
                "n", MessageAttributeValue.builder().dataType("Number.int").stringValue("-7").build(),
                "b", MessageAttributeValue.builder().dataType("Binary").binaryValue(SdkBytes.fromByteArray(new byte[] {0, 1, 2, (byte) 255})).build())));
        var got = q.source().poll(poll(1, 5, 30));
        assertThat(got).extracting(SqsSourceIT::body).containsExactly("Grüße ✓");
        assertThat(q.source().stats().md5Mismatches()).isZero();
    }

    @Test // #16: damage in transit is released for another receive; the intact original is never deleted
    void bodyDamagedInTransitOnce_isReceivedAgainIntact_notDeadLettered() {
        var corruptOnce = new AtomicBoolean(true);
        try (var damaging = clientWith(damaging(() -> corruptOnce.getAndSet(false)))) {
            var q = queue(false, 1000);
            var source = SqsSource.builder(damaging, q.url).build();
            opened.add(source);
            q.send("{\"amount\":700}", Map.of(), null);

            var got = new ArrayList<Delivery>();
            for (int i = 0; i < 10 && got.isEmpty(); i++) {
                got.addAll(source.poll(poll(10, 1, 30)));
            }
            assertThat(got).extracting(SqsSourceIT::body).containsExactly("{\"amount\":700}");
            assertThat(got.getFirst().receiveCount()).isEqualTo(2);
            assertThat(source.stats().md5Mismatches()).isEqualTo(1);
            assertThat(q.deadLetterMessages()).isEmpty();
        }
    }

    @Test // a review: released at once, a second of damage in transit (a proxy's incident) met all three receives in
          // milliseconds: the damaged body was dead-lettered ("the stored message itself disagrees") and the intact deleted
    void aBurstOfDamageInTransit_isWaitedOut_theIntactMessageHandedOut() {
        long burstEnds = System.nanoTime() + Duration.ofMillis(1_500).toNanos();
        try (var damaging = clientWith(damaging(() -> System.nanoTime() - burstEnds < 0))) {
            var q = queue(false, 1000);
            var source = SqsSource.builder(damaging, q.url).build();
            opened.add(source);
            q.send("{\"amount\":700}", Map.of(), null);

            var got = new ArrayList<Delivery>();
            for (int i = 0; i < 20 && got.isEmpty() && source.stats().deadLettered() == 0; i++) {
                got.addAll(source.poll(poll(10, 1, 30)));
            }
            assertThat(q.deadLetterMessages()).as("the burst's damage is not the stored message's").isEmpty();
            assertThat(got).extracting(SqsSourceIT::body).containsExactly("{\"amount\":700}");
        }
    }

    @Test // a message received twice before (another instance, a lease run out) is not dead-lettered for one damage
    void bodyDamagedOnceOnItsThirdReceive_isReceivedAgainIntact_notDeadLettered() {
        var corruptOnce = new AtomicBoolean(true);
        try (var damaging = clientWith(damaging(() -> corruptOnce.getAndSet(false)))) {
            var q = queue(false, 1000);
            var source = SqsSource.builder(damaging, q.url).build();
            opened.add(source);
            q.send("{\"amount\":700}", Map.of(), null);
            for (int i = 0; i < 2; i++) { // received and given back twice by someone else
                var m = q.client.receiveMessage(b -> b.queueUrl(q.url).waitTimeSeconds(5)).messages().getFirst();
                q.client.changeMessageVisibility(b -> b.queueUrl(q.url).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
            }

            var got = new ArrayList<Delivery>();
            for (int i = 0; i < 10 && got.isEmpty(); i++) {
                got.addAll(source.poll(poll(10, 1, 30)));
            }
            assertThat(q.deadLetterMessages()).as("one damaged receive is not the stored message's fault").isEmpty();
            assertThat(got).extracting(SqsSourceIT::body).containsExactly("{\"amount\":700}");
            assertThat(got.getFirst().receiveCount()).isEqualTo(4);
            assertThat(source.stats().md5Mismatches()).isEqualTo(1);
        }
    }

    @Test // FIFO: a head released for damage in transit takes its group's later messages of that receive back with it
    void fifo_aHeadDamagedInTransit_isReleasedWithItsGroupsLaterMessages_soTheGroupKeepsItsOrder() {
        var corruptOnce = new AtomicBoolean(true);
        var damaging = clientWith(damaging(() -> corruptOnce.getAndSet(false)));
        opened.add(damaging); // closed after the fixture, which deletes its queues with it
        var q = SqsFixture.create(damaging, true, 1000);
        opened.add(q);
        q.send("{\"n\":7}", Map.of(), "g");
        q.send("{\"n\":8}", Map.of(), "g");
        q.send("{\"n\":9}", Map.of(), "g");
        var got = new ArrayList<String>();
        for (int i = 0; i < 15 && got.size() < 3; i++) {
            q.source().poll(poll(10, 1, 30)).forEach(d -> {
                got.add(body(d));
                q.source().settle(List.of(new Settlement(d, Disposition.ACK)));
            });
        }
        assertThat(got).containsExactly("{\"n\":7}", "{\"n\":8}", "{\"n\":9}");
        assertThat(q.source().stats().md5Mismatches()).isEqualTo(1);
    }

    @Test // a server that does not read MessageSystemAttributeNames (ElasticMQ, LocalStack, moto before 2024) answers no
          // group ids: taken without them, one group's messages ran at once, out of order, unsaid
    void aFifoReceiveWithoutGroupIds_isRefusedLoudly_notTakenOutOfOrder() {
        try (var withoutSystemAttributes = clientWith(askingNoSystemAttributes())) {
            var q = queue(true, 1000);
            var source = SqsSource.builder(withoutSystemAttributes, q.url).build();
            opened.add(source);
            q.send("{\"n\":1}", Map.of(), "g");
            q.send("{\"n\":2}", Map.of(), "g");

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> source.poll(poll(10, 2, 30)))
                    .isInstanceOf(dev.ferry.domain.model.FerryException.class).hasMessageContaining("MessageGroupId");
        }
    }

    @Test // a review: on a standard queue such a server's messages all counted as first receives, silently: max-receives
          // never fired, redeliveries were not known as such
    void aStandardReceiveWithoutReceiveCounts_isWarnedOfOnce() {
        var warnings = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    warnings.add(String.valueOf(r.getMessage()) + " " + java.util.Arrays.toString(r.getParameters()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        var logger = java.util.logging.Logger.getLogger(SqsSource.class.getName());
        var level = logger.getLevel(); // the tests' logging keeps SEVERE only
        logger.setLevel(java.util.logging.Level.WARNING);
        logger.addHandler(handler);
        try (var withoutSystemAttributes = clientWith(askingNoSystemAttributes())) {
            var q = queue(false, 1000);
            var source = SqsSource.builder(withoutSystemAttributes, q.url).build();
            opened.add(source);
            q.send("{\"n\":1}", Map.of(), null);
            q.send("{\"n\":2}", Map.of(), null);
            var got = new ArrayList<Delivery>();
            for (int i = 0; i < 10 && got.size() < 2; i++) {
                got.addAll(source.poll(poll(10, 1, 30)));
            }
            assertThat(got).hasSize(2);
            assertThat(warnings.stream().filter(w -> w.contains("ApproximateReceiveCount")).toList())
                    .as("said once").singleElement().asString().contains("max-receives");
        } finally {
            logger.removeHandler(handler);
            logger.setLevel(level);
        }
    }

    @Test // #16
    void bodyDamagedOnEveryReceive_isDeadLetteredAfterRepeatedMismatches_withTheReason_neverHandedOut() {
        try (var damaging = clientWith(damaging(() -> true))) {
            var q = queue(false, 1000);
            var source = SqsSource.builder(damaging, q.url).build();
            opened.add(source);
            q.send("{\"amount\":700}", Map.of(), null);
            q.send("{\"amount\":100}", Map.of(), null);

            var got = new ArrayList<Delivery>();
            // what is handed out is acked; a short lease, since a refusal met while two earlier ones are still being
            // settled beside the polls (a loaded machine) waits for its visibility to run out, by design
            for (int i = 0; i < 60 && source.stats().deadLettered() == 0; i++) {
                var polled = source.poll(poll(10, 1, 3));
                got.addAll(polled);
                source.settle(polled.stream().map(d -> new Settlement(d, Disposition.ACK)).toList());
            }
            assertThat(got).extracting(SqsSourceIT::body).containsExactly("{\"amount\":100}");
            assertThat(source.stats().md5Mismatches()).isEqualTo(SqsSource.MD5_RECEIVES);
            var dead = q.deadLetterMessages();
            assertThat(dead).hasSize(1);
            assertThat(SqsFixture.reason(dead.getFirst())).startsWith("MD5 of body mismatch")
                    .contains("the same on 3 receives");
        }
    }

    @Test
    void aRefusedMessagesDeadLetterCopy_isSentBesideThePoll_notOnIt() {
        // the copy and the delete went out on the poller: a DLQ slow to answer held the receive's good messages, whose
        // leases the listener counts from when the poll returns (they turned visible before it extended them)
        var copying = new AtomicBoolean();
        var slowCopy = new java.util.concurrent.CountDownLatch(1);
        var damage = damaging(() -> true);
        var interceptor = new ExecutionInterceptor() {
            @Override
            public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
                return damage.modifyResponse(context, attributes);
            }

            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                if (context.request() instanceof software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest) {
                    copying.set(true);
                    try {
                        slowCopy.await(20, TimeUnit.SECONDS); // a DLQ that takes its time to answer
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        try (var client = clientWith(interceptor)) {
            var q = queue(false, 1000);
            var source = SqsSource.builder(client, q.url).build();
            opened.add(source);
            q.send("{\"amount\":700}", Map.of(), null); // damaged on every receive: refused on its third
            var polls = new AtomicBoolean();
            Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 20 && !copying.get(); i++) {
                    source.poll(poll(10, 1, 30));
                }
                polls.set(true);
            });
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(30), copying::get)).as("copy sent").isTrue();
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(5), polls::get))
                    .as("the poll returned while the copy was under way").isTrue();
            slowCopy.countDown();
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(10), () -> q.deadLetterMessages().size() == 1))
                    .isTrue();
        } finally {
            slowCopy.countDown();
        }
    }

    /** Replaces 7 with 8 in the body of the first message of a receive whenever {@code when} says so. */
    /** A server that does not read MessageSystemAttributeNames, as ElasticMQ, LocalStack and moto before 2024 did. */
    private static ExecutionInterceptor askingNoSystemAttributes() {
        return new ExecutionInterceptor() {
            @Override
            public software.amazon.awssdk.core.SdkRequest modifyRequest(Context.ModifyRequest context,
                                                                        ExecutionAttributes attributes) {
                return context.request() instanceof software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest r
                        ? r.toBuilder().messageSystemAttributeNames(List.of()).build() : context.request();
            }
        };
    }

    private static ExecutionInterceptor damaging(java.util.function.BooleanSupplier when) {
        return new ExecutionInterceptor() {
            @Override
            public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
                // the message with a 7 wherever it is in the answer: a standard queue's order after a release is its own, and
                // looked for first only, it came second now and then, intact (the test saw it handed out)
                if (context.response() instanceof ReceiveMessageResponse r) {
                    for (int i = 0; i < r.messages().size(); i++) {
                        var m = r.messages().get(i);
                        if (m.body().contains("7") && when.getAsBoolean()) {
                            var damaged = new ArrayList<>(r.messages());
                            damaged.set(i, m.toBuilder().body(m.body().replace('7', '8')).build());
                            return r.toBuilder().messages(damaged).build();
                        }
                    }
                }
                return context.response();
            }
        };
    }

    @Test
    void foreignSender_isDeadLettered_allowedSenderIsHandedOut() {
        var q = queue(false, 1000);
        q.send("who am i", Map.of(), null);
        var probe = q.source().poll(poll(1, 5, 30)).getFirst();
        String realSender = probe.attributes().get(MessageSystemAttributeName.SENDER_ID.toString());
        assertThat(realSender).isNotBlank();
        q.source().settle(List.of(new Settlement(probe, Disposition.RELEASE)));

        var strict = SqsSource.builder(q.client, q.url).allowedSenders(Set.of("AIDAMTURKONLY")).build();
        opened.add(strict);
        assertThat(strict.poll(poll(10, 2, 30))).isEmpty();
        assertThat(strict.stats().foreignSenders()).isEqualTo(1);
        // its copy goes to the DLQ beside the poll, not on it (a standard queue)
        var seen = new java.util.concurrent.atomic.AtomicReference<List<software.amazon.awssdk.services.sqs.model.Message>>();
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(10), () -> {
            seen.set(q.deadLetterMessages()); // a read receives them: kept for the assertions below
            return !seen.get().isEmpty();
        })).isTrue();
        var dead = seen.get();
        assertThat(dead).extracting(m -> m.body()).containsExactly("who am i");
        assertThat(SqsFixture.reason(dead.getFirst()))
                .isEqualTo("SenderId '" + realSender + "' is not in the allowlist [AIDAMTURKONLY] of queue '"
                        + strict.name() + "'");

        var lenient = SqsSource.builder(q.client, q.url).allowedSenders(Set.of("AIDAMTURKONLY", realSender)).build();
        opened.add(lenient);
        q.send("from a friend", Map.of(), null);
        assertThat(lenient.poll(poll(10, 5, 30))).extracting(SqsSourceIT::body).containsExactly("from a friend");
    }

    @Test // a review: a FIFO poll leasing 12 h whose dead-letter copy took over a second renewed its good messages' leases;
          // SQS granted what its 12 hours from the receive still allow, short of the lease, and they were taken for
          // lapsed: neither handed out nor released, invisible 12 hours, their groups blocked behind them
    void fifo_aTwelveHourLease_renewedAfterASlowDeadLetterCopy_handsTheOtherGroupsMessageOut() {
        var renewals = new java.util.concurrent.CopyOnWriteArrayList<Integer>();
        var interceptor = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                if (context.request() instanceof software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest) {
                    try {
                        Thread.sleep(1_100); // the stranger's dead-letter copy: slow enough for the leases to be renewed
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                } else if (context.request()
                        instanceof software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequest r) {
                    r.entries().forEach(e -> renewals.add(e.visibilityTimeout()));
                }
            }

            @Override
            public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
                // ElasticMQ names one sender for every message: group F's is made a stranger's
                if (context.response() instanceof ReceiveMessageResponse r) {
                    return r.toBuilder().messages(r.messages().stream().map(m -> {
                        var system = new java.util.HashMap<>(m.attributesAsStrings());
                        system.put("SenderId", "F".equals(system.get("MessageGroupId")) ? "AIDASTRANGER" : "AIDAOURS");
                        return m.toBuilder().attributesWithStrings(system).build();
                    }).toList()).build();
                }
                return context.response();
            }
        };
        try (var client = clientWith(interceptor)) {
            var q = queue(true, 1000);
            var source = SqsSource.builder(client, q.url).allowedSenders(Set.of("AIDAOURS")).build();
            opened.add(source);
            q.send("from a stranger", Map.of(), "F");
            q.send("ours", Map.of(), "A");

            var got = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> source.poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofHours(12))));

            assertThat(renewals).as("one receive brought both; after the slow copy, ours was renewed as far as SQS "
                    + "allows, short of 12 h, and not sent back").hasSize(1)
                    .allSatisfy(seconds -> assertThat(seconds).isBetween(43_100, 43_198));
            assertThat(got).as("handed out, not left invisible 12 hours").extracting(SqsSourceIT::body)
                    .containsExactly("ours");
            assertThat(source.stats().foreignSenders()).isEqualTo(1);
            assertThat(source.stats().deadLettered()).isEqualTo(1);
        }
    }

    @Test
    void refusedMessages_whileTheDeadLetterQueueIsSlow_areCopiedAFewAtATime_theRestWhenTheyComeBack() throws Exception {
        // each receive of a foreign sender's messages started a copy of its own beside the poll: with the DLQ slow, a flood
        // started a thread (and held ten bodies) per receive, without bound, all on the client's connections
        var q = queue(false, 1000);
        for (int i = 0; i < 100; i++) {
            q.send("flood-" + i, Map.of(), null);
        }
        var open = new java.util.concurrent.CountDownLatch(1);
        var copying = new java.util.concurrent.atomic.AtomicInteger();
        var most = new java.util.concurrent.atomic.AtomicInteger();
        var slowDlq = (software.amazon.awssdk.services.sqs.SqsClient) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {software.amazon.awssdk.services.sqs.SqsClient.class},
                (proxy, method, args) -> {
                    boolean copy = method.getName().equals("sendMessageBatch");
                    if (copy) {
                        most.accumulateAndGet(copying.incrementAndGet(), Math::max);
                        open.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    }
                    try {
                        return method.invoke(q.client, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        if (copy) {
                            copying.decrementAndGet();
                        }
                    }
                });
        var strict = SqsSource.builder(slowDlq, q.url).allowedSenders(Set.of("AIDAMTURKONLY")).build();
        opened.add(strict);
        var received = new java.util.concurrent.atomic.AtomicInteger();
        for (int i = 0; i < 12; i++) {
            var polled = new java.util.concurrent.CompletableFuture<Integer>();
            Thread.ofVirtual().start(() -> polled.complete(strict.poll(poll(10, 0, 2)).size()));
            // the receive goes on while the DLQ does not answer: a copy held on it would run the good messages' leases down
            received.addAndGet(polled.get(10, java.util.concurrent.TimeUnit.SECONDS));
        }
        assertThat(most.get()).as("copies under way at once").isEqualTo(2);
        assertThat(received.get()).as("refused, none handed out").isZero();

        open.countDown();
        var dead = new java.util.HashSet<String>();
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(30), () -> {
            strict.poll(poll(10, 1, 2)); // those not copied come back when their visibility runs out
            q.deadLetterMessages().forEach(m -> dead.add(m.body()));
            return dead.size() == 100;
        })).as("every one dead-lettered, none lost: " + dead.size()).isTrue();
    }

    @Test
    void deadLetter_copiesBodyAndTypedAttributes_addsReasonSourceAndReceiveCount_thenDeletes() {
        var q = queue(false, 1000);
        q.client.sendMessage(b -> b.queueUrl(q.url).messageBody("poison").messageAttributes(Map.of(
                "tenant", MessageAttributes.string("acme"),
                "n", MessageAttributeValue.builder().dataType("Number").stringValue("3").build())));
        var first = q.source().poll(poll(1, 5, 1)).getFirst();
        assertThat(first.receiveCount()).isEqualTo(1);
        var again = q.source().poll(poll(1, 5, 30)).getFirst();
        assertThat(again.receiveCount()).isEqualTo(2);

        assertThat(q.source().settle(List.of(new Settlement(again, Disposition.deadLetter("handler rejected: HTTP 400"))))).isEmpty();

        var dead = q.deadLetterMessages();
        assertThat(dead).hasSize(1);
        var attrs = dead.getFirst().messageAttributes();
        assertThat(dead.getFirst().body()).isEqualTo("poison");
        assertThat(attrs.get(DeadLetterAttributes.REASON).stringValue()).isEqualTo("handler rejected: HTTP 400");
        assertThat(attrs.get(DeadLetterAttributes.SOURCE).stringValue()).isEqualTo(q.source().name());
        assertThat(attrs).as("the source is named after its queue here").doesNotContainKey(DeadLetterAttributes.SOURCE_NAME);
        assertThat(attrs.get(DeadLetterAttributes.RECEIVE_COUNT).stringValue()).isEqualTo("2");
        assertThat(attrs.get("tenant").stringValue()).isEqualTo("acme");
        assertThat(attrs.get("n").dataType()).isEqualTo("Number");
        assertThat(q.approximateVisible()).isZero();
        assertThat(q.source().poll(poll(10, 1, 30))).isEmpty();
    }

    @Test // #16: redrive --to needs the queue's name, whatever the config called the source
    void deadLetter_ofASourceNamedOtherwise_carriesTheQueueName_andTheSourceName() {
        var q = queue(false, 1000);
        var named = SqsSource.builder(q.client, q.url).name("orders-in").build();
        opened.add(named);
        q.send("poison", Map.of(), null);
        var d = named.poll(poll(1, 5, 30)).getFirst();
        assertThat(named.settle(List.of(new Settlement(d, Disposition.deadLetter("rejected"))))).isEmpty();
        var attrs = q.deadLetterMessages().getFirst().messageAttributes();
        String queueName = q.url.substring(q.url.lastIndexOf('/') + 1);
        assertThat(attrs.get(DeadLetterAttributes.SOURCE).stringValue()).isEqualTo(queueName);
        assertThat(attrs.get(DeadLetterAttributes.SOURCE_NAME).stringValue()).isEqualTo("orders-in");
    }

    @Test
    void deadLetter_ofAMessageWithTenAttributes_foldsTheOverflow_andRedriveRestoresThemAll() {
        var q = queue(false, 1000);
        var ten = new java.util.HashMap<String, MessageAttributeValue>();
        for (int i = 0; i < 10; i++) {
            ten.put("a" + i, MessageAttributes.string("v" + i));
        }
        q.client.sendMessage(b -> b.queueUrl(q.url).messageBody("crowded").messageAttributes(ten));
        var d = q.source().poll(poll(1, 5, 30)).getFirst();
        assertThat(q.source().settle(List.of(new Settlement(d, Disposition.deadLetter("too crowded"))))).isEmpty();

        var dead = q.deadLetterMessages();
        assertThat(dead.getFirst().messageAttributes()).hasSize(10).containsKey(MessageAttributes.OVERFLOW);
        q.client.changeMessageVisibility(b -> b.queueUrl(q.dlqUrl).receiptHandle(dead.getFirst().receiptHandle())
                .visibilityTimeout(0));

        assertThat(q.queues.redrive(q.dlqUrl, q.url, 10)).isEqualTo(new SqsQueues.RedriveReport(1, 0));
        // as Ferry's source reads it: its ten unfolded, beside the redrive's marks (which fold them on the queue itself)
        var back = q.source().poll(poll(1, 5, 30));
        assertThat(back).hasSize(1);
        for (int i = 0; i < 10; i++) {
            assertThat(back.getFirst().attributes()).containsEntry("a" + i, "v" + i);
        }
        assertThat(back.getFirst().deduplicationId()).as("the same event it was").isEqualTo(d.id());
    }

    @Test
    void redeliver_beyondTwelveHours_isCappedInsteadOfRefused() {
        var q = queue(false, 1000);
        q.send("far future", Map.of(), null);
        var d = q.source().poll(poll(1, 5, 30)).getFirst();
        assertThat(q.source().settle(List.of(new Settlement(d, Disposition.redeliver(Duration.ofHours(13)))))).isEmpty();
        assertThat(q.source().poll(poll(10, 1, 30))).isEmpty();
    }

    @Test
    void aDeadLetterWhoseCopyLanded_butWhoseReceiptWasStale_isReportedToPass_soItIsOwedNotRunAgain() {
        // reported refused for good, the dead letter was not owed: the message's newer copy ran (and could succeed)
        // beside its own copy in the DLQ
        var q = queue(false, 1000);
        var stale = new Delivery("stale-id", "poison".getBytes(StandardCharsets.UTF_8), Map.of(), 3, java.time.Instant.now(),
                null, null, q.source().name(), new SqsReceipt("a-receipt-received-again-since", System.nanoTime(), Map.of()));

        var failures = q.source().settle(List.of(new Settlement(stale, Disposition.deadLetter("failed 3 times"))));

        assertThat(q.deadLetterMessages()).extracting(m -> m.body()).containsExactly("poison");
        assertThat(failures).singleElement().satisfies(f -> assertThat(f.retryable()).as(f.reason()).isTrue());
    }

    @Test // a review: a line per stale receipt, unbounded beside the listener's bounded ones: a lasting fault wrote millions
    void staleReceiptsInBulk_areLoggedTwentyAWindow_andAllCounted() {
        var q = queue(false, 1000);
        var forged = new ArrayList<Settlement>();
        for (int i = 0; i < 50; i++) {
            forged.add(new Settlement(new Delivery("forged-" + i, new byte[0], Map.of(), 1, java.time.Instant.now(), null,
                    null, q.source().name(), new SqsReceipt("not-a-receipt-handle-" + i, System.nanoTime(), Map.of())),
                    Disposition.ACK));
        }
        try (var log = new CapturedLog()) {
            assertThat(q.source().settle(forged)).hasSize(50);
            assertThat(log.lines.stream().filter(l -> l.contains("stale receipt handle")).count())
                    .as(String.join("\n", log.lines)).isEqualTo(20);
        }
        assertThat(q.source().stats().invalidReceipts()).as("every one counted").isEqualTo(50);
    }

    @Test
    void settle_withAnInvalidReceipt_failsThatEntryOnly_andCountsIt() {
        var q = queue(false, 1000);
        q.send("good", Map.of(), null);
        var good = q.source().poll(poll(1, 5, 30)).getFirst();
        var forged = new Delivery("forged-id", new byte[0], Map.of(), 1, java.time.Instant.now(), null, null,
                q.source().name(), new SqsReceipt("not-a-receipt-handle", System.nanoTime(), Map.of()));

        var failures = q.source().settle(List.of(new Settlement(forged, Disposition.ACK), new Settlement(good, Disposition.ACK)));

        assertThat(failures).hasSize(1);
        assertThat(failures.getFirst().settlement().delivery().id()).isEqualTo("forged-id");
        assertThat(failures.getFirst().retryable()).isFalse();
        assertThat(q.source().stats().invalidReceipts()).isEqualTo(1);
        assertThat(q.approximateVisible()).isZero();
        assertThat(q.source().poll(poll(10, 1, 30))).as("the good one was deleted").isEmpty();
    }

    @Test
    void interruptedPoll_returnsAtOnce_andWhatItsReceiveBringsLaterIsReleased() throws Exception {
        var q = queue(false, 1000);
        var result = new CompletableFuture<List<Delivery>>();
        var poller = Thread.ofPlatform().start(() -> result.complete(q.source().poll(poll(10, 5, 600))));
        Thread.sleep(500);
        poller.interrupt();
        assertThat(result.get(2, TimeUnit.SECONDS)).isEmpty();
        q.send("arrives during the orphaned long poll", Map.of(), null);

        // the orphaned receive takes it with a 600 s visibility and must release it straight away
        var again = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && again.isEmpty(); i++) {
            again.addAll(q.source().poll(poll(10, 1, 30)));
        }
        assertThat(again).extracting(SqsSourceIT::body).containsExactly("arrives during the orphaned long poll");
        assertThat(again.getFirst().receiveCount()).isEqualTo(2);
        // counted once the release call returned, which can be just after the message is visible again
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(5),
                () -> q.source().stats().releasedAfterInterrupt() == 1)).isTrue();
    }

    @Test
    void close_waitsForAnOpenReceive_soWhatItBringsIsReleased_beforeTheClientCloses() throws Exception {
        var q = queue(false, 1000);
        var own = ElasticMq.newClient(ElasticMq.endpoint());
        var source = SqsSource.builder(own, q.url).maxWait(Duration.ofSeconds(3)).build();
        var poller = Thread.ofPlatform().start(() -> source.poll(poll(10, 3, 600)));
        Thread.sleep(300);
        poller.interrupt(); // the listener stops: the receive goes on, orphaned
        poller.join(2_000);
        q.send("arrives during the last long poll", Map.of(), null);
        source.close();     // waits for that receive, and for the release of what it brought
        own.close();        // what an application does next: the release needs no client any more

        var again = new ArrayList<Delivery>();
        for (int i = 0; i < 3 && again.isEmpty(); i++) {
            again.addAll(q.source().poll(poll(10, 1, 30)));
        }
        assertThat(again).as("visible again at once, not after the orphaned receive's 600 s")
                .extracting(SqsSourceIT::body).containsExactly("arrives during the last long poll");
    }

    @Test
    void noDeadLetterQueue_onPurpose_ignoresTheRedrivePolicy() {
        var q = queue(false, 1000);
        assertThat(q.source().deadLetterQueueUrl()).isPresent();
        var none = SqsSource.builder(ElasticMq.client(), q.url).noDeadLetterQueue().build();
        assertThat(none.deadLetterQueueUrl()).isEmpty();
        var named = SqsSource.builder(ElasticMq.client(), q.url).noDeadLetterQueue().deadLetterQueue(q.dlqUrl).build();
        assertThat(named.deadLetterQueueUrl()).as("the last word wins").contains(q.dlqUrl);
    }

    @Test
    void sqsOwnRedrive_movesAMessageAfterMaxReceiveCount() throws Exception {
        var q = queue(false, 2);
        q.send("never acked", Map.of(), null);
        for (int i = 1; i <= 2; i++) {
            var d = q.source().poll(poll(1, 5, 1));
            assertThat(d).hasSize(1);
            assertThat(d.getFirst().receiveCount()).isEqualTo(i);
            Thread.sleep(1200);
        }
        assertThat(q.source().poll(poll(1, 2, 1))).as("third receive goes to the DLQ instead").isEmpty();
        assertThat(q.deadLetterMessages()).extracting(m -> m.body()).containsExactly("never acked");
    }

    @Test
    void throttleWarning_whenTheQueueWouldDeadLetterThrottledMessages() {
        var risky = queue(false, 5);
        var safe = queue(false, 1000);
        assertThat(risky.source().throttleWarning()).hasValueSatisfying(w -> assertThat(w)
                .contains("maxReceiveCount 5").contains("throttles (429)").contains("\\\"maxReceiveCount\\\":\\\"1000\\\""));
        assertThat(safe.source().throttleWarning()).isEmpty();
    }

    @Test
    void builder_ofAMissingQueue_failsWithItsName() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SqsSource.builder(ElasticMq.client(), "no-such-queue").build())
                .isInstanceOf(dev.ferry.domain.model.FerryException.class)
                .hasMessageContaining("no-such-queue");
    }

    /** A client whose SendMessageBatch never delivers the entry with body {@code body} while {@code refuse} holds: refused, as SQS may. */
    private SqsClient refusingCopiesOf(String body, AtomicBoolean refuse) {
        var client = clientWith(new RefusedEntries(body, refuse::get, "InvalidParameterValue", true));
        opened.add(client);
        return client;
    }

    private static List<Settlement> deadLetters(List<Delivery> deliveries) {
        return deliveries.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison " + body(d)))).toList();
    }

    @Test // a copy refused in the middle of a batch must not let its group's later copies overtake it in the FIFO DLQ
    void fifoDeadLetterCopy_refused_holdsBackTheLaterCopiesOfItsGroup_soTheDeadLetterQueueKeepsTheGroupsOrder() {
        var refuse = new AtomicBoolean(true);
        var client = refusingCopiesOf("a2", refuse);
        var q = queue(client);
        for (var body : List.of("a1", "a2", "a3")) {
            q.send(body, Map.of(), "A");
        }
        q.send("b1", Map.of(), "B");
        var got = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && got.size() < 4; i++) {
            got.addAll(q.source().poll(poll(10, 1, 2)));
        }
        assertThat(got).extracting(SqsSourceIT::body).containsExactlyInAnyOrder("a1", "a2", "a3", "b1");
        var failures = q.source().settle(got.stream()
                .map(d -> new Settlement(d, Disposition.deadLetter("poison " + body(d)))).toList());
        // a2's copy was refused: a3's must wait for it, or it would come first in the dead-letter queue
        assertThat(failures).extracting(f -> body(f.settlement().delivery())).containsExactlyInAnyOrder("a2", "a3");
        assertThat(q.approximateDeadLetters()).isEqualTo(2); // a1 and b1

        refuse.set(false);
        var again = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && again.size() < 2; i++) {
            again.addAll(q.source().poll(poll(10, 2, 30)));
        }
        assertThat(again).extracting(SqsSourceIT::body).containsExactly("a2", "a3");
        assertThat(q.source().settle(again.stream()
                .map(d -> new Settlement(d, Disposition.deadLetter("poison " + body(d)))).toList())).isEmpty();
        assertThat(q.deadLetterMessages()).extracting(m -> m.body()).filteredOn(b -> b.startsWith("a"))
                .containsExactly("a1", "a2", "a3");
    }

    @Test // ...nor when the group's next dead letter comes in a later settle call
    void fifoDeadLetterCopy_refused_holdsBackItsGroupsCopiesInLaterCalls_untilItIsCopiedItself() {
        var refuse = new AtomicBoolean(true);
        var q = queue(refusingCopiesOf("a2", refuse));
        for (var body : List.of("a1", "a2", "a3")) {
            q.send(body, Map.of(), "A");
        }
        var got = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && got.size() < 3; i++) {
            got.addAll(q.source().poll(poll(10, 1, 2)));
        }
        assertThat(got).extracting(SqsSourceIT::body).containsExactly("a1", "a2", "a3");
        assertThat(q.source().settle(deadLetters(got.subList(0, 2))))
                .extracting(f -> body(f.settlement().delivery())).containsExactly("a2");
        refuse.set(false); // a3's copy would go through now: it must still wait for a2's
        assertThat(q.source().settle(deadLetters(got.subList(2, 3))))
                .extracting(f -> f.reason()).singleElement().asString().contains("held back behind message");
        assertThat(q.approximateDeadLetters()).isEqualTo(1); // a1

        var again = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && again.size() < 2; i++) {
            again.addAll(q.source().poll(poll(10, 2, 30)));
        }
        assertThat(again).extracting(SqsSourceIT::body).containsExactly("a2", "a3");
        assertThat(q.source().settle(deadLetters(again))).isEmpty(); // a2 first, then a3, in one call
        assertThat(q.deadLetterMessages()).extracting(m -> m.body()).containsExactly("a1", "a2", "a3");
    }

    private SqsFixture queue(SqsClient client) {
        var q = SqsFixture.create(client, true, 1000);
        opened.add(q);
        return q;
    }

    private static SqsClient clientWith(ExecutionInterceptor interceptor) {
        return ElasticMq.clientWith(interceptor);
    }
}
