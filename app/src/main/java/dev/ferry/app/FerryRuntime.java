package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSource;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.routing.EventMatcher;
import dev.ferry.domain.routing.Route;
import dev.ferry.domain.routing.Router;
import dev.ferry.domain.routing.RoutingHandler;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Sink;
import jakarta.inject.Inject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * What {@code ferry run} runs: the embedded SQS server (when configured) with its queues, the
 * sinks, one listener per source routing every event to its sinks, and the ledger. Logs one line
 * per significant event and a statistics line periodically.
 */
public final class FerryRuntime implements AutoCloseable {

    private final FerryConfig config;
    private final SqsClient sqs;
    private final IdempotencyLedger ledger;
    private final Map<String, SinkFactory> sinkFactories;
    private final PrintStream log = System.out;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<Listener> listeners = new ArrayList<>();
    private SQSRestServer embedded;
    private Thread statsThread;

    @Inject
    FerryRuntime(FerryConfig config, SqsClient sqs, IdempotencyLedger ledger, Map<String, SinkFactory> sinkFactories) {
        this.config = config;
        this.sqs = sqs;
        this.ledger = ledger;
        this.sinkFactories = sinkFactories;
    }

    public synchronized FerryRuntime start() {
        if (config.embeddedSqsPort() > 0) {
            embedded = SQSRestServerBuilder.withInterface("127.0.0.1").withPort(config.embeddedSqsPort()).start();
            embedded.waitUntilStarted();
            createQueues();
            line("embedded SQS server on http://127.0.0.1:" + config.embeddedSqsPort()
                    + " (aws --endpoint-url http://127.0.0.1:" + config.embeddedSqsPort() + " sqs ...)");
        }
        var sinks = new LinkedHashMap<String, Sink>();
        for (var spec : config.sinks().values()) {
            var sink = sinkFactories.get(spec.type()).create(spec);
            sinks.put(spec.name(), sink);
            closeables.add(sink);
        }
        var routes = config.routes().stream()
                .map(r -> Route.of(r.name(), r.type() != null ? EventMatcher.type(r.type())
                                : r.typePrefix() != null ? EventMatcher.typePrefix(r.typePrefix()) : EventMatcher.any(),
                        r.to().toArray(String[]::new)))
                .toList();
        var handler = RoutingHandler.tracked(Router.of(routes, Router.Unmatched.IGNORE), sinks, ledger,
                config.listener().lease(), config.ledger().ttl());
        var l = config.listener();
        var listenerConfig = ListenerConfig.builder().pollers(l.pollers()).concurrency(l.concurrency()).lease(l.lease())
                .deadLetter(DeadLetterPolicy.maxReceives(l.maxReceives()))
                .retry(RetryPolicy.of(l.maxAttempts(), RetryPolicy.defaults().backoff()))
                .completedTtl(config.ledger().ttl())
                .shutdownDeadline(l.shutdownDeadline()).build();
        for (var spec : config.sources().values()) {
            var source = SqsSource.builder(sqs, spec.queue()).name(spec.name()).allowedSenders(spec.allowedSenders())
                    .ferryMaxReceives(l.maxReceives()).build();
            closeables.add(source);
            var listener = Listener.builder(source, source, Codecs.named(spec.format(), JsonLimits.defaults()), handler)
                    .ledger(ledger).config(listenerConfig).observer(observer(spec.name())).build().start();
            listeners.add(listener);
            line("listening on '" + spec.name() + "' (" + source.queueUrl() + "), format " + spec.format());
        }
        statsThread = Thread.ofPlatform().daemon().name("ferry-stats").start(this::statsLoop);
        return this;
    }

    private void createQueues() {
        createQueues(SqsQueues.of(sqs), config);
    }

    /** The config's source queues and SQS sink queues, each with a DLQ; what exists already is kept. */
    static List<SqsQueues.Created> createQueues(SqsQueues queues, FerryConfig config) {
        var names = new ArrayList<String>();
        config.sources().values().forEach(source -> names.add(source.queue()));
        config.sinks().values().stream().filter(sink -> "sqs".equals(sink.type()))
                .forEach(sink -> names.add(sink.options().get("queue")));
        return names.stream().map(name -> queues.create(SqsQueues.QueueSpec.withDeadLetterQueue(name, 1000))).toList();
    }

    private ListenerObserver observer(String source) {
        return new ListenerObserver() {
            @Override
            public void settled(Delivery delivery, Disposition disposition) {
                if (disposition instanceof Disposition.DeadLetter dl) {
                    line("dead-lettered message " + delivery.id() + " from '" + source + "': " + dl.reason());
                }
            }
        };
    }

    private void statsLoop() {
        long every = config.statsEvery().toMillis();
        while (true) {
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                return;
            }
            for (var listener : listeners) {
                line("stats " + listener.name() + ": " + listener.stats().line());
            }
        }
    }

    /** The listeners, for tests and embedding. */
    public List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    private void line(String text) {
        log.println("ferry: " + text);
    }

    /** Stops the listeners (finishing or releasing what is in hand), then everything else. */
    @Override
    public synchronized void close() {
        if (statsThread != null) {
            statsThread.interrupt();
        }
        for (var listener : listeners) {
            var report = listener.stop();
            line("stopped '" + listener.name() + "': " + report.reason() + ", " + report.stats().line());
        }
        for (var c : closeables.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                line("closing " + c + " failed: " + e.getMessage());
            }
        }
        if (ledger instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                line("closing the ledger failed: " + e.getMessage());
            }
        }
        sqs.close();
        if (embedded != null) {
            embedded.stopAndWait();
        }
    }
}
