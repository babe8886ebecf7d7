package dev.ferry.adapters.dynamodb;

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** DynamoDB Local as a real server in this JVM, reached over HTTP on 127.0.0.1. */
public final class DynamoDbLocal implements AutoCloseable {

    private final DynamoDBProxyServer server;
    private final URI endpoint;

    private DynamoDbLocal(DynamoDBProxyServer server, int port) {
        this.server = server;
        this.endpoint = URI.create("http://127.0.0.1:" + port);
    }

    public static DynamoDbLocal start() {
        try {
            int port;
            try (var probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            var server = ServerRunner.createServerFromCommandLineArgs(
                    new String[] {"-inMemory", "-sharedDb", "-port", Integer.toString(port), "-disableTelemetry"});
            server.start();
            return new DynamoDbLocal(server, port);
        } catch (IOException e) {
            throw new IllegalStateException("no free port for DynamoDB Local", e);
        } catch (Exception e) {
            throw new IllegalStateException("DynamoDB Local did not start: " + e.getMessage(), e);
        }
    }

    public URI endpoint() {
        return endpoint;
    }

    public DynamoDbClient newClient() {
        return DynamoDbClient.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
                .build();
    }

    /**
     * This server behind another on 127.0.0.1 that refuses {@code operation} (as DynamoDB refuses a role without its
     * permission: AccessDeniedException) and passes every other call on: for a client the code under test builds
     * itself from an endpoint (the command lines). Close it after.
     */
    public Front refusing(String operation) {
        return front(operation, null);
    }

    /**
     * This server behind another on 127.0.0.1 that holds each call of {@code operation} {@code delay} before passing it
     * on (a far region, a DynamoDB slow to answer), and passes every other call on at once. Close it after.
     */
    public Front slowing(String operation, Duration delay) {
        return front(operation, delay);
    }

    /** {@code operation} refused (a null {@code delay}), or held that long before it is passed on. */
    private Front front(String operation, Duration delay) {
        var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpServer front;
        try {
            front = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        } catch (IOException e) {
            throw new IllegalStateException("no port for a server in front of DynamoDB Local", e);
        }
        front.createContext("/", exchange -> {
            try (exchange) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                var headers = exchange.getRequestHeaders();
                boolean it = ("DynamoDB_20120810." + operation).equals(headers.getFirst("X-Amz-Target"));
                if (it && delay != null) {
                    Thread.sleep(delay.toMillis());
                } else if (it) {
                    answer(exchange, 400, "application/x-amz-json-1.0", ("{\"__type\":\"com.amazon.coral.service#"
                            + "AccessDeniedException\",\"message\":\"User is not authorized to perform: dynamodb:"
                            + operation + " (injected)\"}").getBytes(StandardCharsets.UTF_8));
                    return;
                }
                var request = HttpRequest.newBuilder(endpoint.resolve(exchange.getRequestURI()))
                        .timeout(Duration.ofSeconds(10))
                        .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
                for (var name : List.of("Content-Type", "X-Amz-Target", "X-Amz-Date", "Authorization")) {
                    String value = headers.getFirst(name);
                    if (value != null) {
                        request.header(name, value);
                    }
                }
                var passed = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
                answer(exchange, passed.statusCode(), passed.headers().firstValue("Content-Type")
                        .orElse("application/x-amz-json-1.0"), passed.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        front.start();
        return new Front(URI.create("http://127.0.0.1:" + front.getAddress().getPort()), front, http);
    }

    private static void answer(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    /** A server in front of DynamoDB Local, at {@code endpoint} (see {@link #refusing}). */
    public record Front(URI endpoint, HttpServer server, HttpClient passing) implements AutoCloseable {
        @Override
        public void close() {
            server.stop(0);
            passing.close();
        }
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("DynamoDB Local did not stop", e);
        }
    }
}
