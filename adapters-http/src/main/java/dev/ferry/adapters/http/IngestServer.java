package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.domain.model.FerryException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * An {@link HttpSource}'s server while it runs: the JDK server on its port and the read deadlines of its
 * requests, started together or not at all, and stopped together.
 */
final class IngestServer {

    private final HttpServer server;
    private final ReadDeadlines deadlines;

    private IngestServer(HttpServer server, ReadDeadlines deadlines) {
        this.server = server;
        this.deadlines = deadlines;
    }

    /**
     * Binds {@code host:port} and serves {@code endpoint} there. What fails after the bind (the server's
     * dispatcher thread refused) stops the server and its deadlines before it is thrown: the port is free
     * again and no thread is left, so the source is as if it had never started, and its start may be tried
     * again. (The server used to be kept before it had started: a failed start left it bound, and every
     * later start returned at once, reporting nothing.)
     */
    static IngestServer start(String name, String host, int port, SSLContext tls, Duration readTimeout,
            IngestEndpoint endpoint) {
        HttpServer server;
        try {
            server = IngestTls.server(new InetSocketAddress(host, port), tls);
        } catch (IOException e) {
            throw new FerryException("HTTP source '" + name + "' cannot listen on " + host + ":" + port
                    + ": " + e.getMessage(), e, false);
        }
        ReadDeadlines deadlines = null;
        try {
            deadlines = new ReadDeadlines(name, readTimeout, ex -> IngestAnswers.answerLate(ex, readTimeout)); // 408
            endpoint.deadlines(deadlines);
            server.setExecutor(deadlines.executor());
            server.createContext("/", endpoint::exchange);
            server.start();
            return new IngestServer(server, deadlines);
        } catch (RuntimeException | Error e) {
            try {
                stop(server, deadlines);
            } catch (RuntimeException stopFailed) {
                e.addSuppressed(stopFailed);
            }
            throw e;
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Stops accepting and closes the connections, then waits for the request threads. */
    void stop() {
        stop(server, deadlines);
    }

    private static void stop(HttpServer server, ReadDeadlines deadlines) {
        try {
            server.stop(0);
        } finally {
            if (deadlines != null) {
                deadlines.close();
            }
        }
    }
}
