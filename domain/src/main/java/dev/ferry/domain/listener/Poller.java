package dev.ferry.domain.listener;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.ordering.OrderingGroups;
import dev.ferry.domain.retry.FailureDecision;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The start of a delivery's path: waits for room in the in-flight window and for the intake to be open, polls the
 * source, decodes each delivery and queues it behind its group. One instance per poller thread's loop; all of them
 * share the rest. Whatever a source or decoder throws, the loop goes on.
 */
final class Poller {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    /** What the pollers share with the listener. */
    record Shared(String name, Source source, Decoder decoder, ListenerConfig config, Clock clock, Hands hands,
                  Intake intake, Counters counters, ListenerObserver observer, OrderingGroups<InFlight> groups,
                  Settler settler, Predicate<ListenerStats> beforePoll, Consumer<String> stopAsync,
                  BooleanSupplier running, Supplier<ListenerStats> stats, JournalNotes notes, boolean malformedInTurn) {
    }

    private final Shared s;
    /** Where the pollers' lines are written: a log that blocks must not hold intake. */
    private final AsideLog aside = new AsideLog("ferry-poller-log");

    private volatile long lastReceiveNanos = System.nanoTime();
    private final AtomicInteger answering = new AtomicInteger(); // polls answered, being told: work, on any poller
    private volatile boolean warnedOverMax;

    private final EmptyPolls emptyPolls;

    Poller(Shared shared) {
        this.s = shared;
        this.emptyPolls = new EmptyPolls(shared.config().pollWait());
    }

    /** What a poller thread is inside now (the source's poll, the decoder, the before-poll hook), since (nanoTime). */
    private static final class Busy {
        final String doing;
        volatile long since; // stamped again for each message decoded: a slow batch that progresses is no wedge
        Busy(String doing, long since) { this.doing = doing; this.since = since; }
    }

    /** The poller threads inside a call of another's making now: a poll, the hook, a poll's decoding and telling. */
    private final java.util.Map<Thread, Busy> polling = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * What has held a poller longest, and how long, past three poll waits and five seconds; null when nothing has. A
     * source or decoder that never returns takes nothing in and fails nothing: only this tells it.
     */
    String stuckPoll() {
        long wait = dev.ferry.domain.model.Durations.nanos(s.config().pollWait());
        long grace = TimeUnit.SECONDS.toNanos(5);
        long limit = wait > (Long.MAX_VALUE - grace) / 3 ? Long.MAX_VALUE : wait * 3 + grace;
        long now = System.nanoTime();
        String doing = null;
        long longest = 0;
        for (var busy : polling.values()) {
            long since = busy.since;
            if (now - since > longest) {
                longest = now - since;
                doing = busy.doing;
            }
        }
        return doing == null || longest <= limit ? null
                : doing + " has not returned for " + dev.ferry.domain.model.Durations.text(java.time.Duration.ofNanos(longest));
    }

    /** The listener starts: its idle time counts from now. */
    void started() {
        lastReceiveNanos = System.nanoTime();
    }

    void run() {
        while (s.running().getAsBoolean()) {
            if (Thread.interrupted() && !s.running().getAsBoolean()) {
                return; // the stop's interrupt; while running, one a decoder, observer or hook left set is dropped here:
                        // kept, it made every poll of an interruptible source return empty at once, for ever
            }
            try {
                if (!watched("the before-poll hook", busy -> s.beforePoll().test(s.stats().get()))) {
                    s.stopAsync().accept("the before-poll hook asked to stop");
                    return;
                }
                s.intake().awaitOpen(s.running());
                long began = System.nanoTime();
                boolean empty = pollOnce() && s.running().getAsBoolean();
                sleep(emptyPolls.pauseAfter(empty, System.nanoTime() - began)); // a source that answers at once: no spin
            } catch (InterruptedException e) {
                if (!s.running().getAsBoolean()) {
                    return;
                }
            } catch (Throwable e) { // a poller never dies of what a source, decoder or hook throws
                s.intake().pollFailed(JournalNotes.describe(e));
                var loggable = dev.ferry.domain.model.Thrown.loggable(e); // its message may throw: a stand-in then
                aside.write(() -> LOG.log(Level.ERROR, "poller of '" + s.name() + "' hit an unexpected error; it goes on",
                        loggable));
                sleep(s.intake().pollRetryNanos());
            }
        }
    }

