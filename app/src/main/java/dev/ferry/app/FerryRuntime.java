package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.routing.Route;
import dev.ferry.domain.routing.Router;
import dev.ferry.domain.routing.RoutingHandler;
import dev.ferry.domain.transport.Sink;
import jakarta.inject.Inject;
import dev.ferry.app.logging.LogContext;
import dev.ferry.app.tracing.TracedSink;
import dev.ferry.app.tracing.TracedSource;
import dev.ferry.app.tracing.Tracing;
import dev.ferry.app.tracing.TracingSetup;
import dev.ferry.domain.handle.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * What {@code ferry run} runs: the embedded SQS server (when configured), the ledger, the sinks,
 * one listener per source routing every event to its sinks, and the metrics and health endpoint.
 * Logs one line per significant event (start, stop, dead letter, throttling, failures) and a
 * statistics line periodically.
 */
public final class FerryRuntime implements AutoCloseable {

    private final FerryConfig config;
    private static final Logger LOG = LoggerFactory.getLogger("ferry");
    /** The longest one sink, the ledger or the adapters' clients may take to close before the exit goes on. */
    static final java.time.Duration CLOSE_BOUND = java.time.Duration.ofSeconds(10);
    /** The ledger's: its close writes what is not yet on disk. */
    static final java.time.Duration LEDGER_CLOSE_BOUND = java.time.Duration.ofSeconds(60);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<AutoCloseable> sources = new ArrayList<>();
    private final List<Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>(); // the stats thread reads it
    private final Observability observability = new Observability();
    private final RunLogLines logLines = new RunLogLines();
    private RunContext context;
    private IdempotencyLedger ledger;
    private EmbeddedSqs embedded;
    private Thread statsThread;
    private int metricsPort = -1;
    private int adminPort = -1;
    private Tracing tracing;
    private TracingSetup tracingSetup;
    private boolean started;
    private boolean closed;
    private AdminRedrive redrive;
    private AdminGroups adminGroups;

    @Inject
    FerryRuntime(FerryConfig config) {
        this.config = config;
    }

    private java.util.function.BooleanSupplier stopRequested = () -> false;

    /**
     * Starts everything; if any part fails, what started is stopped again and the failure thrown. A runtime
     * starts once, failed or not: make another ({@link RunComponent#runtime()}) to try again.
     */
    public synchronized FerryRuntime start() {
        return start(() -> false);
    }

