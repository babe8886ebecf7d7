package dev.ferry.domain.listener;

import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.ordering.OrderingGroups;
import dev.ferry.domain.retry.FailureDecision;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Source;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The engine for one source. A delivery's path is a line of files:
 * {@link Poller} (poll, decode) → {@link OrderingGroups} (its group's turn) → {@link Processor}
 * (claim, handle, complete; {@link FailureDecision} when anything goes otherwise) →
 * {@link Settler} (batched acknowledgements), with the {@link LeaseKeeper} beside it extending
 * the leases of everything in hand and the {@link Intake} pausing polling while a sink throttles
 * or the ledger fails. This class is the front: building, starting, stopping, statistics, health.
 *
 * <ul>
 *   <li>At most {@code maxInFlight} deliveries are held; polling waits while full.</li>
 *   <li>Events of one ordering group run strictly in order, groups in parallel.</li>
 *   <li>With a ledger, each event is claimed before its handler runs and completed after, so a
 *       duplicate delivery is dropped and a zombie's late completion is fenced.</li>
 *   <li>A retry, a throttle or a failing ledger is waited out in hand (up to {@code holdLimit}):
 *       the delivery keeps its lease and its group waits, and no receive is spent.</li>
 *   <li>{@link #stop()} stops polling, lets running handlers finish up to the deadline, releases
 *       everything else, flushes pending settlements and reports what it did.</li>
 * </ul>
 *
 * <p>Build with {@link #builder}; {@link #start()} once. Thread-safe.
 */
public final class Listener implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    private static final int NEW = 0, RUNNING = 1, STOPPING = 2, STOPPED = 3;
    private final String name;
    private final Source source;
    private final boolean closesSource;
    private final ListenerConfig config;
    private final ListenerObserver observer;
    private final Counters counters = new Counters();
    private final Hands hands;
    private final Intake intake;
    private final Settler settler;
    private final Processor processor;
    private final LeaseKeeper leaseKeeper;
    private final HandlerWatch watch;
    private final HandlerSettlement handlerSettlement;
    private final OrderingGroups<InFlight> groups;
    private final Poller poller;

    /** The scope its events are claimed in: the builder's, else shared for keys unique by nature, else null (each source's name). */
    private final String ledgerScope;
    private final AtomicInteger state = new AtomicInteger(NEW);
    private final StopReport report = new StopReport();
    private volatile boolean closeSourceWhenStopped;
    private final SourceClose sourceClose;
    private final Object lifecycle = new Object();
    private final OwnThreads threads;

    private Listener(Builder b) {
        this.name = b.source.name();
        this.threads = new OwnThreads(this, name, b.config.concurrency());
        this.source = b.source;
        this.sourceClose = new SourceClose(name, b.source);
        this.closesSource = b.closesSource;
        this.config = b.config;
        this.observer = new GuardedObserver(b.observer);
        this.hands = new Hands(new Capacity(config.maxInFlight(), config.batchSize(), TimeUnit.MILLISECONDS.toNanos(20)), b.ledger);
        this.intake = new Intake(name, config.throttlePause(), config.maxThrottlePause(), b.ledger);
        var failureCounts = new FailureCounts(100_000);
        this.settler = new Settler(name, b.acknowledger, hands, counters, failureCounts, observer, b.clock);
        this.ledgerScope = b.ledgerScope != null ? b.ledgerScope : b.decoder.keysUniqueByNature() ? LedgerKeys.SHARED : null;
        var policies = ListenerPolicies.of(config, b.source);
        this.watch = new HandlerWatch(name, config.handlerTimeout(), this::isRunning);
        this.processor = new Processor(new Processor.Shared(name, b.handler, b.ledger, config, b.clock, intake, counters,
                observer, settler, failureCounts, policies, threads.holds, this::isRunning, new SplittableRandom(b.seed),
                ledgerScope,
                ListenerPolicies.defersCompletions(name, config, b.ledger, policies.holdLimit()) ? threads.completer : null,
                b.onPoison == OnPoison.PARK ? new GroupParker((GroupParking) b.ledger, b.clock) : null,
                b.source.redeliversAfterLease(), b.decoder, watch));
        this.groups = new OrderingGroups<>(threads.workers, config.concurrency(), processor);
        processor.groups(groups);
        this.handlerSettlement = new HandlerSettlement(hands, processor, settler, threads, this::isRunning);
        this.leaseKeeper = new LeaseKeeper(name, b.acknowledger, b.ledger, config, b.clock, hands, counters, observer, settler);
        this.poller = new Poller(new Poller.Shared(name, b.source, b.decoder, config, b.clock, hands, intake, counters,
                observer, groups, settler, b.beforePoll, this::stopAsync, this::isRunning, this::stats, processor.notes(),
                b.onPoison == OnPoison.PARK));
    }

    public static Builder builder(Source source, Acknowledger acknowledger, Decoder decoder, Handler handler) {
        return new Builder(source, acknowledger, decoder, handler);
    }

    /**
     * A listener on a source that settles its own messages (an {@code SqsSource}, a {@code KafkaSource},
     * an {@code InMemoryQueue}). Such a listener owns its source: {@link #close()} stops, waits for the
     * source's open polls and closes it ({@link Builder#closeSourceOnClose} says otherwise). Give each
     * such listener a source of its own: a source shared with another listener is closed under it.
     */
    public static <S extends Source & Acknowledger> Builder builder(S source, Decoder decoder, Handler handler) {
        return new Builder(source, source, decoder, handler).closeSourceOnClose(true);
    }

    /** Starts the pollers, the settler and the lease keeper. */
    public Listener start() {
        synchronized (lifecycle) { // a stop() from another thread sees the listener before its start or after it
            if (!state.compareAndSet(NEW, RUNNING)) {
                throw new IllegalStateException("listener '" + name + "' was " + (state.get() == RUNNING ? "already started"
                        : "stopped: a listener runs once; build another"));
            }
            poller.started(); // an idle timeout counts from here, not from when the listener was built
            threads.settler = threads.start("settler", () -> settler.run(() -> state.get() == STOPPED));
            threads.leases = threads.start("leases", () -> leaseKeeper.run(() -> state.get() == STOPPED, () -> {
                threads.replaceDeadPollers(this::isRunning, poller::run);
                watch.check(); // handler calls past their timeout are interrupted
                groups.startMissingRunners(); // runners that could not start when their items came
                intake.probeLedger(); // a ledger reported failing, with nothing in hand to try it again, asked now and then
            }));
            for (int i = 1; i <= config.pollers(); i++) {
                threads.pollers.add(threads.start("poller-" + i, poller::run));
            }
        }
        // aside: said on the caller's thread (ferry run's, in the runtime's start), a blocked log held it for good, no stop seen
        threads.aside.write(() -> LOG.log(System.Logger.Level.INFO, "listener ''{0}'' started: {1} poller(s), batch {2}, "
                + "lease {3}, {4} in flight max, concurrency {5}", name, config.pollers(), config.batchSize(),
                dev.ferry.domain.model.Durations.text(config.lease()), config.maxInFlight(), config.concurrency()));
        return this;
    }

    public String name() { return name; }
    public ListenerConfig config() { return config; }
    public boolean isRunning() { return state.get() == RUNNING; }
    public ListenerStats stats() { return counters.snapshot(hands.size(), InFlight.keptOf(hands.handedOver())); }

    /** Whether this listener can make progress now: running, its threads alive, its ledger and source answering. */
    public ListenerHealth health() {
        if (!isRunning()) {
            return ListenerHealth.of(List.of(state.get() == NEW ? "not started" : "stopping or stopped"));
        }
        var running = threads.running();
        return running == null ? ListenerHealth.of(List.of("starting")) // start() is between its state and its threads
                : HealthCheck.of(running, intake, poller, settler, leaseKeeper, watch, config.lease(), source);
    }

    /** What keeps it from progress that a restart clears (a thread died, a poll hangs), in words; empty when not running. */
    public List<String> wedges() {
        var running = isRunning() ? threads.running() : null;
        return running == null ? List.of() : HealthCheck.wedges(running, poller, watch);
    }

    /**
     * Settles a delivery the handler kept (skip-delete), or any handed out, with the next batch; with a ledger, the events
     * the handler took are completed now on an {@code Ack}, else released. Skip-delete, several events: an {@code Ack}
     * while later ones still run settles those kept so far (and the one in {@code handle()}, made from within it).
     */
    public void settle(Delivery delivery, Disposition disposition) {
        handlerSettlement.settle(delivery, disposition);
    }

    /**
     * Stops with the configured deadline; returns what the shutdown did. Idempotent: a second caller
     * waits for the first one's report. On an interrupted thread the shutdown still gives running
     * handlers their deadline, and the interrupt is kept. Called from one of the listener's own
     * threads (a handler, an observer, the before-poll hook), it starts the stop and returns at once,
     * since the shutdown waits for its caller to finish: the report it returns then only says so
     * ({@link #awaitStop} gives the shutdown's own). Deliveries a handler keeps (skip-delete) are waited for too,
     * within the deadline, their leases extended: settle them once {@link #isRunning} turns false.
     */
    public ShutdownReport stop() {
        return stop("stop requested");
    }

    /**
     * Stops (as {@link #stop()}); a listener that owns its source (built with
     * {@link #builder(Source, Decoder, Handler)}, or {@link Builder#closeSourceOnClose}) then closes it,
     * which waits for its open polls to end and their messages to be released (called on the listener's
     * own thread, when the stop it starts has ended). Idempotent.
     */
    @Override
    public void close() {
        if (closesSource) {
            closeSourceWhenStopped = true;
        }
        try {
            stop();
        } finally { // a stop that threw (a log failing on every line) closes it too: Kafka's last commit, its leave
            // on the listener's own thread the stop goes on after stop() returns: it closes the source at its end
            if (closesSource && (!threads.here() || report.ended())) {
                sourceClose.close();
            }
        }
    }

    /**
     * Waits until the listener stopped (by {@link #stop}, idle timeout or the before-poll hook). On one of
     * the listener's own threads (a handler) it returns empty once the stop is under way (or at the timeout): the
     * stop waits for that very thread, and waiting here would hold both for the shutdown's deadline.
     */
    public Optional<ShutdownReport> awaitStop(Duration timeout) throws InterruptedException {
        if (threads.here() && !report.ended()) {
            return OwnThreads.whileRunning(this::isRunning, timeout);
        }
        return report.await(timeout);
    }

    private void stopAsync(String reason) {
        if (isRunning()) {
            threads.start("stop", () -> stopHere(reason));
        }
    }

    private ShutdownReport stop(String reason) {
        if (threads.here()) {
            // the shutdown waits for what runs on this thread: it cannot finish before its caller returns
            stopAsync(reason);
            var r = report.get();
            return r != null ? r : new ShutdownReport(reason + " (stopping: asked on the listener's own thread "
                    + Thread.currentThread().getName() + ", see awaitStop)", 0, 0, 0, 0, Duration.ZERO, stats());
        }
        return stopHere(reason);
    }

    /** Runs the shutdown on this thread, or waits for the one under way; an interrupt is kept, not obeyed. */
    private ShutdownReport stopHere(String reason) {
        boolean interrupted = Thread.interrupted(); // the grace period sleeps and joins: given back at the end
        try {
            // counted from before the state turns: what settles once a caller sees it stopping is the shutdown's
            var before = Shutdown.Before.of(stats(), counters.settlementsSent.sum());
            boolean mine;
            synchronized (lifecycle) {
                if (state.compareAndSet(NEW, STOPPED)) {
                    return finish(new ShutdownReport(reason + " (never started)", 0, 0, 0, 0, Duration.ZERO, stats()), false);
                }
                mine = state.compareAndSet(RUNNING, STOPPING);
            }
            return mine ? shutDown(reason, before) : report.awaitKeepingInterrupts();
        } finally {
            if (Shutdown.keptInterrupt() | interrupted) { // both asked, so the kept one is forgotten
                Thread.currentThread().interrupt();
            }
        }
    }

    private ShutdownReport shutDown(String reason, Shutdown.Before before) {
        ShutdownReport r = null;
        try { // run as the listener's own thread: what the shutdown calls (an observer, as it settles) may stop it too
            r = threads.asOwn(() -> {
                try {
                    return new Shutdown(name, source, config, hands, groups, settler, processor, counters, this::stats,
                            threads).run(reason, before, threads.pollers, () -> state.set(STOPPED),
                            threads.settler, threads.leases, threads.holds, threads.workers, threads.completer);
                } catch (Throwable e) { // stopped all the same: no stop() waits for ever, nothing settled later is lost
                    state.set(STOPPED);
                    return Shutdown.failed(name, reason, e, settler, processor.notes(), stats(), threads.holds,
                            threads.workers, threads.completer);
                }
            });
            if (closeSourceWhenStopped) { // close() asked on the listener's own thread, which could not wait for
                sourceClose.closeWithinBound(); // the stop: before the report (awaitStop's caller may end the JVM)
            }
        } finally { // whatever threw (the close, a log failing on every line): unpublished, every later stop() hung
            finish(r != null ? r : Shutdown.unreported(reason, stats()), true);
            if (closeSourceWhenStopped) { // close() called by the observer told of the stop, or on a handler's thread
                sourceClose.close(); // (whose close() could not wait for the stop: thrown past, nothing closed it)
            }
        }
        return r;
    }

    /** Publishes the report, then tells the observer: a stop() it makes returns the report. */
    private ShutdownReport finish(ShutdownReport r, boolean tellObserver) {
        report.publish(r);
        if (tellObserver) {
            observer.stopped(r);
        }
        return r;
    }

    /**
     * The ledger scope in which the listener handling {@code delivery} on this thread claims its events:
     * the listener's scope (its builder's, or {@link LedgerKeys#SHARED} for keys unique by nature), else
     * the delivery's source. A handler that keeps marks of its own in the ledger (a tracked
     * {@code RoutingHandler}'s per-sink marks) keys them by it, so that sources sharing a scope share
     * the marks too. Off a listener's thread: the delivery's source.
     */
    public static String ledgerScopeOf(Delivery delivery) {
        var listener = OwnThreads.ownerHere();
        var scope = listener == null ? null : listener.ledgerScope;
        return scope != null ? scope : delivery.source();
    }

    /** Assembles a listener; source, acknowledger, decoder and handler are required. */
    public static final class Builder {
        private final Source source;
        private final Acknowledger acknowledger;
        private final Decoder decoder;
        private final Handler handler;
        private IdempotencyLedger ledger;
        private String ledgerScope;
        private ListenerConfig config = ListenerConfig.defaults();
        private Clock clock = Clock.systemUTC();
        private ListenerObserver observer = ListenerObserver.NONE;
        private Predicate<ListenerStats> beforePoll = s -> true;
        private long seed = System.nanoTime();
        private boolean closesSource;
        private OnPoison onPoison = OnPoison.SKIP;

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

        /**
         * The ledger scope of this source's event keys ({@link LedgerKeys}): by default the shared
         * scope when the decoder's keys are unique by nature ({@link Decoder#keysUniqueByNature()}),
         * else the source's name, so equal ids of two sources are two events. Sources that carry the
         * same events name one scope; {@link LedgerKeys#SHARED} is the scope of every source.
         */
        public Builder ledgerScope(String scope) {
            this.ledgerScope = Objects.requireNonNull(scope, "scope");
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
         * (the Ruby QueuePoller's {@code before_request} with {@code throw :stop_polling}). It should return at once:
         * one that has not returned within a poll's limit is a wedge ({@link Listener#wedges()}).
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

        /** Whether {@link Listener#close()} also closes the source (after stopping); off for the four-argument builder. */
        public Builder closeSourceOnClose(boolean closes) {
            this.closesSource = closes;
            return this;
        }

        /**
         * What happens to an ordered group when one of its messages is dead-lettered: it goes on
         * ({@link OnPoison#SKIP}, the default) or is parked until released ({@link OnPoison#PARK}),
         * which needs a {@link #ledger} that keeps parked groups ({@link GroupParking}).
         */
        public Builder onPoison(OnPoison onPoison) {
            this.onPoison = Objects.requireNonNull(onPoison, "onPoison");
            return this;
        }

        public Listener build() {
            ListenerPolicies.check(onPoison, config, ledger, source);
            return new Listener(this);
        }
    }
}