    /** One poll; true when the source answered with nothing. */
    private boolean pollOnce() throws InterruptedException {
        // acks slow: taken in, each waited unextended behind the settler, came back, ran again. Held here (back through the
        // loop, the before-poll hook was asked every 10 ms, no poll made); not idle meanwhile
        while (s.settler().behind(Math.max(s.config().maxInFlight(), Settler.BATCH)) && s.running().getAsBoolean()) {
            lastReceiveNanos = System.nanoTime();
            TimeUnit.MILLISECONDS.sleep(10);
        }
        var capacity = s.hands().capacity();
        // made before the window's places are taken: made after the answer, outside both guards, an Error there (no
        // memory) stranded the poll — its places never given back, its deliveries never settled (a Kafka key blocked)
        var taking = new Taking();
        int permits = capacity.acquire(s.config().batchSize(), TimeUnit.MILLISECONDS.toNanos(100));
        if (permits == 0) {
            lastReceiveNanos = System.nanoTime(); // a full window is work in hand, not idle (see checkIdle)
            return false;
        }
        taking.held = permits;
        Instant polled;
        long polledNanos = System.nanoTime();
        try {
            polled = s.clock().instant(); // within: an injected clock that throws gives the window's permits back
            s.counters().polls.increment();
            polling.put(Thread.currentThread(), new Busy("a poll of the source", polledNanos));
            try {
                taking.batch = s.source().poll(new PollRequest(permits, s.config().pollWait(), s.config().lease()));
            } finally {
                polling.remove(Thread.currentThread());
            }
            if (taking.batch == null) {
                throw new NullPointerException("source '" + s.name() + "' returned null from poll");
            }
        } catch (Throwable e) {
            capacity.release(permits);
            if (!s.running().getAsBoolean()) {
                return false;
            }
            String failure = JournalNotes.describe(e); // a plugin source's exception may not even print
            s.intake().pollFailed(failure);
            boolean retryable = e instanceof FerryException f && f.retryable();
            // aside: a log that blocks held the poller here, unseen (its poll over, a wedge of its poll not counted)
            aside.write(() -> LOG.log(Level.WARNING, "poll of ''{0}'' failed ({1}): {2}", s.name(),
                    retryable ? "will retry" : "not retryable, retrying anyway", failure));
            sleep(s.intake().pollRetryNanos());
            return false;
        }
        try { // decoding (a schema registry without a timeout) and telling held intake here, unseen by the wedge check
            return watched("decoding a poll's messages (the decoder, or an observer told of them)",
                    busy -> take(taking, capacity, polled, polledNanos, busy));
        } catch (Throwable e) { // between the answer and the hand (a clock, no memory): given back, not stranded
            if (!taking.settledFor) {
                capacity.release(taking.held); // first: it cannot throw
                PollGiveBack.unhandled(s.settler(), taking.batch); // the source's own if its copy threw: read once more
            }
            throw e;
        } finally {
            answering.addAndGet(taking.answered ? -1 : 0); // in hand now, or given back
        }
    }

    /** A poll's answer being taken in hand: what is left of it, its permits held, whether it is accounted for. */
    private static final class Taking {
        List<Delivery> batch;
        int held;
        boolean settledFor;
        boolean answered; // counted in answering: work, though nothing is in hand yet (see checkIdle)

        Taking() {
            var fault = takingFault;
            if (fault != null) {
                fault.run();
            }
        }
    }

    /** A test's stand-in for an Error where a {@link Taking} is made (no memory); null outside tests. */
    static volatile Runnable takingFault;

