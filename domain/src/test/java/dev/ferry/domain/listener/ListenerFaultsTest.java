package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.FlakyLedger;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine keeps its promise when the ledger, a handler, a plugin or another instance misbehaves. #15 */
class ListenerFaultsTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final InMemoryQueue dlq = InMemoryQueue.builder("trades-dlq.fifo").build();
    private final InMemoryQueue fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true)
            .deadLetterQueue(dlq).build();
    private final List<Listener> listeners = new ArrayList<>();
    private final List<String> effects = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopAll() {
        listeners.forEach(Listener::stop);
    }

    /** ListenerTest's fast settings, with a dead-letter policy tight enough that a spent receive shows. */
    private static ListenerConfig.Builder fast() {
        return ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(2));
    }

    @Test // a review: a role allowed to receive but not to delete — each message ran again every lease, for ever, while ready
    void anAcknowledgerThatCarriesOutNothing_takesTheListenerOutOfReadiness_sayingWhy_andBackWhenItWorks() {
        var queue = InMemoryQueue.standard("no-delete");
        var refusing = new AtomicBoolean(true);
        var acks = new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                if (refusing.get()) {
                    return settlements.stream().map(st -> new Settlement.Failure(st,
                            "AccessDenied: not authorized to perform sqs:DeleteMessage (injected)", true)).toList();
                }
                return queue.settle(settlements);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        var runs = new AtomicInteger();
        var listener = start(Listener.builder(queue, acks, new LineDecoder(), (event, delivery) -> {
            runs.incrementAndGet();
            return Outcome.done();
        }).config(ListenerTest.fast().build()));
        queue.send("a");
        assertThat(Await.until(LIMIT, () -> !listener.health().ready()))
                .as("not ready: %s, runs %s", listener.health(), runs.get()).isTrue();
        assertThat(listener.health().problems()).anySatisfy(p -> assertThat(p)
                .contains("every acknowledgement call to the source has failed").contains("sqs:DeleteMessage"));
        refusing.set(false); // the role put right
        assertThat(Await.until(LIMIT, () -> listener.health().ready() && queue.size() == 0))
                .as("ready again, the message deleted: %s", listener.health()).isTrue();
    }

    @Test // a review: dead-letter copies all refused (a DLQ denied, its KMS key refused) while acks went through: every
          // poison message came back each lease and was given up again, the DLQ empty, the listener ready
    void deadLetterCopiesThatAllFail_takeTheListenerOutOfReadiness_whileAcksGoThrough_andBackWhenTheyWork() {
        var dlqOut = InMemoryQueue.standard("poison-dlq");
        var queue = InMemoryQueue.builder("poison").deadLetterQueue(dlqOut, 1000).build();
        var refusing = new AtomicBoolean(true);
        var acks = new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                var refused = settlements.stream().filter(st -> refusing.get()
                        && st.disposition() instanceof dev.ferry.domain.transport.Disposition.DeadLetter).toList();
                var failures = new ArrayList<>(queue.settle(settlements.stream().filter(st -> !refused.contains(st)).toList()));
                refused.forEach(st -> failures.add(new Settlement.Failure(st,
                        "KMS.AccessDeniedException: not authorized to perform kms:GenerateDataKey (injected)", true)));
                return failures;
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        var listener = start(Listener.builder(queue, acks, new LineDecoder(), (event, delivery) ->
                event.key().startsWith("bad") ? Outcome.reject("poison") : Outcome.done()).config(ListenerTest.fast().build()));
        var good = new AtomicInteger();
        var feeding = Thread.ofVirtual().start(() -> { // good messages all along: acks carried out, every call
            while (!Thread.currentThread().isInterrupted()) {
                queue.send("good-" + good.incrementAndGet());
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            queue.send("bad-1");
            assertThat(Await.until(LIMIT, () -> !listener.health().ready()))
                    .as("not ready: %s", listener.health()).isTrue();
            assertThat(listener.health().problems()).anySatisfy(p -> assertThat(p)
                    .contains("every dead letter sent to the source has failed").contains("kms:GenerateDataKey"));
            assertThat(dlqOut.size()).as("nothing reached the dead-letter queue").isZero();
            refusing.set(false); // the key's policy put right
            assertThat(Await.until(LIMIT, () -> listener.health().ready() && dlqOut.size() == 1))
                    .as("ready again, the poison message dead-lettered: %s", listener.health()).isTrue();
        } finally {
            feeding.interrupt();
        }
    }

    private Listener start(Listener.Builder builder) {
        var l = builder.build();
        listeners.add(l);
        return l.start();
    }

    private Listener.Builder on(Source source, InMemoryQueue acks, Handler handler, ListenerConfig config) {
        return Listener.builder(source, acks, new LineDecoder(), handler).config(config).seed(7);
    }

    private Handler recording() {
        return (event, delivery) -> {
            effects.add(event.key());
            return Outcome.done();
        };
    }

    private void sendGroups(int perGroup, String... groups) {
        for (int i = 1; i <= perGroup; i++) {
            for (var g : groups) {
                fifo.send(InMemoryQueue.Message.of(g + i, g));
            }
        }
    }

    private List<String> ofGroup(String group) {
        return effects.stream().filter(k -> k.startsWith(group)).toList();
    }

    @Test // #15 (1)
    void aLedgerDownForSeconds_holdsMessagesInHand_inOrder_spendingNoReceive_deadLetteringNothing() {
        sendGroups(5, "A", "B");
        var ledger = FlakyLedger.create();
        ledger.fault(FlakyLedger.Fault.STORE_DOWN);
        var l = start(on(fifo, fifo, recording(), fast().build()).ledger(ledger));
        assertThat(Await.until(LIMIT, () -> ledger.failedCalls.get() >= 5)).isTrue();
        assertThat(Await.until(LIMIT, () -> !l.health().ready())).as("not ready while the ledger fails").isTrue();
        assertThat(l.health().problems()).anySatisfy(p -> assertThat(p).contains("ledger claim failing"));
        sleep(Duration.ofMillis(1500)); // several backoff rounds: before the fix each one spent a receive
        ledger.fault(FlakyLedger.Fault.NONE);

        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.size()).as("a store failure is not the message's fault").isZero();
        assertThat(ofGroup("A")).containsExactly("A1", "A2", "A3", "A4", "A5");
        assertThat(ofGroup("B")).containsExactly("B1", "B2", "B3", "B4", "B5");
        assertThat(l.stats().received()).as("each received once: nothing went back to the queue").isEqualTo(10);
        assertThat(l.stats().ledgerFailures()).isGreaterThanOrEqualTo(5);
        assertThat(Await.until(LIMIT, () -> l.health().ready())).as("ready again once the ledger answers").isTrue();
    }

    @Test // a review: readiness came back only by a delivery's own ledger call; an endpoint holding nothing got none
    void aSourceThatHoldsNothing_isReadyAgain_onceTheLedgerAnswers_withNoMessageToTryIt() {
        var queue = InMemoryQueue.standard("ingest");
        queue.send("r-1");
        Source oneRequest = oneRequest(queue);
        var flaky = FlakyLedger.create();
        flaky.fault(FlakyLedger.Fault.STORE_DOWN);
        var down = new AtomicBoolean(true);
        // its reads fail too while it is down (FlakyLedger's peek is the port's default, which asks nothing)
        var ledger = (dev.ferry.domain.idempotency.IdempotencyLedger) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {dev.ferry.domain.idempotency.IdempotencyLedger.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("peek") && down.get()) {
                        throw new dev.ferry.domain.model.FerryException("ledger unreachable (injected)", true);
                    }
                    try {
                        return method.getName().equals("peek") ? java.util.Optional.empty() : method.invoke(flaky, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        var l = start(on(oneRequest, queue, recording(), fast().build()).ledger(ledger));
        assertThat(Await.until(LIMIT, () -> !l.health().ready())).as("not ready while the ledger fails").isTrue();
        assertThat(Await.until(LIMIT, () -> l.stats().inFlight() == 0)).as("nothing in hand to try the ledger again").isTrue();
        sleep(Duration.ofSeconds(7)); // past the probe's 5 s: asked, and still down
        assertThat(l.health().ready()).as("not ready while it is still down: " + l.health()).isFalse();

        flaky.fault(FlakyLedger.Fault.NONE);
        down.set(false);

        assertThat(Await.until(LIMIT, () -> l.health().ready())).as("ready again: " + l.health()).isTrue();
    }

    @Test // a review: a plugin's ledger whose peek is the port's (asks nothing) was never probed: not ready for good
    void aSourceThatHoldsNothing_onAPluginLedgerThatCannotPeek_isReadyAgain_onceTheLedgerAnswers() {
        var queue = InMemoryQueue.standard("ingest");
        queue.send("r-1");
        var flaky = FlakyLedger.create(); // its peek is the port's default
        flaky.fault(FlakyLedger.Fault.STORE_DOWN);
        var l = start(on(oneRequest(queue), queue, recording(), fast().build()).ledger(flaky));
        assertThat(Await.until(LIMIT, () -> !l.health().ready())).as("not ready while the ledger fails").isTrue();
        assertThat(Await.until(LIMIT, () -> l.stats().inFlight() == 0)).as("nothing in hand to try the ledger again").isTrue();
        sleep(Duration.ofSeconds(7)); // past the probe's 5 s: asked, and still down
        assertThat(l.health().ready()).as("not ready while it is still down: " + l.health()).isFalse();

        flaky.fault(FlakyLedger.Fault.NONE);

        assertThat(Await.until(LIMIT, () -> l.health().ready())).as("ready again: " + l.health()).isTrue();
    }

    /** A source of one request, as an HTTP endpoint's: its client answered at once, nothing comes again. */
    private static Source oneRequest(InMemoryQueue queue) {
        var handedOut = new AtomicBoolean();
        return new Source() {
            @Override
            public String name() {
                return queue.name();
            }

            @Override
            public List<dev.ferry.domain.model.Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
                if (!handedOut.getAndSet(true)) {
                    return queue.poll(request);
                }
                sleep(request.maxWait());
                return List.of();
            }

            @Override
            public Duration maxHoldInHand() {
                return Duration.ZERO;
            }

            @Override
            public boolean redeliversAfterLease() {
                return false;
            }
        };
    }

    @Test // #15 (2)
    void anErrorOrANullFromAPluginLedger_holdsInHand_untilItAnswers() {
        sendGroups(3, "A");
        var ledger = FlakyLedger.create();
        ledger.fault(FlakyLedger.Fault.ERROR);
        var l = start(on(fifo, fifo, recording(), fast().build()).ledger(ledger));
        assertThat(Await.until(LIMIT, () -> ledger.failedCalls.get() >= 3)).isTrue();
        ledger.fault(FlakyLedger.Fault.NULL_ANSWER);
        int failedBefore = ledger.failedCalls.get();
        assertThat(Await.until(LIMIT, () -> ledger.failedCalls.get() >= failedBefore + 3)).isTrue();
        ledger.fault(FlakyLedger.Fault.NONE);
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1", "A2", "A3");
        assertThat(dlq.size()).isZero();
        assertThat(l.stats().inFlight()).isZero();
    }

    @Test // #15 (2)
    void anErrorFromTheHandler_isRetried_thenDeadLetteredWithItsReason_andItsGroupGoesOn() {
        sendGroups(3, "A");
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A1")) {
                throw new NoClassDefFoundError("com/example/sink/Client");
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(on(fifo, fifo, handler, fast().build()));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0 && dlq.size() == 1)).as(l.stats().line()).isTrue();
        assertThat(dlq.messages().getFirst().attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .contains("failed 3 time(s)").contains("the handler threw java.lang.NoClassDefFoundError: com/example/sink/Client");
        assertThat(effects).containsExactly("A2", "A3");
        assertThat(l.stats().inFlight()).isZero();
        assertThat(l.health().ready()).isTrue();
    }

    @Test // #15 (2)
    void aHandlerReturningNull_andADecoderThrowingAnError_endInDecisions_notInAWedgedGroup() {
        fifo.send(InMemoryQueue.Message.of("boom", "A"));
        fifo.send(InMemoryQueue.Message.of("nothing", "A"));
        fifo.send(InMemoryQueue.Message.of("A3", "A"));
        Decoder decoder = delivery -> {
            if (new String(delivery.body(), StandardCharsets.UTF_8).equals("boom")) {
                throw new ExceptionInInitializerError("plugin decoder");
            }
            return new LineDecoder().decode(delivery);
        };
        Handler handler = (event, delivery) -> {
            if (event.key().equals("nothing")) {
                return null;
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(Listener.builder(fifo, fifo, decoder, handler).config(fast().build()));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0 && dlq.size() == 2)).as(l.stats().line()).isTrue();
        assertThat(dlq.messages()).extracting(m -> m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .anySatisfy(r -> assertThat(r).contains("the decoder threw java.lang.ExceptionInInitializerError"))
                .anySatisfy(r -> assertThat(r).contains("the handler threw nothing"));
        assertThat(effects).containsExactly("A3");
    }

    @Test
    void aDecoderThatThrowsOnce_hasTheMessageDecodedAgain_andHandled_inItsGroupsOrder() {
        // retried in hand, a decoder's throw was repeated from memory on every attempt and the message was dead-lettered,
        // though decoding it again (its registry or key service back) would have worked
        fifo.send(InMemoryQueue.Message.of("flaky", "A"));
        fifo.send(InMemoryQueue.Message.of("A2", "A"));
        var throwsLeft = new AtomicInteger(1);
        Decoder decoder = delivery -> {
            if (new String(delivery.body(), StandardCharsets.UTF_8).equals("flaky") && throwsLeft.getAndDecrement() > 0) {
                throw new IllegalStateException("schema registry unreachable");
            }
            return new LineDecoder().decode(delivery);
        };
        Handler handler = (event, delivery) -> {
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(Listener.builder(fifo, fifo, decoder, handler).config(fast().build()));
        assertThat(Await.until(LIMIT, () -> effects.size() == 2 || dlq.size() > 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.size()).as("nothing dead-lettered").isZero();
        assertThat(effects).containsExactly("flaky", "A2");
    }

    @Test
    void aDecoderThatThrowsOnce_onASourceThatDoesNotHandOutAgain_isDecodedAgainInHand() {
        // Kafka, HTTP: given back, a record without a key held its whole partition for the backoff; held in hand and
        // decoded again on the next attempt, it goes on where it is
        fifo.send(InMemoryQueue.Message.of("flaky", "A"));
        var throwsLeft = new AtomicInteger(1);
        Decoder decoder = delivery -> {
            if (new String(delivery.body(), StandardCharsets.UTF_8).equals("flaky") && throwsLeft.getAndDecrement() > 0) {
                throw new IllegalStateException("schema registry unreachable");
            }
            return new LineDecoder().decode(delivery);
        };
        var receives = new CopyOnWriteArrayList<Integer>();
        Handler handler = (event, delivery) -> {
            receives.add(delivery.receiveCount());
            return Outcome.done();
        };
        var keeping = new Source() {
            @Override
            public String name() {
                return fifo.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return fifo.poll(request);
            }

            @Override
            public boolean redeliversAfterLease() {
                return false;
            }
        };
        var l = start(Listener.builder(keeping, fifo, decoder, handler).config(fast().build()));
        assertThat(Await.until(LIMIT, () -> !receives.isEmpty() || dlq.size() > 0)).as(l.stats().line()).isTrue();
        assertThat(receives).as("handled on its first receive, not given back").containsExactly(1);
    }

    @Test
    void aLedgerAnsweringInProgressWithoutAnEnd_hasTheClaimAskedAgain_notTheMessageDeadLettered() {
        // Duration.between(now, null) threw: the engine's fault was counted as the message's own, and after max-attempts
        // a message nobody had failed was dead-lettered
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        var unknownLeft = new AtomicInteger(3);
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(dev.ferry.domain.idempotency.InMemoryLedger.create()) {
            @Override
            public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
                return unknownLeft.getAndDecrement() > 0 ? new dev.ferry.domain.idempotency.Claim.InProgress(key, null)
                        : super.claim(key, lease);
            }
        };
        Handler handler = (event, delivery) -> {
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(Listener.builder(fifo, fifo, new LineDecoder(), handler).ledger(ledger).config(fast().build()));
        assertThat(Await.until(LIMIT, () -> effects.size() == 1 || dlq.size() > 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.size()).as("nothing dead-lettered").isZero();
        assertThat(effects).containsExactly("A1");
    }

    @Test // #15 (2)
    void anErrorFromAPoll_orFromTheObserver_neitherKillsAThreadNorLosesAMessage() {
        sendGroups(2, "A");
        var pollsLeftToFail = new AtomicInteger(4);
        Source flaky = polling(request -> {
            if (pollsLeftToFail.getAndDecrement() > 0) {
                throw new OutOfMemoryError("injected: a poll that dies");
            }
            return fifo.poll(request);
        });
        var observer = new ListenerObserver() {
            @Override
            public void handled(Event event, Outcome outcome, long nanos) {
                throw new AssertionError("an observer that throws an Error");
            }
        };
        var l = start(on(flaky, fifo, recording(), fast().build()).observer(observer));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1", "A2");
        assertThat(Await.until(LIMIT, () -> l.health().ready())).as(l.health().toString()).isTrue();
    }

    @Test // #15 (3)
    void throttledOnThreeInstances_noReceiveIsSpent_andNothingIsDeadLettered() {
        sendGroups(4, "A", "B", "C");
        var throttles = new ConcurrentHashMap<String, AtomicInteger>();
        Handler handler = (event, delivery) -> {
            if (throttles.computeIfAbsent(event.key(), k -> new AtomicInteger()).incrementAndGet() <= 3) {
                return Outcome.throttled(Duration.ofMillis(20)); // the sink answers 429 three times per event
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var ledger = InMemoryLedger.create();
        for (int i = 0; i < 3; i++) {
            start(on(fifo, fifo, handler, fast().build()).ledger(ledger));
        }
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).isTrue();
        assertThat(dlq.size()).as("throttling is nobody's fault, on any instance").isZero();
        for (var g : List.of("A", "B", "C")) {
            assertThat(ofGroup(g)).containsExactly(g + "1", g + "2", g + "3", g + "4");
        }
        long received = listeners.stream().mapToLong(x -> x.stats().received()).sum();
        assertThat(received).as("every message received once, across the instances").isEqualTo(12);
    }

    @Test // #15 (4)
    void staleCopiesWaitingInALane_areDroppedUnhandled_notDeadLettered() {
        sendGroups(3, "A");
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A1") && calls.incrementAndGet() == 1) {
                sleep(Duration.ofMillis(1200)); // 4x the lease, not extended: A2 and A3 wait past theirs
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var config = fast().lease(Duration.ofMillis(300)).extendLeases(false).pollers(2).build();
        var l = start(on(fifo, fifo, handler, config).ledger(InMemoryLedger.create()));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.messages()).as("a stale copy's receive is not its fault " + l.stats().line())
                .extracting(m -> m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE)).isEmpty();
        // the first stale copy is dropped, and what waited behind it goes back with it (or is dropped in its turn)
        assertThat(l.stats().staleDropped()).isGreaterThanOrEqualTo(1);
        assertThat(l.stats().staleDropped() + l.stats().released()).isGreaterThanOrEqualTo(2);
        assertThat(effects.stream().distinct().toList()).containsExactly("A1", "A2", "A3");
        assertThat(effects.stream().filter(k -> !k.equals("A1")).toList()).as("A2, A3 once each").containsExactly("A2", "A3");
    }

    /** The FIFO queue as a source whose polls go through {@code poll}. */
    private Source polling(java.util.function.Function<PollRequest, List<Delivery>> poll) {
        return new Source() {
            @Override
            public String name() {
                return fifo.name();
            }

            @Override
            public List<Delivery> poll(PollRequest request) {
                return poll.apply(request);
            }
        };
    }

    /**
     * Refuses the first {@code refusals} dead letters with {@code reason} (the message stays in the queue, as when
     * SQS refuses the copy), passes everything else on to {@code queue}.
     */
    static Acknowledger refusingDeadLetters(InMemoryQueue queue, AtomicInteger refusals, String reason,
                                                    boolean retryable) {
        return refusingDeadLetters(queue, refusals, reason, retryable, false);
    }

    /** {@code rebuilt}: its refusals name settlements it made again, equal to those it was given but not the same objects. */
    static Acknowledger refusingDeadLetters(InMemoryQueue queue, AtomicInteger refusals, String reason,
                                                    boolean retryable, boolean rebuilt) {
        return refusingDeadLetters(queue, st -> refusals.getAndDecrement() > 0
                ? new Settlement.Failure(rebuilt ? new Settlement(st.delivery(), st.disposition()) : st, reason, retryable)
                : null);
    }

    /** Passes on what {@code refusal} answers null for; a dead letter it answers a failure for is refused so. */
    static Acknowledger refusingDeadLetters(InMemoryQueue queue,
                                            java.util.function.Function<Settlement, Settlement.Failure> refusal) {
        return new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                var failures = new ArrayList<Settlement.Failure>();
                var passed = new ArrayList<Settlement>();
                for (var st : settlements) {
                    var refused = st.disposition() instanceof Disposition.DeadLetter ? refusal.apply(st) : null;
                    if (refused != null) {
                        failures.add(refused);
                    } else {
                        passed.add(st);
                    }
                }
                failures.addAll(queue.settle(passed));
                return failures;
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
    }

    /** Refuses the first {@code refusals} acks, as SQS refuses an ack whose receipt went stale; passes the rest on. */
    private Acknowledger refusingAcks(AtomicInteger refusals) {
        return new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                var failures = new ArrayList<Settlement.Failure>();
                var passed = new ArrayList<Settlement>();
                for (var s : settlements) {
                    if (s.disposition() instanceof Disposition.Ack && refusals.getAndDecrement() > 0) {
                        failures.add(new Settlement.Failure(s, "receipt handle expired", false)); // it stays in the queue
                    } else {
                        passed.add(s);
                    }
                }
                failures.addAll(fifo.settle(passed));
                return failures;
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return fifo.extendLeases(deliveries, lease);
            }
        };
    }

    @Test // a head dropped as stale (its lease ran out while held) takes its group's tail back with it: no overtaking
    void aHeadDroppedAsStale_whileItsTailWaits_releasesTheTail_soTheGroupRunsInOrder() {
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        fifo.send(InMemoryQueue.Message.of("A2", "G"));
        var refuseA1 = new AtomicBoolean(true);
        var acks = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                return fifo.settle(settlements);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                // A1's extensions refused (its chunk throttled, say); the rest extended
                var refused = deliveries.stream().filter(d -> refuseA1.get() && "A1".equals(
                        new String(d.body(), StandardCharsets.UTF_8).trim())).toList();
                var passed = deliveries.stream().filter(d -> !refused.contains(d)).toList();
                var failed = new ArrayList<>(fifo.extendLeases(passed, lease));
                failed.addAll(refused);
                return failed;
            }
        };
        var a1Calls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A1") && a1Calls.incrementAndGet() == 1) {
                return Outcome.throttled(Duration.ofMillis(900));
            }
            if (event.key().equals("A1")) {
                refuseA1.set(false);
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(Listener.builder(fifo, acks, new LineDecoder(), handler)
                .config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(10)).lease(Duration.ofMillis(300))
                        .maxThrottlePause(Duration.ofSeconds(2)).build()).seed(7));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0 && effects.size() == 2)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1", "A2");
    }

    @Test // a handler that always runs past the lease and fails: its copies are dropped stale, but the limit still ends it
    void aHandlerThatAlwaysRunsPastTheLeaseAndFails_isDeadLetteredByTheReceiveLimit_notRunForEver() {
        var slowDlq = InMemoryQueue.standard("slow-dlq");
        var queue = InMemoryQueue.builder("slow").deadLetterQueue(slowDlq).build();
        queue.send("P1");
        var calls = new AtomicInteger();
        Handler slowPoison = (event, delivery) -> {
            calls.incrementAndGet();
            sleep(Duration.ofMillis(350)); // past the 200 ms lease, not extended
            return Outcome.reject("refused downstream");
        };
        var l = start(Listener.builder(queue, queue, new LineDecoder(), slowPoison)
                .config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(3)).lease(Duration.ofMillis(200))
                        .extendLeases(false).build()).seed(7));
        assertThat(Await.until(LIMIT, () -> slowDlq.size() == 1)).as(l.stats().line()).isTrue();
        assertThat(calls.get()).isBetween(1, 3);
    }

    @Test // a dead-letter the transport refused is still owed: the copy that comes back goes there, not to the handler
    void aDeadLetterTheTransportRefused_isOwed_theReturningCopyIsDeadLetteredNotHandledAfterItsGroupsLaterMessages() {
        assertRefusedDeadLetterIsOwed(false);
    }

    @Test // an acknowledger naming its refusals with settlements it made again (equal, not the same): still refusals
    void aDeadLetterRefused_inASettlementTheAcknowledgerMadeAgain_isStillOwed() {
        assertRefusedDeadLetterIsOwed(true);
    }

    private void assertRefusedDeadLetterIsOwed(boolean rebuiltRefusals) {
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        fifo.send(InMemoryQueue.Message.of("B2", "G"));
        var acks = refusingDeadLetters(fifo, new AtomicInteger(1), "SendMessageBatch throttled", true, rebuiltRefusals);
        var aCalls = new AtomicInteger();
        Handler handler = (event, delivery) -> {
            if (event.key().equals("A1") && aCalls.incrementAndGet() <= 3) {
                return Outcome.retry("downstream 503");
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(Listener.builder(fifo, acks, new LineDecoder(), handler)
                .config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(10)).lease(Duration.ofMillis(300)).build())
                .seed(7));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0 && dlq.size() == 1)).as(l.stats().line()).isTrue();
        assertThat(effects).as("A1 was given up on; it is not handled after B2").containsExactly("B2");
        assertThat(aCalls.get()).as("its copy went to the DLQ without running again").isEqualTo(3);
    }

    @Test // refused for good (no DLQ at all): the message is not held to a dead letter it can never make
    void aDeadLetterRefusedForGood_isNotOwed_theReturningCopyRunsAgain() {
        var queue = InMemoryQueue.standard("no-dlq");
        queue.send("A1");
        var acks = refusingDeadLetters(queue, new AtomicInteger(Integer.MAX_VALUE), "queue has no dead-letter queue", false);
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> calls.incrementAndGet() <= 3 ? Outcome.retry("downstream 503") : Outcome.done();
        var l = start(Listener.builder(queue, acks, new LineDecoder(), handler)
                .config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(10)).lease(Duration.ofMillis(300)).build())
                .seed(7));
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(calls.get()).as("handled on its return: the downstream came back").isEqualTo(4);
    }

    @Test // a review: owed once (refused for a passing reason), then refused for good, the copy stayed owed: never run again
    void aDeadLetterOwed_thenRefusedForGood_isNoLongerOwed_theReturningCopyRunsAgain() {
        var queue = InMemoryQueue.standard("dlq-gone");
        queue.send("A1");
        var deadLetters = new AtomicInteger();
        var acks = refusingDeadLetters(queue, st -> { // throttled first, then the dead-letter queue deleted
            boolean first = deadLetters.incrementAndGet() == 1;
            return new Settlement.Failure(st, first ? "throttled" : "the dead-letter queue does not exist", first);
        });
        var calls = new AtomicInteger();
        Handler handler = (event, delivery) -> calls.incrementAndGet() == 1 ? Outcome.reject("poison") : Outcome.done();
        var l = start(Listener.builder(queue, acks, new LineDecoder(), handler)
                .config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(10)).lease(Duration.ofMillis(300)).build())
                .seed(7));
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && queue.inFlightCount() == 0))
                .as(deadLetters + " dead letters, " + l.stats().line()).isTrue();
        assertThat(calls.get()).as("handled on its return once its dead letter could not be had").isEqualTo(2);
    }

    @Test // a copy whose lease ran out while its handler ran is someone else's: it is not dead-lettered beside them
    void aStaleCopyRejectedAfterItsLease_isDropped_notCopiedToTheDeadLetterQueue_theNewCopyDecides() {
        var queue = InMemoryQueue.standard("orders");
        queue.send("A1");
        var copiedToDlq = new CopyOnWriteArrayList<String>();
        var acks = new dev.ferry.domain.transport.Acknowledger() { // copies first as SQS does, receipt unchecked
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                settlements.stream().filter(st -> st.disposition() instanceof Disposition.DeadLetter)
                        .forEach(st -> copiedToDlq.add(st.delivery().id()));
                return queue.settle(settlements);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return queue.extendLeases(deliveries, lease);
            }
        };
        var calls = new AtomicInteger();
        Handler slowThenFine = (event, delivery) -> {
            if (calls.incrementAndGet() == 1) {
                sleep(Duration.ofMillis(700)); // past the 300 ms lease: the queue hands the message out again
                return Outcome.reject("rejected, too late");
            }
            effects.add(event.key());
            return Outcome.done();
        };
        var l = start(Listener.builder(queue, acks, new LineDecoder(), slowThenFine).ledger(InMemoryLedger.create())
                .config(fast().lease(Duration.ofMillis(300)).extendLeases(false).concurrency(4).build()).seed(7));
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && calls.get() >= 2)).as(l.stats().line()).isTrue();
        sleep(Duration.ofMillis(800));
        assertThat(copiedToDlq).as("the stale copy's reject is not carried out").isEmpty();
        assertThat(effects).containsExactly("A1");
    }

    @Test // an ack the transport did not take brings a handled message back: that receive is not its fault
    void ackRefusedByTheTransport_theMessageComesBack_andIsNotDeadLetteredForItsReceives() {
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        var refusals = new AtomicInteger(3); // more than maxReceives (2) allows: counted, they would dead-letter it
        var l = start(Listener.builder(fifo, refusingAcks(refusals), new LineDecoder(), recording())
                .config(fast().lease(Duration.ofMillis(200)).build()).ledger(InMemoryLedger.create()).seed(7));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.messages()).as(l.stats().line()).extracting(m -> m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .isEmpty();
        assertThat(effects).as("handled once, the later copies were duplicates").containsExactly("A1");
        assertThat(l.stats().duplicatesDropped()).isEqualTo(3);
        assertThat(l.stats().settleFailures()).isEqualTo(3);
    }

    @Test // the copies that come back while a refused ack is still on its way are excused too: not dead-lettered
    void ackSlowToBeRefused_theCopiesReceivedMeanwhile_areNotDeadLetteredForTheirReceives() {
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        var slowRefusals = new AtomicInteger(3);
        var refusing = refusingAcks(new AtomicInteger(0));
        Acknowledger slowThenRefusing = new Acknowledger() {
            @Override
            public List<Settlement.Failure> settle(List<Settlement> settlements) {
                if (slowRefusals.getAndDecrement() > 0) { // answered past the 150 ms lease, then refused: the copies came back
                    sleep(Duration.ofMillis(400));
                    return settlements.stream().map(st -> new Settlement.Failure(st, "receipt handle expired", false)).toList();
                }
                return refusing.settle(settlements);
            }

            @Override
            public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
                return refusing.extendLeases(deliveries, lease);
            }
        };
        var l = start(Listener.builder(fifo, slowThenRefusing, new LineDecoder(), recording())
                .config(fast().lease(Duration.ofMillis(150)).build()).seed(7)); // no ledger: a copy done is not spared
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.messages()).as(l.stats().line()).extracting(m -> m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .isEmpty();
        assertThat(effects).as("each copy handled, none dead-lettered").hasSizeGreaterThanOrEqualTo(3).containsOnly("A1");
        assertThat(l.stats().settleFailures()).as(l.stats().line()).isGreaterThanOrEqualTo(3);
    }

    @Test // the same for a delivery the handler kept and acked itself (skip-delete)
    void skipDelete_handlersAckRefused_withinTheLease_isExcusedToo() throws Exception {
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        var listener = new AtomicReference<Listener>();
        var later = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            Handler keeping = (event, delivery) -> {
                effects.add(event.key());
                // acked by the handler's own code a moment later, well within the 500 ms lease
                later.schedule(() -> listener.get().settle(delivery, Disposition.ACK), 30, java.util.concurrent.TimeUnit.MILLISECONDS);
                return Outcome.done();
            };
            var l = start(Listener.builder(fifo, refusingAcks(new AtomicInteger(3)), new LineDecoder(), keeping)
                    .config(fast().skipDelete(true).lease(Duration.ofMillis(500)).build()).seed(7));
            listener.set(l);
            assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
            assertThat(dlq.messages()).as(l.stats().line())
                    .extracting(m -> m.attributes().get(InMemoryQueue.REASON_ATTRIBUTE)).isEmpty();
            assertThat(effects).as("no ledger: each copy is handled, and acked by the handler").hasSize(4);
        } finally {
            later.shutdownNow();
        }
    }

    @Test // ...but a message handled only after its lease ran out answers for the receive: it cannot go round for ever
    void handledPastItsLease_everyTime_withItsAckRefused_isDeadLetteredForItsReceives() {
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        Handler slow = (event, delivery) -> {
            effects.add(event.key());
            sleep(Duration.ofMillis(250)); // past the 150 ms lease, which is not extended
            return Outcome.done();
        };
        var l = start(Listener.builder(fifo, refusingAcks(new AtomicInteger(1_000)), new LineDecoder(), slow)
                .config(fast().lease(Duration.ofMillis(150)).extendLeases(false).build()).seed(7));
        assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as(l.stats().line()).isTrue();
        assertThat(dlq.messages().getFirst().attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .matches("received \\d+ times .*more than maxReceives 2");
        assertThat(effects).as("handled on each of its two counted receives").containsExactly("A1", "A1");
    }

    @Test // the transport's lease starts when it handed the message out, not when its answer arrived
    void anAckIsExcusedOnlyWithinTheLeaseCountedFromThePoll_soASlowAnswerDoesNotExcuseOnePastIt() {
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        Source slowAnswer = polling(request -> {
            var got = fifo.poll(request);
            if (!got.isEmpty()) {
                sleep(Duration.ofMillis(200)); // the answer takes a while to arrive: the lease is running
            }
            return got;
        });
        Handler slow = (event, delivery) -> {
            effects.add(event.key());
            sleep(Duration.ofMillis(150)); // within 300 ms of the answer, but 350 ms after the queue leased it
            return Outcome.done();
        };
        var l = start(Listener.builder(slowAnswer, refusingAcks(new AtomicInteger(1_000)), new LineDecoder(), slow)
                .config(fast().lease(Duration.ofMillis(300)).extendLeases(false).build()).seed(7));
        assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as("excused for ever otherwise: " + l.stats().line()).isTrue();
        assertThat(dlq.messages().getFirst().attributes().get(InMemoryQueue.REASON_ATTRIBUTE))
                .matches("received \\d+ times .*more than maxReceives 2");
    }

    @Test // ...and a lease shorter than a long poll's wait has not run out when the message arrives
    void aShortLease_afterALongPoll_isNotStaleOnArrival() {
        Source longPoll = polling(request -> {
            sleep(Duration.ofMillis(300)); // a long poll waiting for the message, which then arrives at once
            return fifo.poll(request);
        });
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        var l = start(Listener.builder(longPoll, fifo, new LineDecoder(), recording())
                .config(fast().lease(Duration.ofMillis(200)).build()).seed(7));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1");
        assertThat(l.stats().staleDropped()).as("dropped as stale on arrival, for ever").isZero();
    }

    @Test // a source that breaks its contract loses nothing: what came with the null comes back
    void aNullAmongAPollsDeliveries_failsThatPoll_andTheOthersComeBackAndAreHandled() {
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        var once = new java.util.concurrent.atomic.AtomicBoolean();
        Source broken = polling(request -> {
            var got = fifo.poll(request);
            if (!got.isEmpty() && once.compareAndSet(false, true)) {
                var withNull = new ArrayList<>(got);
                withNull.add(null);
                return withNull;
            }
            return got;
        });
        var l = start(Listener.builder(broken, fifo, new LineDecoder(), recording())
                .config(fast().lease(Duration.ofMillis(300)).build()).seed(7));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1");
    }

    @Test // a review: a fenced completion is recorded anew (claim, complete); a store failure there was swallowed and the
          // delivery acked unrecorded — its ledger said to work, and a later copy ran the effect again
    void aFencedCompletionWhoseRecordingAnewFails_isHeldAndTriedAgain_notAckedUnrecorded() {
        var queue = InMemoryQueue.standard("fenced");
        var inner = InMemoryLedger.create();
        var fencedOnce = new AtomicBoolean(true);
        var claimsRefused = new AtomicInteger();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) {
            @Override
            public dev.ferry.domain.idempotency.Claim claim(String key, Duration lease) {
                if (!fencedOnce.get() && claimsRefused.get() < 3) { // the disk full for a moment: the claim anew fails
                    claimsRefused.incrementAndGet();
                    throw new dev.ferry.domain.model.FerryException("No space left on device (injected)", true);
                }
                return inner.claim(key, lease);
            }

            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (fencedOnce.getAndSet(false)) {
                    return false; // its claim ran out under the handler (a file reopened after a failed write lost it)
                }
                return inner.complete(key, token, ttl);
            }
        };
        var l = start(Listener.builder(queue, queue, new LineDecoder(), recording()).ledger(ledger)
                .config(ListenerTest.fast().lease(Duration.ofSeconds(30)).build()));
        queue.send("e1");
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        assertThat(claimsRefused).as("the recording anew failed").hasValue(1);
        assertThat(inner.peek(dev.ferry.domain.idempotency.LedgerKeys.event(queue.name(), "e1")))
                .as("recorded before the message was deleted").get()
                .isInstanceOf(dev.ferry.domain.idempotency.Claim.Completed.class);
        assertThat(effects).containsExactly("e1");
    }

    @Test // a review of the fix above: the claim taken anew, its completion failing and its release too, was left held;
          // the next try's claim found it in progress, took it for a live holder's, and the delivery was acked unrecorded
    void aFencedCompletionWhoseClaimTakenAnewCannotBeCompleted_isCompletedByTheNextTry() {
        var queue = InMemoryQueue.standard("fenced-anew");
        var inner = InMemoryLedger.create();
        var fencedOnce = new AtomicBoolean(true);
        var failed = new AtomicInteger();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) {
            @Override
            public boolean complete(String key, long token, Duration ttl) {
                if (fencedOnce.getAndSet(false)) {
                    inner.release(key, token); // its claim ran out under the handler: the key free, the completion refused
                    return false;
                }
                if (token > 1 && failed.getAndIncrement() == 0) { // the claim taken anew: the table throttled a moment
                    throw new dev.ferry.domain.model.FerryException("ProvisionedThroughputExceeded (injected)", true);
                }
                return inner.complete(key, token, ttl);
            }

            @Override
            public boolean release(String key, long token) {
                throw new dev.ferry.domain.model.FerryException("ProvisionedThroughputExceeded (injected)", true);
            }
        };
        var l = start(Listener.builder(queue, queue, new LineDecoder(), recording()).ledger(ledger)
                .config(ListenerTest.fast().lease(Duration.ofSeconds(30)).build()));
        queue.send("e1");
        assertThat(Await.until(LIMIT, () -> queue.size() == 0 && l.stats().inFlight() == 0)).as(l.stats().line()).isTrue();
        assertThat(failed.get()).as("the completion of the claim taken anew failed once").isGreaterThanOrEqualTo(1);
        assertThat(inner.peek(dev.ferry.domain.idempotency.LedgerKeys.event(queue.name(), "e1")))
                .as("recorded before the message was deleted").get()
                .isInstanceOf(dev.ferry.domain.idempotency.Claim.Completed.class);
        assertThat(effects).containsExactly("e1");
    }

    @Test // a message the ledger has done is a duplicate, whatever its receive count: never dead-lettered for it
    void aCopyOfADoneMessage_pastTheReceiveLimit_isDroppedAsADuplicate_notDeadLettered() {
        var inner = InMemoryLedger.create();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) { // on disk, as the app's (one held in memory
            @Override                                                      // does not decode past the limit)
            public java.util.Optional<dev.ferry.domain.idempotency.Claim> peek(String k) {
                return inner.peek(k);
            }

            @Override
            public boolean persist() {
                return true;
            }
        };
        var key = dev.ferry.domain.idempotency.LedgerKeys.event(fifo.name(), "A1");
        var claim = (dev.ferry.domain.idempotency.Claim.Acquired) ledger.claim(key, Duration.ofMinutes(1));
        ledger.complete(key, claim.token(), Duration.ofHours(1)); // handled, its ack lost a moment past its lease
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        Source receivedOften = polling(request -> fifo.poll(request).stream()
                .map(d -> new Delivery(d.id(), d.body(), d.attributes(), d.receiveCount() + 10, d.sentAt(), d.groupKey(),
                        d.deduplicationId(), d.source(), d.receipt()))
                .toList());
        var l = start(Listener.builder(receivedOften, fifo, new LineDecoder(), recording())
                .config(fast().build()).ledger(ledger).seed(7));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.size()).as(l.stats().line()).isZero();
        assertThat(l.stats().duplicatesDropped()).isEqualTo(1);
        assertThat(effects).isEmpty();
    }

    @Test // the ledger unable to say whether a copy past the receive limit is done: it waits, never dead-letters blind
    void aCopyOfADoneMessage_pastTheReceiveLimit_whileTheLedgerCannotAnswer_waitsAndIsDroppedAsADuplicate() {
        var inner = InMemoryLedger.create();
        var key = dev.ferry.domain.idempotency.LedgerKeys.event(fifo.name(), "A1");
        var claim = (dev.ferry.domain.idempotency.Claim.Acquired) inner.claim(key, Duration.ofMinutes(1));
        inner.complete(key, claim.token(), Duration.ofHours(1));
        var peeksRefused = new AtomicInteger();
        var ledger = new dev.ferry.domain.testing.ForwardingLedger(inner) {
            @Override
            public java.util.Optional<dev.ferry.domain.idempotency.Claim> peek(String k) {
                if (peeksRefused.incrementAndGet() <= 3) {
                    throw new IllegalStateException("ProvisionedThroughputExceeded (a throttled table)");
                }
                return inner.peek(k);
            }

            @Override
            public boolean persist() {
                return true; // a table's: each call written before it answers
            }
        };
        fifo.send(InMemoryQueue.Message.of("A1", "A"));
        Source receivedOften = polling(request -> fifo.poll(request).stream()
                .map(d -> new Delivery(d.id(), d.body(), d.attributes(), d.receiveCount() + 10, d.sentAt(), d.groupKey(),
                        d.deduplicationId(), d.source(), d.receipt()))
                .toList());
        var l = start(Listener.builder(receivedOften, fifo, new LineDecoder(), recording())
                .config(fast().lease(Duration.ofSeconds(30)).build()).ledger(ledger).seed(7));
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(dlq.size()).as("handled already: not dead-lettered because the ledger was busy").isZero();
        assertThat(l.stats().duplicatesDropped()).isEqualTo(1);
        assertThat(peeksRefused.get()).isGreaterThan(3);
        assertThat(effects).isEmpty();
    }

    @Test // #15 (5)
    void skipDelete_aDuplicateOrAnEventlessDelivery_isAcked_notLeftHanging() {
        var queue = InMemoryQueue.standard("async");
        var ledger = InMemoryLedger.create();
        var kept = new AtomicReference<Delivery>();
        Handler handler = (event, delivery) -> {
            kept.set(delivery);
            return Outcome.done();
        };
        Decoder decoder = delivery -> new String(delivery.body(), StandardCharsets.UTF_8).isEmpty()
                ? dev.ferry.domain.decode.Decoded.of(List.of()) : new LineDecoder().decode(delivery);
        var l = start(Listener.builder(queue, queue, decoder, handler).ledger(ledger)
                .config(fast().skipDelete(true).lease(Duration.ofSeconds(30)).build()));
        queue.send("e1");
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();
        l.settle(kept.get(), Disposition.ACK);
        queue.send("e1"); // a duplicate: the handler never sees it, so nobody else would settle it
        queue.send("");   // no events at all
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(l.stats().acked()).isEqualTo(3);
        assertThat(l.stats().duplicatesDropped()).isEqualTo(1);
    }

    @Test // #15 (5)
    void skipDelete_completesTheLedgerOnlyWhenTheHandlerSettles() {
        var queue = InMemoryQueue.standard("async");
        var ledger = InMemoryLedger.create();
        var kept = new AtomicReference<Delivery>();
        Handler handler = (event, delivery) -> {
            kept.set(delivery);
            return Outcome.done();
        };
        var l = start(Listener.builder(queue, queue, new LineDecoder(), handler).ledger(ledger)
                .config(fast().skipDelete(true).lease(Duration.ofSeconds(30)).build()));
        queue.send("job-1");
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 1)).isTrue();
        var key = LedgerKeys.event("async", "job-1");
        assertThat(ledger.claim(key, Duration.ofSeconds(1))).as("still in progress: the async work is not confirmed")
                .isInstanceOf(Claim.InProgress.class);
        l.settle(kept.get(), Disposition.redeliver(Duration.ZERO)); // the async work failed
        assertThat(Await.until(LIMIT, () -> l.stats().handedOver() == 2)).as("its redelivery runs again").isTrue();
        l.settle(kept.get(), Disposition.ACK);
        assertThat(Await.until(LIMIT, () -> queue.size() == 0)).isTrue();
        assertThat(ledger.claim(key, Duration.ofSeconds(1))).isInstanceOf(Claim.Completed.class);
    }

    @Test // #15 (6)
    void twoSourcesWithTheSameIds_areTwoEvents_andAHugeIdReachesTheLedgerHashed() {
        var orders = InMemoryQueue.standard("orders");
        var refunds = InMemoryQueue.standard("refunds");
        var ledger = new FlakyLedger(InMemoryLedger.create());
        var huge = "x".repeat(300_000);
        orders.send("1001");
        refunds.send("1001");
        orders.send(huge);
        start(on(orders, orders, recording(), fast().build()).ledger(ledger));
        start(on(refunds, refunds, recording(), fast().build()).ledger(ledger));
        assertThat(Await.until(LIMIT, () -> orders.size() == 0 && refunds.size() == 0)).isTrue();
        assertThat(effects).filteredOn(k -> k.equals("1001")).hasSize(2);
        assertThat(ledger.keys).allSatisfy(k -> assertThat(k.getBytes(StandardCharsets.UTF_8).length)
                .isLessThanOrEqualTo(LedgerKeys.MAX_LENGTH));
        assertThat(effects).contains(huge);
    }

    @Test // #15 (6)
    void sourcesThatCarryTheSameEvents_shareAScope_andDropEachOthersDuplicates() {
        var a = InMemoryQueue.standard("mturk-a");
        var b = InMemoryQueue.standard("mturk-b");
        var ledger = InMemoryLedger.create();
        a.send("doc-1#0");
        start(on(a, a, recording(), fast().build()).ledger(ledger).ledgerScope(LedgerKeys.SHARED));
        assertThat(Await.until(LIMIT, () -> a.size() == 0)).isTrue();
        b.send("doc-1#0");
        var lb = start(on(b, b, recording(), fast().build()).ledger(ledger).ledgerScope(LedgerKeys.SHARED));
        assertThat(Await.until(LIMIT, () -> b.size() == 0)).isTrue();
        assertThat(effects).containsExactly("doc-1#0");
        assertThat(lb.stats().duplicatesDropped()).isEqualTo(1);
    }

    @Test // a review: a delivery the stop had given back still parked its group when its last try failed after the
          // deadline — at a head the next instance then ran and deleted: the group's later messages went to the DLQ
          // behind a head in no DLQ, until a release
    void aDeliveryTheStopGaveBack_failingForGoodAfterIt_doesNotParkItsGroup() throws Exception {
        var ledger = InMemoryLedger.create(); // the instances' shared ledger, which keeps the parked groups
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var running = new CountDownLatch(1);
        var fail = new CountDownLatch(1);
        Handler failingLate = (event, delivery) -> {
            running.countDown();
            deafWait(fail); // past the stop's deadline
            throw new IllegalStateException(event.key() + " fails (injected)");
        };
        // one attempt: its failure is a dead letter; a long lease: it is not stale by its lease when it fails
        var config = ListenerTest.fast().retry(RetryPolicy.of(1, Backoff.fixed(Duration.ofMillis(1))))
                .lease(Duration.ofSeconds(30)).shutdownDeadline(Duration.ofMillis(100)).build();
        fifo.send(InMemoryQueue.Message.of("a", "G"));
        fifo.send(InMemoryQueue.Message.of("b", "G"));
        var first = start(on(fifo, fifo, failingLate, config).ledger(ledger).onPoison(OnPoison.PARK));
        try {
            assertThat(running.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).as("a's handler runs").isTrue();
            var stopping = Thread.ofVirtual().start(first::stop);
            assertThat(Await.until(LIMIT, () -> fifo.messages().stream()
                    .anyMatch(m -> m.body().equals("a") && !m.inFlight())))
                    .as("a given back by the stop at its deadline, its handler still running").isTrue();
            start(on(fifo, fifo, recording(), config).ledger(ledger).onPoison(OnPoison.PARK));
            assertThat(Await.until(LIMIT, () -> fifo.messages().stream()
                    .anyMatch(m -> m.body().equals("a") && m.inFlight())))
                    .as("a taken by the second instance, which waits on the first one's claim").isTrue();
            fail.countDown(); // a's last try fails on the first instance
            assertThat(Await.until(LIMIT, () -> effects.contains("b") || !dlq.messages().isEmpty()))
                    .as("b handled or dead-lettered; effects %s", effects).isTrue();
            assertThat(stopping.join(LIMIT)).as("the first instance's stop returned").isTrue();
            assertThat(dlq.messages()).extracting(InMemoryQueue.Stored::body).as("nothing dead-lettered").isEmpty();
            assertThat(parker.parked(fifo.name(), "G")).as("the group not parked").isEmpty();
            assertThat(effects).containsExactly("a", "b");
        } finally {
            fail.countDown();
        }
    }

    /** Waits for {@code latch} as a handler deaf to interrupts would, at most {@link #LIMIT}. */
    private static void deafWait(CountDownLatch latch) {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (latch.getCount() > 0 && System.nanoTime() - deadline < 0) {
            try {
                latch.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException ignored) {
                // goes on: it runs past the stop's deadline all the same
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unused")
    private static Map<String, String> none() {
        return Map.of();
    }
}