    /**
     * {@link #start()}, with a stop that may be asked for while it starts (a signal during a rolling
     * deploy): asked for by the time the sources would start, they are not — every message they would
     * receive only to release it again at once spends a receive.
     */
    public synchronized FerryRuntime start(java.util.function.BooleanSupplier stopRequested) {
        if (started || closed) { // a start after a failed one opened it all again, and no close followed: close() had run
            throw new IllegalStateException("this Ferry runtime was " + (closed ? "closed" : "started already")
                    + ": a runtime starts once; make another to start again");
        }
        started = true;
        this.stopRequested = stopRequested;
        try {
            startAll();
            return this;
        } catch (Throwable e) { // an Error too (a plugin's missing class), and a checked exception a plugin threw undeclared
            // (a "sneaky throw" from its name() or decoder): nothing half started stays up — the ledger's file lock, ports
            try {
                close();
            } catch (Throwable closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private void startAll() {
        // the embedded server (Pekko, about a second) starts on a thread of its own while this one sets up
        // tracing, opens the ledger and makes the SQS client (the SDK's classes, most of the rest)
        var server = config.embeddedSqsPort() > 0 ? EmbeddedStart.begin(config.embeddedSqsPort()) : null;
        try {
            if (tracing == null) {
                tracingSetup = TracingSetup.start(config.tracing());
                tracing = tracingSetup.tracing();
            }
            context = new RunContext(config, config.embeddedSqsPort() > 0).forRun(() -> stopRequested.getAsBoolean());
            ledger = context.open("the ledger (kind " + config.ledger().kind() + ")", config.ledger().plan());
            if (server != null && usesSqs()) {
                dev.ferry.adapters.sqs.SqsClients.shared(context);
            }
        } catch (Throwable e) { // a checked exception thrown undeclared too
            if (server != null) { // wait for the server all the same, so that close() stops it
                try {
                    embedded = server.await();
                } catch (Throwable also) {
                    e.addSuppressed(also);
                }
            }
            throw e;
        }
        if (server != null) {
            embedded = server.await();
            line("embedded SQS server on http://127.0.0.1:" + config.embeddedSqsPort()
                    + " (aws --endpoint-url http://127.0.0.1:" + config.embeddedSqsPort() + " sqs ...)");
            if (!"memory".equals(config.ledger().kind())) {
                // the two halves of a local run do not live equally long: say so before it surprises anyone
                StopSignals.aMoment(() -> LOG.warn("the embedded SQS server keeps its queues and messages in memory, so they "
                        + "are gone when Ferry stops; the {} ledger is kept, so an event handled before a restart and sent again "
                        + "after it is dropped as a duplicate (delete the ledger file to start afresh)", config.ledger().kind()));
            }
        }
        if (ledger instanceof dev.ferry.adapters.dynamodb.DynamoDbLedger shared) {
            observability.ledgerClockSkew(shared::clockSkew);
        }
        var sinks = new LinkedHashMap<String, Sink>();
        for (var spec : config.sinks().values()) {
            var sink = new MeteredSink(spec.name(), new TracedSink(context.open("sink '" + spec.name() + "' (type " + spec.type() + ")", spec.plan()),
                    tracing, ConfigParts.system(spec.type()), spec.name()),
                    observability.registry());
            sinks.put(spec.name(), sink);
            observability.watch(sink);
            closeables.add(Closing.named("sink '" + spec.name() + "'", sink));
        }
        var routes = config.routes().stream().map(r -> Route.of(r.name(), ConfigParts.matcher(r), r.to().toArray(String[]::new))).toList();
        var routing = RoutingHandler.tracked(Router.of(routes,
                config.deadLetterUnmatched() ? Router.Unmatched.REJECT : Router.Unmatched.IGNORE), sinks, ledger,
                config.listener().lease(), config.ledger().ttl());
        closeables.add(Closing.named("the routes' kept target claims", routing)); // closed before the sinks and the ledger
        var traced = tracing;
        // one per source, named as the file names it: a plugin's source names its deliveries as its author chose (a
        // queue's name), and two sources of one plugin type on queues both called "orders" logged and traced as one
        java.util.function.BiFunction<String, String, Handler> handlerOf = (name, system) -> (event, delivery) -> {
            LogContext.set(delivery, event); // every line a route or sink writes carries the message's context
            LogContext.put(LogContext.SOURCE, name);
            try {
                return traced.process(name, system, delivery, event, () -> routing.handle(event, delivery));
            } finally {
                LogContext.clear();
            }
        };
        var listenerConfig = ConfigParts.listenerConfig(config);
        var deadLetters = DeadLetterSamples.shared();
        // every source, sink and port is opened before the first listener takes a message: a start that fails
        // half-way (a missing queue, a port taken) then gives nothing back that it took — each message so given
        // back counts as a receive, and a supervisor restarting it would dead-letter them unhandled in the end
        var built = new ArrayList<Listener>();
        var listening = new ArrayList<String>();
        for (var spec : config.sources().values()) {
            var opened = context.open("source '" + spec.name() + "' (" + spec.transport() + ")", spec.plan());
            sources.add(Closing.named("source '" + spec.name() + "'", opened.source()));
            var metrics = observability.metrics(spec.name());
            var source = new TracedSource(opened.source(), tracing, ConfigParts.system(spec.transport()), spec.name());
            var decoder = ConfigParts.decoder(spec);
            var handler = handlerOf.apply(spec.name(), ConfigParts.system(spec.transport()));
            var builder = Listener.builder(source, opened.acknowledger(), decoder, handler);
            if (spec.ledgerScope() != null) {
                builder.ledgerScope(spec.listenerScope());
            } else if (!decoder.keysUniqueByNature()) {
                // the file's name, not the one the source's deliveries give: a plugin's source names itself as its author
                // chose (a queue's name, the transport's), and two sources of one plugin type dropped each other's
                // same-id events as duplicates (built-in sources give the file's name: the same scope)
                builder.ledgerScope(spec.name());
            }
            builder.onPoison(spec.onPoison());
            var listener = builder.ledger(ledger).config(listenerConfig.build())
                    .observer(RunLogLines.both(RunLogLines.both(logLines.forSource(spec.name()), metrics),
                            deadLetters.forSource(spec.name()))).build();
            observability.watch(metrics, listener);
            if (opened.source() instanceof dev.ferry.adapters.kafka.KafkaSource kafka) {
                observability.kafkaLag(spec.name(), kafka::lag);
            } else if (opened.source() instanceof dev.ferry.adapters.sqs.SqsSource sqs) {
                observability.sqsRefused(spec.name(), sqs);
            } else if (opened.source() instanceof dev.ferry.adapters.http.HttpSource http) {
                observability.httpRefused(spec.name(), http);
            }
            built.add(listener);
            listening.add("listening on '" + spec.name() + "' (" + opened.description() + "), format " + spec.format());
        }
        var sources = new LinkedHashMap<String, Listener>();
        var specs = List.copyOf(config.sources().keySet());
        for (int i = 0; i < built.size(); i++) {
            sources.put(specs.get(i), built.get(i));
        }
        GroupActions groupActions = null;
        if (ledger instanceof dev.ferry.domain.parking.GroupParking) {
            // parked groups are listed and released here, where the ledger is held (an MVStore file is one process's)
            var sqs = usesSqs() ? dev.ferry.adapters.sqs.SqsClients.shared(context) : null;
            groupActions = new GroupActions(config, ledger, sqs);
            adminGroups = new AdminGroups(groupActions, config.admin().token());
            observability.groups(adminGroups);
        }
        observability.events(new AdminEvents(new EventActions(config, ledger), config.admin().token()));
        if (usesSqs()) {
            var queues = SqsQueues.of(dev.ferry.adapters.sqs.SqsClients.shared(context));
            redrive = new AdminRedrive(queues, config.admin().token(), dlq -> ParkingDeadLetters.parkingSource(config, queues, dlq),
                    ParkingDeadLetters.parkedNow(config, ledger)); // the letters of groups parked now stay, by the ledger held here
            observability.redrive(redrive);
        }
        observability.console(new AdminConsole(sources, sinks, deadLetters, groupActions, config.ledger().kind(),
                observability.registry(), redrive, config.admin().token()));
        observability.health(new Health(sources, sinks, config.ledger().kind(), config.admin().stallAfter(), System::nanoTime,
                observability::ready));
        if (config.metrics() != null) {
            metricsPort = observability.serve(config.metrics(), config.metrics().equals(config.admin().listen()));
            line("metrics on http://" + config.metrics().host() + ":" + metricsPort + "/metrics, health on /health, "
                    + "/health/live and /health/ready");
        }
        var admin = config.admin().listen();
        if (admin != null && !admin.equals(config.metrics())) {
            adminPort = observability.serve(admin, true);
            line("health on http://" + admin.host() + ":" + adminPort + "/health (/health/live, /health/ready), metrics on "
                    + "/metrics");
        } else if (admin != null) {
            adminPort = metricsPort;
        }
        for (var listener : built) {
            // asked before each: one asked while those before started (a signal as a start's line waited on a blocked
            // log) started every one after it all the same, each taking messages only for the close to give them back
            if (stopRequested.getAsBoolean()) {
                line("stop requested while starting: " + (listeners.isEmpty() ? "the sources are not started"
                        : built.size() - listeners.size() + " of " + built.size() + " sources not started"));
                return;
            }
            listeners.add(listener.start());
        }
        observability.ready(true); // before the "listening on" lines: whoever reads them finds the instance ready
        StopSignals.aMoment(() -> listening.forEach(text -> LOG.info(text))); // one aside for all: said in their order
        if (!config.statsEvery().isZero()) { // stats-every: off
            statsThread = Thread.ofPlatform().daemon().name("ferry-stats").start(this::statsLoop);
        }
    }

    private boolean usesSqs() {
        return config.sources().values().stream().anyMatch(s -> "sqs".equals(s.transport()))
                || config.sinks().values().stream().anyMatch(s -> "sqs".equals(s.type()));
    }

    /** Spans on {@code tracing} instead of what the configuration sets up: for tests and embedding. */
    FerryRuntime tracing(Tracing tracing) {
        this.tracing = tracing;
        return this;
    }

    private void statsLoop() {
        long every = config.statsEvery().toMillis();
        while (true) {
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                return;
            }
            try { // one throw here (an appender's Error, memory out as a line is built) ended every stats line after it
                logLines.flush(); // what a storm of dead letters left out of the log, said at least this often
                for (var listener : listeners) {
                    LOG.info("stats " + listener.name() + ": " + listener.stats().line()); // not aside: holds only this thread
                }
            } catch (Throwable e) {
                try {
                    LOG.warn("a stats line failed; the next comes in {}", config.statsEvery(), Thrown.loggable(e));
                } catch (Throwable lineFailed) { // the log itself: the next round tries again
                }
            }
        }
    }

    /** The listeners, for tests and embedding. */
    public List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    /** The port of the admin endpoint (health and metrics), or -1 when it is off. */
    public int adminPort() {
        return adminPort;
    }

    /** The port of the metrics and health endpoint, or -1 when there is none. */
    public int metricsPort() {
        return metricsPort;
    }

    private void quietly(String what, AutoCloseable step) {
        try {
            step.close();
        } catch (InterruptedException e) {
            // kept for the end of the close: set now, every later bounded wait (the ledger's last commits) gave up at once;
            // not waited for, what it ends (a redrive's batch, a release) was cut short: not a whole close
            closeInterrupted = true;
            closedWhole = false;
            StopSignals.aMoment(() -> LOG.warn("{} was interrupted", what));
        } catch (Throwable e) {
            StopSignals.aMoment(() -> LOG.warn("{} failed: {}", what, String.valueOf(e)));
        }
    }

    /** Whether a wait of the close was interrupted: the interrupt is set again once the close is done. */
    private boolean closeInterrupted;

    /** How long the close waits for the console's redrive and the releases under way, together. */
    static final java.time.Duration OPERATIONS_BOUND = java.time.Duration.ofSeconds(10);

    /** Aside, a moment at most: a line to a blocked log's pipe held start() for good, a listener's close past its bound. */
    private void line(String text) {
        StopSignals.aMoment(() -> LOG.info(text));
    }

    /**
     * Whether the last {@link #close()} ended every part within its bound: false when one was left closing (a listener's
     * stop, a source, a sink, the ledger), one's close threw (the ledger's last commit) or a listener's shutdown failed —
     * what it had in hand may be handled again after a restart.
     */
    public synchronized boolean closedWhole() {
        return closed && closedWhole;
    }

    private boolean closedWhole = true;

    /** Stops the listeners (finishing or releasing what is in hand), then everything else. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        observability.ready(false);
        if (adminGroups != null) {
            adminGroups.stopping(); // none begins, and those under way end after their batch while the listeners stop
        }
        if (redrive != null) {
            redrive.stopping(); // its batch under way ends while the listeners stop
        }
        if (statsThread != null) {
            statsThread.interrupt();
        }
        var failedStop = new java.util.concurrent.atomic.AtomicBoolean();
        closedWhole &= Closing.stopTogether(List.copyOf(listeners), (listener, report) -> {
            line("stopped '" + listener.name() + "': " + report.reason() + ", " + report.stats().line());
            failedStop.compareAndSet(false, report.failed()); // what it had in hand left as it stood: not exit 0
        });
        closedWhole &= !failedStop.get();
        listeners.clear();
        // the console's redrive and releases under way end before the ledger and the clients close; both waits in one
        // budget, so that the close stays within a container's usual grace beside the listeners' own
        long operationsEnd = System.nanoTime() + OPERATIONS_BOUND.toNanos();
        if (redrive != null) { // one cut short may leave copies both sent and still in the DLQ: not a whole close
            quietly("stopping the console's redrive", () -> closedWhole &= redrive.stop(Closing.left(operationsEnd)));
        }
        if (adminGroups != null) {
            quietly("waiting for group releases under way",
                    () -> closedWhole &= adminGroups.awaitReleases(Closing.left(operationsEnd)));
        }
        closedWhole &= Closing.inParallel(sources, java.time.Duration.ofSeconds(30)); // each may wait for a long poll: together
        sources.clear();
        // each in turn, whatever the one before threw (an Error from a plugin's close too): the file locks,
        // ports and threads of the rest are let go all the same. Each bounded: a close that hangs (a plugin's, a
        // force on a hung mount) would hold the exit for ever, and the ledger's close behind it
        for (var c : closeables.reversed()) {
            closedWhole &= Closing.inParallel(List.of(c), CLOSE_BOUND);
        }
        closeables.clear();
        if (ledger instanceof AutoCloseable c) {
            closedWhole &= Closing.inParallel(List.of(Closing.named("the ledger", c)), LEDGER_CLOSE_BOUND); // its last commits
        }
        ledger = null;
        if (context != null) {
            Closing.inParallel(List.of(Closing.named("the adapters' shared clients", context)), CLOSE_BOUND);
        }
        quietly("closing the metrics and admin endpoints", observability::close);
        if (tracingSetup != null) {
            quietly("closing tracing", tracingSetup::close);
        }
        if (embedded != null) {
            quietly("stopping the embedded SQS server", embedded::close);
            embedded = null;
        }
        if (closeInterrupted) {
            Thread.currentThread().interrupt(); // whoever interrupted the close sees it, now that every step had its wait
        }
    }
}
