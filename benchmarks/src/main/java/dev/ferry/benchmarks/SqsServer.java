package dev.ferry.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;

/**
 * The ElasticMQ server the SQS benchmarks drain, on 127.0.0.1. By default in a JVM of its own,
 * started from this jar, as a real server would be: then its threads do not compete with the
 * consumers' for the JIT, the heap and the collector inside one process. {@code
 * -Dferry.bench.sqs.server=in-jvm} runs it inside the benchmark's JVM instead.
 */
final class SqsServer implements AutoCloseable {

    private final SQSRestServer inJvm;
    private final Process process;
    private final URI endpoint;

    private SqsServer(SQSRestServer inJvm, Process process, URI endpoint) {
        this.inJvm = inJvm;
        this.process = process;
        this.endpoint = endpoint;
    }

    static SqsServer start() {
        if ("in-jvm".equals(System.getProperty("ferry.bench.sqs.server"))) {
            Logger.getLogger("").setLevel(Level.WARNING);
            var server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
            int port = server.waitUntilStarted().localAddress().getPort();
            return new SqsServer(server, null, URI.create("http://127.0.0.1:" + port));
        }
        try {
            var java = ProcessHandle.current().info().command().orElse("java");
            var process = new ProcessBuilder(java, "-Xms512m", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                    SqsServer.class.getName())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            var out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("port ")) {
                    return new SqsServer(null, process, URI.create("http://127.0.0.1:" + line.substring(5).trim()));
                }
            }
            process.destroyForcibly();
            throw new IllegalStateException("the SQS server process ended before it said its port");
        } catch (IOException e) {
            throw new IllegalStateException("could not start the SQS server process", e);
        }
    }

    URI endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        if (inJvm != null) {
            inJvm.stopAndWait();
            return;
        }
        try {
            process.getOutputStream().close(); // the server stops when its standard input ends
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The server process: says its port on standard output, runs until its standard input ends. */
    public static void main(String[] args) throws IOException {
        Logger.getLogger("").setLevel(Level.WARNING);
        var server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        System.out.println("port " + server.waitUntilStarted().localAddress().getPort());
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for the parent to close our input (or die)
        }
        server.stopAndWait();
        System.exit(0);
    }
}
