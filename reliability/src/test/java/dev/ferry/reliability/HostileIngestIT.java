package dev.ferry.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.http.IngestAuth;
import dev.ferry.app.FerryProcess;
import dev.ferry.domain.testing.Await;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * #16, hostile ingest: a running {@code ferry.jar} with an HMAC-signed HTTP source takes, all at
 * once, 300 slow clients (headers then a stalled or trickling body), replays of a captured signed
 * request, oversized and malformed bodies — while a well-behaved client sends 200 signed events.
 * Every good event reaches the sink once and in its group's order; no replay is handled; the good
 * client is answered throughout.
 */
class HostileIngestIT {

    private static final String SECRET = "hostile-ingest-secret-0123456789";
    private static final IngestAuth.HmacSha256 HMAC = (IngestAuth.HmacSha256) IngestAuth.hmacSha256(SECRET);
    private static final String CONFIG = """
            ledger: {kind: memory}
            sources:
              ingest:
                http: {listen: "127.0.0.1:${P_INGEST}", auth: hmac, secret: "${SECRET}", max-body-bytes: 65536,
                       read-timeout: 5s, max-uploads: 200}
                format: json
                json: {id: /id, type: /type, group: /group}
            sinks:
              api: {type: http, url: "${API_URL}"}
            routes:
              - to: [api]
            unmatched: dead-letter
            metrics: {listen: "127.0.0.1:${METRICS_PORT}"}
            """;

    private static int freePort() throws IOException {
        try (var probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    private static HttpRequest signed(URI uri, String body, String key, long timestamp) {
        String signature = HMAC.sign(timestamp, "POST", "/events", key, null, body.getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("X-Ferry-Timestamp", Long.toString(timestamp)).header("X-Ferry-Signature", signature)
                .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Test
    void slowClientsReplaysOversizedAndMalformed_allAtOnce_theGoodClientsEventsAllArrive(@TempDir Path dir) throws Exception {
        long started = System.nanoTime();
        int port = freePort();
        var uri = URI.create("http://127.0.0.1:" + port + "/events");
        var config = dir.resolve("ingest.yaml");
        Files.writeString(config, CONFIG);
        var sockets = new ArrayList<Socket>();
        try (var recorder = new Recorder(); var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build()) {
            var env = Map.of("P_INGEST", Integer.toString(port), "SECRET", SECRET, "API_URL", recorder.url(),
                    "METRICS_PORT", Integer.toString(freePort()));
            try (var ferry = FerryProcess.start(env, "run", "--config", config.toString())) {
                ferry.awaitLine("listening on 'ingest'", Duration.ofSeconds(90));

                // a captured, valid request, replayed below
                var captured = signed(uri, "{\"id\":\"captured\",\"type\":\"t\",\"group\":\"g-x\",\"seq\":1}", "captured",
                        Instant.now().getEpochSecond());
                assertThat(client.send(captured, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

                // the attack, all at once
                for (int i = 0; i < 300; i++) {
                    var s = new Socket("127.0.0.1", port);
                    s.setSoTimeout(1000);
                    sockets.add(s);
                    OutputStream out = s.getOutputStream();
                    out.write(("POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"id\":\"slow-" + i)
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
                var statuses = new ConcurrentHashMap<Integer, AtomicInteger>();
                var attack = new ArrayList<CompletableFuture<?>>();
                for (int i = 0; i < 50; i++) {
                    attack.add(client.sendAsync(captured, HttpResponse.BodyHandlers.discarding())
                            .thenAccept(r -> statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet()));
                    var big = "{\"id\":\"big-" + i + "\",\"pad\":\"" + "x".repeat(200_000) + "\"}";
                    attack.add(client.sendAsync(signed(uri, big, "big-" + i, Instant.now().getEpochSecond()),
                            HttpResponse.BodyHandlers.discarding())
                            .thenAccept(r -> statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet())
                            .exceptionally(e -> null));
                    var bad = "{\"id\":\"bad-" + i + "\", not json";
                    attack.add(client.sendAsync(signed(uri, bad, "bad-" + i, Instant.now().getEpochSecond()),
                            HttpResponse.BodyHandlers.discarding())
                            .thenAccept(r -> statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet()));
                }

                // meanwhile the good client
                long goodStart = System.nanoTime();
                int good = 200;
                var goodStatuses = new ArrayList<Integer>();
                for (int i = 1; i <= good; i++) {
                    String group = "g-" + (i % 10);
                    String body = "{\"id\":\"good-" + i + "\",\"type\":\"t\",\"group\":\"" + group + "\",\"seq\":" + (i / 10 + 1) + "}";
                    goodStatuses.add(politely(client, uri, body, "good-" + i));
                }
                double goodSeconds = (System.nanoTime() - goodStart) / 1e9;
                CompletableFuture.allOf(attack.toArray(CompletableFuture[]::new)).get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(Await.until(Duration.ofSeconds(60), () -> recorder.distinctKeys() >= good + 1)).isTrue();

                var tally = recorder.tally();
                var first = tally.first();
                int lost = 0;
                for (int i = 1; i <= good; i++) {
                    if (!first.containsKey("good-" + i)) {
                        lost++;
                    }
                }
                long replaysHandled = recorder.effects().stream().filter(e -> e.key().equals("captured")).count() - 1;
                long attackArrived = first.keySet().stream().filter(k -> k.startsWith("big-") || k.startsWith("bad-")
                        || k.startsWith("slow-")).count();
                Report.add(new Report.Row("hostile-ingest", good, (int) first.keySet().stream().filter(k -> k.startsWith("good-")).count(),
                        lost, tally.duplicates(), tally.inversions(), 0, "", -1, (System.nanoTime() - started) / 1e9,
                        String.format("300 slow clients, 50 replays of a captured signed request, 50 bodies over "
                                + "max-body-bytes, 50 malformed, all at once; the good client's 200 signed events answered "
                                + "%s in %.1fs; attackers answered %s; replays handled: %d; attack bodies at the sink: %d",
                                summary(goodStatuses), goodSeconds, statuses, replaysHandled, attackArrived)));
                assertThat(goodStatuses).allMatch(s -> s == 200);
                assertThat(lost).isZero();
                assertThat(tally.inversions()).isZero();
                assertThat(replaysHandled).as("a replayed signature is never handled").isZero();
                assertThat(attackArrived).isZero();
            }
        } finally {
            for (var s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }

    /**
     * A well-behaved client: on 503 or 429 ("not now") it waits a little and sends again, signed
     * afresh (within the same second the signature is the same, and a seen one is refused as a replay:
     * 401 is waited out too). Returns the final status.
     */
    private static int politely(HttpClient client, URI uri, String body, String key) throws Exception {
        int status = 0;
        for (int attempt = 0; attempt < 100; attempt++) {
            status = client.send(signed(uri, body, key, Instant.now().getEpochSecond()),
                    HttpResponse.BodyHandlers.ofString()).statusCode();
            if (status != 503 && status != 429 && status != 401) {
                return status;
            }
            Thread.sleep(200);
        }
        return status;
    }

    private static String summary(List<Integer> statuses) {
        var counts = new java.util.TreeMap<Integer, Integer>();
        statuses.forEach(s -> counts.merge(s, 1, Integer::sum));
        return counts.toString();
    }
}