    /** Takes a poll's answer in hand; true when it was empty. */
    private boolean take(Taking taking, Capacity capacity, Instant polled, long polledNanos, Busy busy) {
        // the source's list read once, into Ferry's own, in the guard: a plugin's list whose reads throw (a subList changed
        // under it), read again by a give-back part way in, left what the poll took in no lane, the rest never given back
        List<Delivery> batch = taking.batch.isEmpty() ? java.util.Collections.emptyList() : new ArrayList<>(taking.batch);
        taking.batch = batch; // every give-back reads this one from here on
        // counted from the answer: being told to a slow observer, it was no work, and another poller stopped it as idle
        taking.answered = !batch.isEmpty() && answering.incrementAndGet() > 0;
        int permits = taking.held;
        // every delivery handed over counts received, before any is given back (beyond the max, beside a null, on a throw)
        s.counters().received.add(batch.contains(null) ? batch.stream().filter(d -> d != null).count() : batch.size());
        long answeredNanos = System.nanoTime(); // timed before an observer is told: after, a slow one lapsed leases
        var answered = batch.isEmpty() ? null : s.clock().instant(); // unseen (the lease keeper looked past their end)
        lastReceiveNanos = batch.isEmpty() ? lastReceiveNanos : answeredNanos; // work came: no idle stop while told
        for (var delivery : batch) {
            if (delivery != null) {
                busy.since = System.nanoTime(); // told each: a slow observer of a large poll that progresses is no wedge
                s.observer().received(delivery);
            }
        }
        s.intake().pollWorked();
        if (batch.size() > permits) {
            // a source that ignores the poll's max: what it gave beyond is given back at once (left to its lease, each
            // would come back with a receive counted, and a source that does not hand out again would hold it)
            var beyond = batch.subList(permits, batch.size());
            int given = batch.size();
            batch = new ArrayList<>(batch.subList(0, permits));
            taking.batch = batch; // before the give-back: a throw after it must not give those beyond back twice
            PollGiveBack.unhandled(s.settler(), beyond); // each a pass: never run, its receive is not its own
            if (!warnedOverMax) {
                warnedOverMax = true;
                aside.write(() -> LOG.log(Level.WARNING, "source ''{0}'' returned {1} deliveries for a poll of at most {2}; "
                        + "those beyond are released (said once)", s.name(), given, permits));
            }
        }
        capacity.release(permits - batch.size());
        taking.held = batch.size();
        if (batch.isEmpty()) {
            checkIdle();
            return true;
        }
        s.counters().lastReceive = answered;
        var leaseUntil = answered.plus(s.config().lease());
        var excuseUntil = leaseStart(polled, answered).plus(s.config().lease());
        // as excuseUntil: from the poll, or from a second before the answer if the poll waited longer
        long excuseNanos = LeaseKeeper.nanosAfter(
                polledNanos + Math.max(0, answeredNanos - Durations.nanos(ANSWER_TRAVEL) - polledNanos), s.config().lease());
        if (batch.contains(null)) { // Ferry's own list: contains(null) throws on List.of, not on it
            // the others are given back at once: left to their lease, a source that does not hand out again (Kafka's
            // partitions, an HTTP client waiting) would hold them for ever
            taking.settledFor = true; // given back here, once
            capacity.release(batch.size());
            PollGiveBack.unhandled(s.settler(), batch);
            throw new NullPointerException("source '" + s.name() + "' returned a null delivery in a poll; the poll's "
                    + "other deliveries were released");
        }
        var accepted = new ArrayList<InFlight>(batch.size());
        var inHand = s.hands().open(batch.size());
        taking.settledFor = true; // from here each delivery is taken in hand or given back on its own
        var fault = PollGiveBack.slotFault; // a test's; read once a poll
        int slot = 0;
        try {
            for (; slot < batch.size(); slot++) {
                var delivery = batch.get(slot);
                InFlight item;
                try {
                    busy.since = System.nanoTime();
                    PollGiveBack.inject(fault, "accept", slot);
                    item = accept(delivery, leaseUntil, excuseUntil, excuseNanos, inHand, slot);
                } catch (Throwable e) { // given back to the transport, never stranded: a give-back that cannot throw
                    if (PollGiveBack.slotFailed(s, aside, inHand, batch, slot, delivery, e, accepted)) {
                        break; // the rest given back too, its group's later ones behind it
                    }
                    continue;
                }
                PollGiveBack.inject(fault, "accepted", slot);
                if (item != null) {
                    accepted.add(item);
                }
            }
        } catch (Throwable e) { // out of the loop part way (a stack overflow, no memory): what it took is handed on and
            PollGiveBack.stoppedAt(s, inHand, batch, slot, accepted); // the rest given back, not left in hand for good
            throw e;
        }
        PollGiveBack.handOn(s, accepted);
        return false;
    }

    /**
     * When the transport's lease of a batch began, at the earliest: it leases what it hands out while
     * the answer travels, so a lease counted from the answer ends later than the transport's, and an
     * ack made after the real one ended would be excused as made within it. Not before the poll was
     * sent; not earlier than {@link #ANSWER_TRAVEL} before the answer either, since a long poll's
     * message may have been handed out seconds after the poll was sent. Used only for that excuse:
     * whether a delivery's lease has run out (and a copy may be out) is counted from the answer, so a
     * short lease after a long poll is not taken for run out on arrival.
     */
    static Instant leaseStart(Instant polled, Instant answered) {
        var earliest = answered.minus(ANSWER_TRAVEL);
        return polled.isAfter(earliest) ? polled : earliest;
    }

