package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry events show} on the packaged app's code over a real SQS server: a done, a duplicate,
 * a retried and a dead-lettered event, asked of the running Ferry and, once it stopped, of its
 * ledger file directly.
 */
class EventsIT {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final List<String> accepted = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void done_duplicate_retried_andDeadLettered_events_areExplained(@TempDir Path dir) throws Exception {
        var api = api();
        try (var sqs = new LocalSqs()) {
            var file = dir.resolve("ferry.yaml");
            int adminPort;
            try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                adminPort = socket.getLocalPort();
            }
            Files.writeString(file, """
                    aws: {region: us-east-1, endpoint: "%s"}
                    ledger: {kind: mvstore, path: "%s"}
                    admin: {listen: "127.0.0.1:%d"}
                    listener: {max-attempts: 3}
                    sources:
                      orders: {sqs: {queue: orders, max-wait: 1s}, format: json, json: {id: /id}}
                    sinks:
                      api: {type: http, url: "http://127.0.0.1:%d/events"}
                    routes:
                      - to: [api]
                    """.formatted(sqs.endpoint(), dir.resolve("ledger.db").toString().replace('\\', '/'), adminPort,
                    api.getAddress().getPort()));
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("FERRY_CONFIG", file.toString());
            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, env::get)).as(err.toString()).isZero();
            var config = ((ConfigReader.Result.Ok) ConfigReader.read(file, System::getenv, ConfigReaderTest.ADAPTERS)).config();
            String poisonId;
            try (var runtime = FerryAppIT.runtime(config).start()) {
                sqs.send("orders", "{\"id\":\"ok-1\"}");
                sqs.send("orders", "{\"id\":\"flaky-1\"}");
                poisonId = sqs.client.sendMessage(b -> b.queueUrl(sqs.url("orders")).messageBody("{\"id\":\"poison-1\"}"))
                        .messageId();
                assertThat(Await.until(LIMIT, () -> accepted.contains("ok-1") && accepted.contains("flaky-1")
                        && sqs.depth("orders-dlq") == 1)).as(() -> "accepted " + accepted).isTrue();
                sqs.send("orders", "{\"id\":\"ok-1\"}"); // a second message with the same event: a duplicate
                assertThat(Await.until(LIMIT, () -> show(env, "ok-1").contains("duplicate"))).as(out::toString).isTrue();

                assertThat(show(env, "ok-1")).contains("event ok-1 of source orders: done (and delivered again as a duplicate)")
                        .contains("  done at 20").contains("delivered again as a duplicate: 1 time(s)");
                assertThat(accepted.stream().filter("ok-1"::equals)).as("the duplicate was not sent").hasSize(1);
                assertThat(show(env, "flaky-1")).contains("event flaky-1 of source orders: done")
                        .contains("failed attempts: 1").contains("HTTP 500");
                assertThat(show(env, "poison-1")).contains("event poison-1 of source orders: dead-lettered")
                        .contains("dead-lettered at 20").contains("HTTP 400");
                out.reset();
                assertThat(Ferry.run(new String[] {"events", "show", "--message-id", poisonId}, out, err, env::get))
                        .as(err.toString()).isZero();
                assertThat(out.toString()).contains("event poison-1 of source orders: dead-lettered");
                out.reset();
                assertThat(Ferry.run(new String[] {"events", "show", "ok-1", "--json"}, out, err, env::get)).isZero();
                assertThat(out.toString()).startsWith("[{\"source\":\"orders\",\"key\":\"ok-1\",\"status\":");
                err.reset();
                assertThat(Ferry.run(new String[] {"events", "show", "never-sent"}, out, err, env::get)).isEqualTo(1);
                assertThat(err.toString()).contains("nothing is known of event never-sent");
            }
            // stopped: the command opens the ledger file itself
            assertThat(show(env, "flaky-1")).contains("failed attempts: 1");
        } finally {
            api.stop(0);
        }
    }

    private String show(Map<String, String> env, String key) {
        out.reset();
        Ferry.run(new String[] {"events", "show", key}, out, err, env::get);
        return out.toString();
    }

    /** 204 for ok; for flaky 500 four times (the sink tries three times in process: one failed attempt), then 204; 400 for poison. */
    private HttpServer api() throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String id = body.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
            int n = tries.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            int status = id.startsWith("poison") ? 400 : id.startsWith("flaky") && n <= 4 ? 500 : 204; // 503: an outage, waited out
            if (status == 204) {
                accepted.add(id);
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        return server;
    }
}
