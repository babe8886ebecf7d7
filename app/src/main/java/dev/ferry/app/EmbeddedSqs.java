package dev.ferry.app;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.ActorSystem;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;

/**
 * The embedded SQS-compatible server (ElasticMQ) of a local run, on 127.0.0.1. The only class
 * that names ElasticMQ: {@code ferry-slim.jar} leaves ElasticMQ, Pekko and Scala out, and this class
 * is loaded only when a configuration asks for {@code embedded-sqs}.
 */
final class EmbeddedSqs implements AutoCloseable {

    /** How long a stop waits for the actor system to end (ElasticMQ's own stop waits as long). */
    private static final Duration STOP_WAIT = Duration.ofMinutes(1);

    private final SQSRestServer server;
    private final ActorSystem system;

    private EmbeddedSqs(SQSRestServer server, ActorSystem system) {
        this.server = server;
        this.system = system;
    }

    static EmbeddedSqs start(int port) {
        // the actor system is made here and ended here: ElasticMQ's stop ends the one it makes only after the server's
        // binding, and a start whose bind failed has none, so that system (threads that are not daemons, a JVM
        // shutdown hook) stayed for the JVM's life, one more per failed start
        var system = ActorSystem.create("elasticmq");
        SQSRestServer server = null;
        try {
            server = SQSRestServerBuilder.withActorSystem(system).withInterface("127.0.0.1").withPort(port).start();
            server.waitUntilStarted();
            return new EmbeddedSqs(server, system);
        } catch (Throwable e) { // Scala throws checked exceptions unsaid (a TimeoutException from the wait)
            if (server != null) {
                try {
                    server.stopAndWait(); // a bind that came after the wait gave up
                } catch (Throwable also) {
                    if (also != e) { // a failed bind is thrown again by the stop, the same exception
                        e.addSuppressed(also);
                    }
                }
            }
            try {
                terminate(system);
            } catch (RuntimeException also) {
                e.addSuppressed(also);
            }
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            server.stopAndWait();
        } finally {
            terminate(system);
        }
    }

    private static void terminate(ActorSystem system) {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // it ends all the same; whoever interrupted is not kept waiting
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the embedded SQS server's actor system did not stop within "
                    + STOP_WAIT.toSeconds() + " s: " + e, e);
        }
    }
}