    /** The longest a transport's answer is taken to travel (and wait for the poller) after its lease began. */
    static final Duration ANSWER_TRAVEL = Duration.ofSeconds(1);

    /** Stops the listener idle for its idle timeout; work in hand (running, held, kept by its handler) is not idle. */
    private void checkIdle() {
        var idle = s.config().idleTimeout();
        // read before the hands: after them, a poll told as they were read and in hand by then was seen by neither (idle)
        boolean beingTold = answering.get() > 0;
        betweenIdleReads.run();
        if (beingTold || !s.hands().isEmpty() || !s.hands().handedOver().isEmpty()) {
            // its clock moved only on a receive: a handler running past the timeout had the listener stopped under it,
            // its delivery released past the shutdown deadline and the handler interrupted — its effect may run again
            lastReceiveNanos = System.nanoTime();
        } else if (!idle.isZero() && System.nanoTime() - lastReceiveNanos >= Durations.nanos(idle)) {
            s.stopAsync().accept("idle for " + idle);
        }
    }

    Runnable betweenIdleReads = () -> { }; // a test's pause in checkIdle: the poll being told read, the hands not yet

    /** Decodes a delivery into its poll's slot; null when settled at once (malformed). */
    private InFlight accept(Delivery delivery, Instant leaseUntil, Instant excuseUntil, long excuseNanos, Hands.Batch inHand,
                            int slot) {
        Decoded decoded = null;
        String problem = ReceiveLimit.pastAlready(s.settler(), s.config().deadLetter(), s.source().redeliversAfterLease(),
                delivery); // past the limit, and back: its decoding may have killed the process, not tried again
        try {
            decoded = problem != null ? null : s.decoder().decode(delivery);
            if (decoded == null && problem == null) {
                problem = "null (a decoder must return Events or Malformed)";
            }
        } catch (Throwable e) {
            decoded = null;
            problem = JournalNotes.describe(e);
        }
        InFlight item;
        if (decoded == null) {
            if (!ReceiveLimit.NOT_DECODED.equals(problem)) { // not tried: counted if its decoding in its turn fails
                s.counters().decodeFailures.increment();
            }
            item = new InFlight(delivery, null, problem, delivery.groupKey(), leaseUntil, excuseUntil);
        } else {
            item = switch (decoded) {
                case Decoded.Malformed m when s.malformedInTurn() && delivery.groupKey() != null -> {
                    // on-poison park: dead-lettered in its group's turn, by the processor, which parks the group
                    s.counters().decodeFailures.increment();
                    var malformed = new InFlight(delivery, List.of(), null, delivery.groupKey(), leaseUntil, excuseUntil);
                    malformed.malformed = m.reason();
                    yield malformed;
                }
                case Decoded.Malformed m -> {
                    s.counters().decodeFailures.increment();
                    var malformed = new InFlight(delivery, List.of(), null, null, leaseUntil, excuseUntil);
                    malformed.excuseNanos = excuseNanos; // its lease kept by the monotonic clock while its dead letter waits
                    s.hands().take(inHand, slot, malformed);
                    var decision = FailureDecision.decide(new FailureDecision.Malformed(m.reason()), null, null, null);
                    var disposition = ((FailureDecision.Settle) decision).disposition();
                    if (disposition instanceof dev.ferry.domain.transport.Disposition.DeadLetter dead) {
                        s.notes().deadLettered(malformed, dead.reason());
                    }
                    s.settler().settle(malformed, disposition);
                    yield null;
                }
                case Decoded.Events e -> {
                    var events = e.events();
                    String key = delivery.groupKey() != null ? delivery.groupKey()
                            : events.isEmpty() ? null : events.getFirst().groupKey();
                    yield new InFlight(delivery, events, null, key, leaseUntil, excuseUntil);
                }
            };
        }
        if (item != null) {
            item.excuseNanos = excuseNanos;
            s.hands().take(inHand, slot, item);
        }
        return item;
    }

    /** Runs {@code call}, its time seen by {@link #stuckPoll}. */
    private boolean watched(String doing, java.util.function.Predicate<Busy> call) {
        var busy = new Busy(doing, System.nanoTime());
        polling.put(Thread.currentThread(), busy);
        try {
            return call.test(busy);
        } finally {
            polling.remove(Thread.currentThread());
        }
    }

    private static void sleep(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
