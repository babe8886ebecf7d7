package dev.ferry.app;

import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;

/**
 * The embedded SQS-compatible server (ElasticMQ) of a local run, on 127.0.0.1. The only class
 * that names ElasticMQ: {@code ferry-slim.jar} leaves ElasticMQ, Pekko and Scala out, and this class
 * is loaded only when a configuration asks for {@code embedded-sqs}.
 */
final class EmbeddedSqs implements AutoCloseable {

    private final SQSRestServer server;

    private EmbeddedSqs(SQSRestServer server) {
        this.server = server;
    }

    static EmbeddedSqs start(int port) {
        var server = SQSRestServerBuilder.withInterface("127.0.0.1").withPort(port).start();
        server.waitUntilStarted();
        return new EmbeddedSqs(server);
    }

    @Override
    public void close() {
        server.stopAndWait();
    }
}
