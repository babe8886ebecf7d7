package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A dead letter decided by one instance whose copy the transport refused (a dead-letter queue throttled, failing for
 * seconds) is owed by every instance sharing its ledger: the message's copy that comes back to another instance, or to
 * the same one after a restart, goes to the dead-letter queue without running — its group's later messages went on once
 * it was given up on, and run now it would land after them.
 */
class OwedDeadLetterElsewhereTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final InMemoryQueue dlq = InMemoryQueue.builder("trades-dlq.fifo").build();
    private final InMemoryQueue fifo = InMemoryQueue.builder("trades.fifo").contentBasedDeduplication(true)
            .deadLetterQueue(dlq).build();
    private final InMemoryLedger ledger = InMemoryLedger.create();
    private final List<Listener> listeners = new ArrayList<>();
    private final List<String> effects = new CopyOnWriteArrayList<>();
    /** A1's message id, as its handler saw it. */
    private final java.util.concurrent.atomic.AtomicReference<String> a1 = new java.util.concurrent.atomic.AtomicReference<>();

    @AfterEach
    void stopAll() {
        listeners.forEach(Listener::stop);
    }

    private Listener start(dev.ferry.domain.transport.Acknowledger acks, Handler handler) {
        return start(acks, handler, Duration.ofMillis(800));
    }

    private Listener start(dev.ferry.domain.transport.Acknowledger acks, Handler handler, Duration lease) {
        var l = Listener.builder(fifo, acks, new LineDecoder(), handler).ledger(ledger)
                .config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(10)).lease(lease).build())
                .seed(7).build();
        listeners.add(l);
        return l.start();
    }

    @Test // the owed mark was this process's alone: the next instance ran the message again, after its group's later one
    void aDeadLetterOneInstanceOwes_goesThereFromTheNext_withoutRunningAfterItsGroupsLaterMessages() {
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        fifo.send(InMemoryQueue.Message.of("B2", "G"));
        var refusals = new AtomicInteger(1);
        var first = start(ListenerFaultsTest.refusingDeadLetters(fifo, refusals, "SendMessageBatch throttled", true),
                (event, delivery) -> {
                    if (event.key().equals("A1")) {
                        a1.set(delivery.id());
                        return Outcome.reject("poison");
                    }
                    effects.add(event.key());
                    return Outcome.done();
                }, Duration.ofSeconds(4)); // long enough that A1 does not come back to it before its stop
        assertThat(Await.until(LIMIT, () -> refusals.get() <= 0 && effects.contains("B2"))).as(first.stats().line()).isTrue();
        first.stop(); // before A1's lease runs out: its copy comes back to the next instance
        assertThat(dlq.size()).as("A1 did not come back to the first instance").isZero();
        assertThat(ledger.journal(EventJournal.messageKey(fifo.name(), a1.get())).orElseThrow().deadLetterReason())
                .startsWith(JournalNotes.OWED);
        // a review: found by its message id, it was shown "dead-lettered" (the event's note), while still in the queue
        assertThat(dev.ferry.domain.idempotency.EventLookup.message(ledger, fifo.name(), a1.get())).hasValueSatisfying(r -> {
            assertThat(r.status()).startsWith("to be dead-lettered");
            assertThat(r.journal().deadLetterReason()).startsWith(JournalNotes.OWED);
        });
        // and found by its key, it was shown "dead-lettered" still: the event's journal names the message
        assertThat(dev.ferry.domain.idempotency.EventLookup.event(ledger, fifo.name(), "A1", fifo.name()))
                .hasValueSatisfying(r -> assertThat(r.status()).startsWith("to be dead-lettered"));

        var next = start(fifo, (event, delivery) -> {
            effects.add(event.key());
            return Outcome.done();
        });

        assertThat(Await.until(LIMIT, () -> dlq.size() == 1 && fifo.size() == 0)).as(next.stats().line()).isTrue();
        assertThat(effects).as("A1 was given up on; it is not handled after B2").containsExactly("B2");
        next.stop(); // its journal written
        var journal = ledger.journal(EventJournal.messageKey(fifo.name(), a1.get())).orElseThrow();
        assertThat(journal.deadLetterReason()).as("no longer owed once copied").isEqualTo("poison");
        assertThat(dev.ferry.domain.idempotency.EventLookup.message(ledger, fifo.name(), a1.get()))
                .hasValueSatisfying(r -> assertThat(r.status()).startsWith("dead-lettered ("));
        assertThat(dev.ferry.domain.idempotency.EventLookup.event(ledger, fifo.name(), "A1", fifo.name()))
                .hasValueSatisfying(r -> assertThat(r.status()).startsWith("dead-lettered ("));
    }

    @Test // a review: the owed mark's write failed (the ledger down for seconds), and it was dropped for good; the copy
          // that came back to the next instance after the journal was back found no mark, and ran after B2
    void anOwedMarkWhoseWriteFailed_isWrittenOnceTheJournalIsBack_andTheCopyBackElsewhereIsNotRun() {
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        fifo.send(InMemoryQueue.Message.of("B2", "G"));
        var down = new java.util.concurrent.atomic.AtomicBoolean(true);
        var refusedMarks = new AtomicInteger(); // owed marks of the refused copy whose write failed
        var flaky = (dev.ferry.domain.idempotency.IdempotencyLedger) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), ledger.getClass().getInterfaces(), (proxy, method, args) -> {
                    if (method.getName().equals("note") && down.get()) {
                        if (args[1] instanceof EventJournal.Note.DeadLettered d && d.eventKey() == null
                                && dev.ferry.domain.idempotency.EventLookup.owed(d.reason())) {
                            refusedMarks.incrementAndGet();
                        }
                        throw new dev.ferry.domain.model.FerryException("the journal's table is throttled", true);
                    }
                    try {
                        return method.invoke(ledger, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        var refusals = new AtomicInteger(1);
        var received = new java.util.concurrent.atomic.AtomicReference<dev.ferry.domain.model.Delivery>();
        var first = Listener.builder(fifo, ListenerFaultsTest.refusingDeadLetters(fifo, refusals, "SendMessageBatch "
                + "throttled", true), new LineDecoder(), (event, delivery) -> {
                    if (event.key().equals("A1")) {
                        received.set(delivery);
                        a1.set(delivery.id());
                        return Outcome.reject("poison");
                    }
                    effects.add(event.key());
                    return Outcome.done();
                }).ledger(flaky).config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(10))
                .lease(Duration.ofSeconds(60)).build()).seed(7).build(); // A1 comes back when the test lets it
        listeners.add(first);
        first.start();
        // the copy refused, and the mark it left tried (after the decision's): every owed mark of A1 failed
        assertThat(Await.until(LIMIT, () -> refusals.get() <= 0 && effects.contains("B2") && refusedMarks.get() >= 1))
                .as(first.stats().line()).isTrue();
        down.set(false);

        assertThat(Await.until(LIMIT, () -> ledger.journal(EventJournal.messageKey(fifo.name(), a1.get()))
                .map(j -> dev.ferry.domain.idempotency.EventLookup.owed(j.deadLetterReason())).orElse(false)))
                .as("the owed mark whose write failed, written once the journal is back").isTrue();
        first.stop();
        assertThat(dlq.size()).as("A1 did not come back to the first instance").isZero();
        fifo.extendLeases(List.of(received.get()), Duration.ZERO); // its lease runs out: the copy is the next one's

        var next = start(fifo, (event, delivery) -> {
            effects.add(event.key() + "#" + delivery.receiveCount());
            return Outcome.done();
        });

        assertThat(Await.until(LIMIT, () -> dlq.size() == 1 && fifo.size() == 0)).as(next.stats().line()).isTrue();
        assertThat(effects).as("A1 was given up on; it is not handled after B2").containsExactly("B2");
    }

    @Test // a review: the owed mark names the message's first event still to run; looked up by key, the others of the
          // message (its second and third) said "dead-lettered" while it was still in the queue
    void everyEventOfAMessageWhoseDeadLetterIsOwed_isShownOwed_notOnlyTheFirst() {
        fifo.send(InMemoryQueue.Message.of("A1\nA2\nA3", "G"));
        var refusals = new AtomicInteger(1);
        var first = start(ListenerFaultsTest.refusingDeadLetters(fifo, refusals, "SendMessageBatch throttled", true),
                (event, delivery) -> {
                    a1.set(delivery.id());
                    return event.key().equals("A1") ? Outcome.reject("poison") : Outcome.done();
                }, Duration.ofSeconds(4));
        assertThat(Await.until(LIMIT, () -> refusals.get() <= 0)).as(first.stats().line()).isTrue();
        assertThat(Await.until(LIMIT, () -> ledger.journal(EventJournal.messageKey(fifo.name(), a1.get()))
                .map(j -> String.valueOf(j.deadLetterReason()).startsWith(JournalNotes.OWED)).orElse(false))).isTrue();

        for (String key : List.of("A1", "A2", "A3")) {
            assertThat(dev.ferry.domain.idempotency.EventLookup.event(ledger, fifo.name(), key, fifo.name()))
                    .hasValueSatisfying(r -> assertThat(r.status()).as(key).startsWith("to be dead-lettered"));
        }
    }

    @Test // a review: the decision was noted plainly under the message's id; a copy back after its dead-letter copy was cut
          // short (a kill -9, a send that hung, a stop that gave it up) was not owed, and ran after its group's later one
    void aDeadLetterWhoseCopyNeverLanded_isOwedFromTheDecision_notRunAfterItsGroupsLaterMessage() {
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        fifo.send(InMemoryQueue.Message.of("B2", "G"));
        var cutShort = new java.util.concurrent.CountDownLatch(1);
        var hung = new java.util.concurrent.atomic.AtomicBoolean();
        var acks = new dev.ferry.domain.transport.Acknowledger() {
            @Override
            public List<dev.ferry.domain.transport.Settlement.Failure> settle(List<dev.ferry.domain.transport.Settlement> s) {
                if (s.stream().anyMatch(x -> x.disposition() instanceof dev.ferry.domain.transport.Disposition.DeadLetter)
                        && hung.compareAndSet(false, true)) { // the copy's call never answers: the process is as good as killed
                    Await.until(Duration.ofSeconds(30), () -> cutShort.getCount() == 0);
                }
                return fifo.settle(s);
            }

            @Override
            public List<dev.ferry.domain.model.Delivery> extendLeases(List<dev.ferry.domain.model.Delivery> d, Duration lease) {
                return fifo.extendLeases(d, lease);
            }
        };
        var l = start(acks, (event, delivery) -> {
            if (event.key().equals("A1") && a1.compareAndSet(null, delivery.id())) {
                return Outcome.reject("poison");
            }
            effects.add(event.key());
            return Outcome.done();
        });
        try {
            // past the hung call's limit (5 s) its messages' leases are let go: A1 comes back, its copy never taken
            assertThat(Await.until(LIMIT, () -> l.stats().received() >= 3)).as(l.stats().line()).isTrue();
            assertThat(ledger.journal(EventJournal.messageKey(fifo.name(), a1.get())).orElseThrow().deadLetterReason())
                    .as("owed from the decision, until its copy is taken").startsWith(JournalNotes.OWED);
            assertThat(Await.until(Duration.ofSeconds(2), () -> effects.contains("A1")))
                    .as("A1 was given up on; it is not handled after B2: " + effects).isFalse();
        } finally {
            cutShort.countDown();
        }
        assertThat(Await.until(LIMIT, () -> fifo.size() == 0 && fifo.inFlightCount() == 0 && dlq.size() >= 1))
                .as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("B2");
    }

    @Test // Kafka's ids come again in a topic made anew, and its count of receives starts again wherever a record is read
          // again: a note owed for another record of the same id sent a new one to the dead-letter topic, unrun
    void aSourceThatKeepsItsMessagesInHand_doesNotReadOwedNotes() {
        var id = fifo.send(InMemoryQueue.Message.of("A1", "G")).messageId();
        var first = fifo.poll(new dev.ferry.domain.transport.PollRequest(10, Duration.ZERO, Duration.ofMillis(50)));
        assertThat(first).hasSize(1); // not settled: its next receive is its second
        oweInJournal(first.getFirst(), "an earlier record's");
        var inHand = new dev.ferry.domain.transport.Source() {
            @Override
            public String name() {
                return fifo.name();
            }

            @Override
            public List<dev.ferry.domain.model.Delivery> poll(dev.ferry.domain.transport.PollRequest request) {
                return fifo.poll(request);
            }

            @Override
            public boolean redeliversAfterLease() {
                return false;
            }
        };
        var l = Listener.builder(inHand, fifo, new LineDecoder(), (event, delivery) -> {
            effects.add(event.key() + "#" + delivery.receiveCount());
            return Outcome.done();
        }).ledger(ledger).config(ListenerTest.fast().build()).seed(7).build();
        listeners.add(l);
        l.start();

        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1#2");
        assertThat(dlq.size()).isZero();
    }

    @Test // a plugin's source may give an id again: a note owed for another message under it must not send this one there
    void anOwedNoteForAnotherMessageUnderTheSameId_isNotThisOnes() {
        var id = fifo.send(InMemoryQueue.Message.of("A1", "G")).messageId();
        var first = fifo.poll(new dev.ferry.domain.transport.PollRequest(10, Duration.ZERO, Duration.ofMillis(50)));
        assertThat(first).hasSize(1);
        var other = first.getFirst();
        oweInJournal(new dev.ferry.domain.model.Delivery(id, "Z9".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                other.attributes(), 1, other.sentAt(), other.groupKey(), null, other.source(), null), "another message's");
        var l = start(fifo, (event, delivery) -> {
            effects.add(event.key() + "#" + delivery.receiveCount());
            return Outcome.done();
        });

        assertThat(Await.until(LIMIT, () -> fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(effects).containsExactly("A1#2");
        assertThat(dlq.size()).isZero();
    }

    @Test // a review: a journal read that failed once was taken for "none owed", and the given-up message ran again
    void aJournalThatFailsOnce_holdsTheMessage_untilItSaysItsDeadLetterIsOwed() {
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        var first = fifo.poll(new dev.ferry.domain.transport.PollRequest(10, Duration.ZERO, Duration.ofMillis(50)));
        assertThat(first).hasSize(1); // not settled: its next receive is its second
        oweInJournal(first.getFirst(), "poison");
        var failOnce = new AtomicInteger(1);
        var flaky = (dev.ferry.domain.idempotency.IdempotencyLedger) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), ledger.getClass().getInterfaces(), (proxy, method, args) -> {
                    if (method.getName().equals("journal") && failOnce.getAndDecrement() > 0) {
                        throw new dev.ferry.domain.model.FerryException("the journal's store is down for a moment", true);
                    }
                    try {
                        return method.invoke(ledger, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        var l = Listener.builder(fifo, fifo, new LineDecoder(), (event, delivery) -> {
            effects.add(event.key());
            return Outcome.done();
        }).ledger(flaky).config(ListenerTest.fast().deadLetter(DeadLetterPolicy.maxReceives(10)).build()).seed(7).build();
        listeners.add(l);
        l.start();

        assertThat(Await.until(LIMIT, () -> dlq.size() == 1 && fifo.size() == 0)).as(l.stats().line()).isTrue();
        assertThat(failOnce.get()).as("the failure was met").isNegative();
        assertThat(effects).as("given up on elsewhere: not run again").isEmpty();
    }

    /** Notes in the journal that {@code delivery}'s dead letter is owed, as a settler refused its copy would. */
    private void oweInJournal(dev.ferry.domain.model.Delivery delivery, String reason) {
        ledger.note(EventJournal.messageKey(fifo.name(), delivery.id()), new EventJournal.Note.DeadLettered(null,
                JournalNotes.OWED + JournalNotes.fingerprint(delivery) + reason, delivery.id(), java.time.Instant.now()));
    }

    @Test // one whose dead letter was copied is not noted owed
    void aMessageDeadLetteredAndCopied_isNotNotedOwed() {
        fifo.send(InMemoryQueue.Message.of("A1", "G"));
        var calls = new AtomicInteger();
        var l = start(fifo, (event, delivery) -> {
            a1.set(delivery.id());
            calls.incrementAndGet();
            return Outcome.reject("poison");
        });
        assertThat(Await.until(LIMIT, () -> dlq.size() == 1)).as(l.stats().line()).isTrue();
        l.stop(); // its journal written
        var journal = ledger.journal(EventJournal.messageKey(fifo.name(), a1.get())).orElseThrow();
        assertThat(journal.deadLetterReason()).doesNotStartWith(JournalNotes.OWED);
        assertThat(calls).hasValue(1);
    }
}
