package dev.ferry.domain.listener;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.ordering.OrderingGroups;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * The engine: poll → decode → claim → order → handle → dispose, for one source.
 *
 * <ul>
 *   <li>At most {@code maxInFlight} deliveries are held; polling waits while full.</li>
 *   <li>Events of one ordering group run strictly in order, groups run in parallel
 *       ({@link OrderingGroups}); a failure releases the rest of its group in hand.</li>
 *   <li>With a ledger, each event is claimed before its handler runs and completed after, so a
 *       duplicate delivery is dropped and a zombie's late completion is fenced.</li>
 *   <li>Leases of deliveries still in hand are extended (in batches) once {@code extendAt} of the
 *       lease has passed, together with the ledger claim; extension stops when a delivery is settled.</li>
 *   <li>Throttled outcomes slow polling down and never count as failures; Retry outcomes count, and
 *       a message that used up its attempts is dead-lettered. A body that cannot be decoded is
 *       dead-lettered on its first receive.</li>
 *   <li>{@link #stop()} stops polling, lets running handlers finish up to the deadline, releases
 *       everything else, flushes pending settlements and reports what it did.</li>
 * </ul>
 *
 * <p>Build with {@link #builder}; {@link #start()} once. Thread-safe.
 */
public final class Listener implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    private final String name;
    private final Source source;
    private final Acknowledger acknowledger;
    private final Decoder decoder;
    private final Handler handler;
    private final IdempotencyLedger ledger;
    private final ListenerConfig config;
    private final Clock clock;
    private final ListenerObserver observer;
    private final Predicate<ListenerStats> beforePoll;
    private final SplittableRandom random;

    private final Capacity capacity;
    private final Set<InFlight> inFlight = ConcurrentHashMap.newKeySet();
    /** Done, but kept by an async handler (skip-delete) until it calls {@link #settle}: leases still extended. */
    private final Map<Delivery, InFlight> handedOverItems = new ConcurrentHashMap<>();
    private final FailureCounts failureCounts = new FailureCounts(100_000);
    private final SettlementQueue pendingSettlements = new SettlementQueue(SETTLE_BATCH);
    private static final int SETTLE_BATCH = 100;
    /** How long the settler waits for a batch to fill after a partial one (busy listeners only). */
    private static final long LINGER_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    private final ThreadPoolExecutor workers;
    private final OrderingGroups<InFlight> groups;

    private final List<Thread> pollerThreads = new ArrayList<>();
    private Thread settler;
    private Thread housekeeper;
    private final AtomicInteger state = new AtomicInteger(NEW);
    private static final int NEW = 0, RUNNING = 1, STOPPING = 2, STOPPED = 3;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicReference<ShutdownReport> report = new AtomicReference<>();
    private final Object settleLock = new Object();

    private volatile long throttledUntilNanos;
    private final AtomicInteger consecutiveThrottles = new AtomicInteger();
    private volatile long lastReceiveNanos;
    private volatile Instant lastReceive;

    private final LongAdder received = new LongAdder();
    private final LongAdder acked = new LongAdder();
    private final LongAdder redelivered = new LongAdder();
    private final LongAdder released = new LongAdder();
    private final LongAdder deadLettered = new LongAdder();
    private final LongAdder handedOver = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder throttled = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder decodeFailures = new LongAdder();
    private final LongAdder fenced = new LongAdder();
    private final LongAdder leaseExtensions = new LongAdder();
    private final LongAdder settleFailures = new LongAdder();
    private final LongAdder polls = new LongAdder();
    private final AtomicLong settlementsSent = new AtomicLong();

    private Listener(Builder b) {
        this.name = b.source.name();
        this.source = b.source;
        this.acknowledger = b.acknowledger;
        this.decoder = b.decoder;
        this.handler = b.handler;
        this.ledger = b.ledger;
        this.config = b.config;
        this.clock = b.clock;
        this.observer = b.observer;
        this.beforePoll = b.beforePoll;
        this.random = new SplittableRandom(b.seed);
        this.capacity = new Capacity(config.maxInFlight(), config.batchSize(), TimeUnit.MILLISECONDS.toNanos(20));
        var threadIds = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(config.concurrency(), config.concurrency(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    var t = new Thread(r, "ferry-" + name + "-worker-" + threadIds.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.workers.allowCoreThreadTimeOut(true);
        this.groups = new OrderingGroups<>(workers, config.concurrency(), new OrderingGroups.Worker<>() {
            @Override
            public boolean process(InFlight item) {
                return Listener.this.process(item);
            }

            @Override
            public void release(InFlight item) {
                settle(item, Disposition.RELEASE);
            }
        });
    }

    public static Builder builder(Source source, Acknowledger acknowledger, Decoder decoder, Handler handler) {
        return new Builder(source, acknowledger, decoder, handler);
    }

    /** Starts the pollers, the settler and the lease keeper. */
    public Listener start() {
        if (!state.compareAndSet(NEW, RUNNING)) {
            throw new IllegalStateException("listener '" + name + "' was already started");
        }
        lastReceiveNanos = System.nanoTime();
        settler = daemon("ferry-" + name + "-settler", this::settleLoop);
        housekeeper = daemon("ferry-" + name + "-leases", this::housekeepingLoop);
        for (int i = 1; i <= config.pollers(); i++) {
            pollerThreads.add(daemon("ferry-" + name + "-poller-" + i, this::pollLoop));
        }
        LOG.log(Level.INFO, "listener ''{0}'' started: {1} poller(s), batch {2}, lease {3}, {4} in flight max, concurrency {5}",
                name, config.pollers(), config.batchSize(), config.lease(), config.maxInFlight(), config.concurrency());
        return this;
    }

    public String name() {
        return name;
    }

    public ListenerConfig config() {
        return config;
    }

    public boolean isRunning() {
        return state.get() == RUNNING;
    }

    public ListenerStats stats() {
        return new ListenerStats(received.sum(), acked.sum(), redelivered.sum(), released.sum(), deadLettered.sum(),
                handedOver.sum(), duplicates.sum(), throttled.sum(), failures.sum(), decodeFailures.sum(), fenced.sum(),
                inFlight.size(), leaseExtensions.sum(), settleFailures.sum(), polls.sum(), lastReceive);
    }

    /**
     * Settles a delivery the handler kept for itself (skip-delete), or any delivery this listener
     * handed out. Goes out with the listener's next settlement batch.
     */
    public void settle(Delivery delivery, Disposition disposition) {
        handedOverItems.remove(delivery);
        count(disposition);
        observe(() -> observer.settled(delivery, disposition));
        pendingSettlements.add(new Settlement(delivery, disposition));
    }

    /** Stops with the configured deadline; returns what the shutdown did. Idempotent. */
    public ShutdownReport stop() {
        return stop("stop requested");
    }

    @Override
    public void close() {
        stop();
    }

    /** Waits until the listener stopped (by {@link #stop}, idle timeout or the before-poll hook). */
    public java.util.Optional<ShutdownReport> awaitStop(Duration timeout) throws InterruptedException {
        if (stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return java.util.Optional.of(report.get());
        }
        return java.util.Optional.empty();
    }

    // ---------------------------------------------------------------- polling

    private void pollLoop() {
        while (state.get() == RUNNING) {
            try {
                if (!beforePoll.test(stats())) {
                    stopAsync("the before-poll hook asked to stop");
                    return;
                }
                pauseWhileThrottled();
                int permits = acquireCapacity();
                if (permits == 0) {
                    continue;
                }
                List<Delivery> batch;
                try {
                    polls.increment();
                    batch = source.poll(new PollRequest(permits, config.pollWait(), config.lease()));
                } catch (FerryException e) {
                    capacity.release(permits);
                    if (state.get() != RUNNING) {
                        return;
                    }
                    LOG.log(Level.WARNING, "poll of ''{0}'' failed ({1}): {2}", name,
                            e.retryable() ? "will retry" : "not retryable, retrying anyway", e.getMessage());
                    sleepNanos(TimeUnit.SECONDS.toNanos(1));
                    continue;
                }
                if (batch.size() > permits) {
                    throw new IllegalStateException("source '" + name + "' returned " + batch.size()
                            + " deliveries for a poll of at most " + permits);
                }
                capacity.release(permits - batch.size());
                if (batch.isEmpty()) {
                    checkIdle();
                    continue;
                }
                lastReceiveNanos = System.nanoTime();
                lastReceive = clock.instant();
                var accepted = new ArrayList<InFlight>(batch.size());
                for (var delivery : batch) {
                    var item = accept(delivery);
                    if (item != null) {
                        accepted.add(item);
                    }
                }
                if (state.get() == RUNNING) {
                    groups.submitAll(accepted, item -> item.orderingKey);
                } else {
                    accepted.forEach(item -> settle(item, Disposition.RELEASE));
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "poller of ''" + name + "'' hit an unexpected error; it goes on", e);
                sleepNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    /** Takes up to one batch of capacity (a full batch when it frees up soon), waiting for at least one slot. */
    private int acquireCapacity() throws InterruptedException {
        return capacity.acquire(config.batchSize(), TimeUnit.MILLISECONDS.toNanos(100));
    }

    private void pauseWhileThrottled() throws InterruptedException {
        long wait;
        while ((wait = throttledUntilNanos - System.nanoTime()) > 0 && state.get() == RUNNING) {
            TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    private void checkIdle() {
        var idle = config.idleTimeout();
        if (!idle.isZero() && System.nanoTime() - lastReceiveNanos >= idle.toNanos()) {
            stopAsync("idle for " + idle);
        }
    }

    /** Decodes and registers a delivery; returns it when it is to be handled, null when already settled. */
    private InFlight accept(Delivery delivery) {
        received.increment();
        observe(() -> observer.received(delivery));
        var leaseUntil = clock.instant().plus(config.lease());
        Decoded decoded;
        try {
            decoded = Objects.requireNonNull(decoder.decode(delivery), "decoder returned null");
        } catch (RuntimeException e) {
            decoded = new Decoded.Malformed("decoder failed: " + e);
        }
        switch (decoded) {
            case Decoded.Malformed m -> {
                decodeFailures.increment();
                var item = new InFlight(delivery, List.of(), null, leaseUntil);
                inFlight.add(item);
                settle(item, Disposition.deadLetter("malformed: " + m.reason()));
                return null;
            }
            case Decoded.Events e -> {
                var events = e.events();
                String key = delivery.groupKey() != null ? delivery.groupKey()
                        : events.isEmpty() ? null : events.getFirst().groupKey();
                var item = new InFlight(delivery, events, key, leaseUntil);
                inFlight.add(item);
                return item;
            }
        }
    }

    // ---------------------------------------------------------------- handling

    /** Handles one delivery's events in order; true when it was acked (its group may go on). */
    private boolean process(InFlight item) {
        if (item.settled.get()) {
            return false;
        }
        item.started = true;
        var delivery = item.delivery;
        var counts = failureCounts.get(delivery.id());
        int countedReceives = delivery.receiveCount() - counts.excused();
        if (config.deadLetter().exceeded(countedReceives)) {
            settle(item, Disposition.deadLetter("received " + delivery.receiveCount() + " times ("
                    + counts.throttles() + " throttled, " + counts.passes() + " handed back unhandled), more than maxReceives "
                    + config.deadLetter().maxReceives()));
            return true;
        }
        Disposition disposition = config.skipDelete() ? null : Disposition.ACK;
        for (var event : item.events) {
            var result = handleOne(item, event);
            if (result != null) {
                disposition = result;
                break;
            }
        }
        if (disposition == null) {
            handOver(item);
            return true;
        }
        settle(item, disposition);
        return disposition instanceof Disposition.Ack || disposition instanceof Disposition.DeadLetter;
    }

    /** Runs one event; null when it is done (or a duplicate), else the delivery's disposition. */
    private Disposition handleOne(InFlight item, Event event) {
        long token = 0;
        if (ledger != null) {
            Claim claim;
            try {
                // the claim ends when the message's visibility does, never later: a crashed worker's
                // claim is free again by the time its message is handed to someone else (#8)
                claim = ledger.claim(event.key(), remainingLease(item));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "ledger claim of {0} failed, message {1} comes back: {2}",
                        event.key(), item.delivery.id(), e.getMessage());
                return Disposition.redeliver(config.retry().backoff().delay(1, random()));
            }
            switch (claim) {
                case Claim.Completed c -> {
                    duplicates.increment();
                    return null;
                }
                case Claim.InProgress p -> {
                    var wait = Duration.between(clock.instant(), p.leaseUntil());
                    return Disposition.redeliver(wait.isNegative() ? Duration.ZERO : wait);
                }
                case Claim.Acquired a -> {
                    token = a.token();
                    item.claimToken = token;
                    item.claimKey = event.key();
                }
            }
        }
        long start = System.nanoTime();
        Outcome outcome;
        try {
            outcome = Objects.requireNonNull(handler.handle(event, item.delivery), "handler returned null");
        } catch (RuntimeException | StackOverflowError | AssertionError e) {
            outcome = Outcome.retry("handler threw " + e);
        }
        long took = System.nanoTime() - start;
        var finalOutcome = outcome;
        observe(() -> observer.handled(event, finalOutcome, took));
        item.claimKey = null;
        var delivery = item.delivery;
        return switch (outcome) {
            case Outcome.Done d -> {
                consecutiveThrottles.set(0);
                if (ledger != null && !completeQuietly(event.key(), token)) {
                    fenced.increment();
                    LOG.log(Level.WARNING, "completion of {0} was fenced: its claim expired while the handler ran "
                            + "(message {1}); extend the lease or shorten the handler", event.key(), delivery.id());
                }
                yield null;
            }
            case Outcome.Retry r -> {
                releaseClaim(event.key(), token);
                failures.increment();
                int failed = failureCounts.recordFailure(delivery.id());
                if (!config.retry().allowsAnotherAttempt(failed)) {
                    yield Disposition.deadLetter("failed " + failed + " time(s), the retry policy allows "
                            + config.retry().maxAttempts() + "; last failure: " + r.reason());
                }
                yield Disposition.redeliver(config.retry().delayAfter(failed, r.after(), random()));
            }
            case Outcome.Throttled t -> {
                releaseClaim(event.key(), token);
                throttled.increment();
                failureCounts.recordThrottle(delivery.id());
                slowDown();
                yield Disposition.redeliver(t.retryAfter());
            }
            case Outcome.Reject r -> {
                releaseClaim(event.key(), token);
                yield Disposition.deadLetter(r.reason());
            }
        };
    }

    /** What is left of the item's visibility lease, at least a millisecond. */
    private Duration remainingLease(InFlight item) {
        var left = Duration.between(clock.instant(), item.leaseUntil);
        return left.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : left;
    }

    private boolean completeQuietly(String key, long token) {
        try {
            return ledger.complete(key, token, config.completedTtl());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "ledger completion of {0} failed: {1}", key, e.getMessage());
            return false;
        }
    }

    private void releaseClaim(String key, long token) {
        if (ledger == null) {
            return;
        }
        try {
            ledger.release(key, token);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "ledger release of {0} failed (its lease will run out): {1}", key, e.getMessage());
        }
    }

    private void slowDown() {
        int n = consecutiveThrottles.incrementAndGet();
        long base = config.throttlePause().toNanos();
        long pause = Math.min(config.maxThrottlePause().toNanos(), base << Math.min(n - 1, 20));
        long until = System.nanoTime() + pause;
        if (until - throttledUntilNanos > 0) {
            throttledUntilNanos = until;
        }
    }

    private SplittableRandom random() {
        synchronized (random) {
            return random.split();
        }
    }

    // ---------------------------------------------------------------- settling

    private void settle(InFlight item, Disposition disposition) {
        if (!item.settled.compareAndSet(false, true)) {
            return;
        }
        inFlight.remove(item);
        capacity.release(1);
        switch (disposition) {
            case Disposition.Ack a -> failureCounts.forget(item.delivery.id());
            case Disposition.Release r -> {
                if (!item.started) {
                    failureCounts.recordPass(item.delivery.id());
                }
            }
            case Disposition.DeadLetter d -> {
                failureCounts.forget(item.delivery.id());
                LOG.log(Level.WARNING, "dead-lettering message {0} from ''{1}'': {2}", item.delivery.id(), name, d.reason());
            }
            default -> { }
        }
        settle(item.delivery, disposition);
    }

    private void handOver(InFlight item) {
        if (item.settled.compareAndSet(false, true)) {
            inFlight.remove(item);
            capacity.release(1);
            handedOver.increment();
            item.claimKey = null;
            handedOverItems.put(item.delivery, item);
        }
    }

    private void count(Disposition disposition) {
        switch (disposition) {
            case Disposition.Ack a -> acked.increment();
            case Disposition.Redeliver r -> redelivered.increment();
            case Disposition.Release r -> released.increment();
            case Disposition.DeadLetter d -> deadLettered.increment();
        }
    }

    private void settleLoop() {
        var batch = new ArrayList<Settlement>(SETTLE_BATCH);
        while (true) {
            if (pendingSettlements.drainTo(batch, SETTLE_BATCH) == 0) {
                if (state.get() == STOPPED) {
                    return;
                }
                // idle: the next settlement wakes this thread at once
                pendingSettlements.awaitAny(TimeUnit.MILLISECONDS.toNanos(50));
                if (Thread.interrupted()) {
                    return;
                }
                continue;
            }
            sendSettlements(batch);
            boolean full = batch.size() == SETTLE_BATCH;
            batch.clear();
            if (!full) {
                // busy but not a full batch: let more gather instead of waking for each one
                pendingSettlements.linger(LINGER_NANOS);
            }
        }
    }

    private void sendSettlements(List<Settlement> batch) {
        synchronized (settleLock) {
            List<Settlement.Failure> failed;
            try {
                failed = acknowledger.settle(List.copyOf(batch));
            } catch (RuntimeException e) {
                settleFailures.add(batch.size());
                LOG.log(Level.WARNING, "settling " + batch.size() + " message(s) of '" + name
                        + "' failed; they come back when their lease runs out", e);
                return;
            }
            settlementsSent.addAndGet(batch.size() - failed.size());
            if (!failed.isEmpty()) {
                settleFailures.add(failed.size());
                for (var f : failed) {
                    LOG.log(Level.WARNING, "could not {0} message {1} of ''{2}'': {3}",
                            f.settlement().disposition(), f.settlement().delivery().id(), name, f.reason());
                }
            }
        }
    }

    private void flushSettlements() {
        var batch = new ArrayList<Settlement>();
        while (pendingSettlements.drainTo(batch, 100) > 0) {
            sendSettlements(batch);
            batch.clear();
        }
    }

    // ---------------------------------------------------------------- leases

    private void housekeepingLoop() {
        long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(5),
                Math.min(TimeUnit.SECONDS.toNanos(1), (config.lease().toNanos() - config.extendAfter().toNanos()) / 4));
        while (state.get() != STOPPED) {
            try {
                TimeUnit.NANOSECONDS.sleep(tick);
                extendLeases();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "lease extension of '" + name + "' failed; will try again", e);
            }
        }
    }

    private void extendLeases() {
        if (!config.extendLeases()) {
            return;
        }
        var now = clock.instant();
        var threshold = now.plus(config.lease().minus(config.extendAfter()));
        var due = new ArrayList<InFlight>();
        for (var item : inFlight) {
            if (!item.settled.get() && !item.leaseUntil.isAfter(threshold)) {
                due.add(item);
            }
        }
        for (var item : handedOverItems.values()) {
            if (!item.leaseUntil.isAfter(threshold)) {
                due.add(item);
            }
        }
        if (due.isEmpty()) {
            return;
        }
        var deliveries = due.stream().map(i -> i.delivery).toList();
        var notExtended = Set.copyOf(acknowledger.extendLeases(deliveries, config.lease()));
        var newLease = now.plus(config.lease());
        int extended = 0;
        for (var item : due) {
            if (notExtended.contains(item.delivery)) {
                // gone or expired: an async handler's late settle will fail and the message comes back
                handedOverItems.remove(item.delivery);
                continue;
            }
            item.leaseUntil = newLease;
            extended++;
            var key = item.claimKey;
            if (ledger != null && key != null) {
                try {
                    ledger.extend(key, item.claimToken, remainingLease(item));
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "ledger lease extension of {0} failed: {1}", key, e.getMessage());
                }
            }
        }
        leaseExtensions.add(extended);
        int count = extended;
        observe(() -> observer.leasesExtended(count));
        if (!notExtended.isEmpty()) {
            LOG.log(Level.WARNING, "{0} lease(s) of ''{1}'' could not be extended; those messages may be handled twice "
                    + "(the ledger drops the duplicate)", notExtended.size(), name);
        }
    }

    // ---------------------------------------------------------------- shutdown

    private void stopAsync(String reason) {
        if (state.get() == RUNNING) {
            daemon("ferry-" + name + "-stop", () -> stop(reason));
        }
    }

    private ShutdownReport stop(String reason) {
        if (state.compareAndSet(NEW, STOPPED)) {
            var r = new ShutdownReport(reason + " (never started)", 0, 0, 0, 0, Duration.ZERO, stats());
            report.set(r);
            stopped.countDown();
            return r;
        }
        if (!state.compareAndSet(RUNNING, STOPPING)) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return report.get();
        }
        long begin = System.nanoTime();
        long settledBefore = stats().settled();
        long sentBefore = settlementsSent.get();
        for (var poller : pollerThreads) {
            poller.interrupt();
        }
        joinQuietly(pollerThreads, Duration.ofSeconds(5));

        long releasedWaiting = 0;
        for (var item : groups.drainWaiting()) {
            if (!item.settled.get()) {
                settle(item, Disposition.RELEASE);
                releasedWaiting++;
            }
        }
        long deadline = begin + config.shutdownDeadline().toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() - deadline < 0) {
            sleepNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        long releasedRunning = 0;
        for (var item : List.copyOf(inFlight)) {
            if (!item.settled.get()) {
                settle(item, Disposition.RELEASE);
                releasedRunning++;
            }
        }
        long finished = stats().settled() - settledBefore - releasedWaiting - releasedRunning;
        state.set(STOPPED);
        // Not interrupted: an interrupt could break a settlement call half-way. It exits when idle.
        pendingSettlements.wake();
        joinQuietly(List.of(settler), Duration.ofSeconds(5));
        flushSettlements();
        housekeeper.interrupt();
        workers.shutdownNow();
        var r = new ShutdownReport(reason, finished, releasedWaiting, releasedRunning,
                settlementsSent.get() - sentBefore, Duration.ofNanos(System.nanoTime() - begin), stats());
        report.set(r);
        LOG.log(Level.INFO, "listener ''{0}'' stopped ({1}) in {2} ms: {3} finished, {4} released unstarted, "
                        + "{5} released past the deadline; {6}", name, reason, r.took().toMillis(), finished,
                releasedWaiting, releasedRunning, r.stats().line());
        observe(() -> observer.stopped(r));
        stopped.countDown();
        return r;
    }

    private static void joinQuietly(List<Thread> threads, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (var t : threads) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread daemon(String threadName, Runnable body) {
        var t = new Thread(body, threadName);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void observe(Runnable call) {
        if (observer == ListenerObserver.NONE) {
            return;
        }
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "listener observer threw; ignored", e);
        }
    }

    /** Assembles a listener; source, acknowledger, decoder and handler are required. */
    public static final class Builder {
        private final Source source;
        private final Acknowledger acknowledger;
        private final Decoder decoder;
        private final Handler handler;
        private IdempotencyLedger ledger;
        private ListenerConfig config = ListenerConfig.defaults();
        private Clock clock = Clock.systemUTC();
        private ListenerObserver observer = ListenerObserver.NONE;
        private Predicate<ListenerStats> beforePoll = s -> true;
        private long seed = System.nanoTime();

        private Builder(Source source, Acknowledger acknowledger, Decoder decoder, Handler handler) {
            this.source = Objects.requireNonNull(source, "source");
            this.acknowledger = Objects.requireNonNull(acknowledger, "acknowledger");
            this.decoder = Objects.requireNonNull(decoder, "decoder");
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        /** Turns deduplication on: each event is claimed before and completed after its handler. */
        public Builder ledger(IdempotencyLedger ledger) {
            this.ledger = Objects.requireNonNull(ledger, "ledger");
            return this;
        }

        public Builder config(ListenerConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public Builder observer(ListenerObserver observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /**
         * Called before every poll with the current stats; returning false stops the listener
         * (the Ruby QueuePoller's {@code before_request} with {@code throw :stop_polling}).
         */
        public Builder beforePoll(Predicate<ListenerStats> beforePoll) {
            this.beforePoll = Objects.requireNonNull(beforePoll, "beforePoll");
            return this;
        }

        /** Seed of the backoff jitter, for reproducible tests. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Listener build() {
            return new Listener(this);
        }
    }
}
