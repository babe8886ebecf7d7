package dev.ferry.reliability;

import dev.ferry.app.FerryProcess;
import dev.ferry.app.LocalSqs;
import dev.ferry.domain.testing.Await;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.IntStream;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * One scenario: its own FIFO queue (with DLQ) and ledger table, a fresh {@link Recorder}, Ferry
 * instances as separate processes, and the history of what was sent, from which the row of the
 * report is computed.
 */
final class Scenario implements AutoCloseable {

    static final String CONFIG = """
            aws: {region: us-east-1, endpoint: "${AWS_ENDPOINT_URL}"}
            ledger:
              kind: dynamodb
              table: ${LEDGER_TABLE}
              endpoint: ${DYNAMODB_ENDPOINT}
              create-table: true
              ttl: ${LEDGER_TTL:-1h}
            sources:
              work:
                sqs: {queue: "${QUEUE}", max-wait: 2s}
                format: json
                json: {id: /id, type: /type, group: /group}
            sinks:
              api: {type: http, url: "${API_URL}", timeout: "${SINK_TIMEOUT:-60s}", throttle-default: 2s}
            routes:
              - to: [api]
            listener:
              pollers: 2
              concurrency: 16
              lease: ${LEASE:-6s}
              extend-leases: ${EXTEND:-true}
              max-receives: ${MAX_RECEIVES:-5}
              shutdown-deadline: 10s
            metrics: {listen: "127.0.0.1:${METRICS_PORT:-0}"}
            stats-every: 10s
            """;

    record Sent(String id, String group, int seq) {
    }

    final String name;
    final Recorder recorder = new Recorder();
    final Map<String, String> env = new HashMap<>();
    final List<FerryProcess> instances = new ArrayList<>();
    private final Map<FerryProcess, Integer> metricsPorts = new HashMap<>();
    private final LocalSqs sqs;
    private final String queue;
    private final Path config;
    private final List<Sent> sent = new ArrayList<>();
    private final Map<String, Integer> nextSeq = new HashMap<>();
    private final long started = System.nanoTime();
    private final HttpClient http = HttpClient.newHttpClient();

    Scenario(String name, LocalSqs sqs, URI dynamo, Path dir) throws Exception {
        this.name = name;
        this.sqs = sqs;
        this.queue = "rel-" + name + ".fifo";
        sqs.client.createQueue(b -> b.queueName("rel-" + name + "-dlq.fifo").attributes(Map.of(
                software.amazon.awssdk.services.sqs.model.QueueAttributeName.FIFO_QUEUE, "true")));
        this.config = dir.resolve(name + ".yaml");
        Files.writeString(config, CONFIG);
        env.putAll(sqs.env());
        env.put("QUEUE", queue);
        env.put("LEDGER_TABLE", "ledger-" + name);
        env.put("DYNAMODB_ENDPOINT", dynamo.toString());
        env.put("API_URL", recorder.url());
        var created = FerryProcess.run(env, "queues", "create", "--config", config.toString());
        if (created.exitCode() != 0) {
            throw new IllegalStateException("queues create failed: " + created.output());
        }
    }

    FerryProcess start() throws Exception {
        int port;
        try (var probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        var instanceEnv = new HashMap<>(env);
        instanceEnv.put("METRICS_PORT", Integer.toString(port));
        var p = FerryProcess.start(instanceEnv, "run", "--config", config.toString());
        p.awaitLine("listening on 'work'", Duration.ofSeconds(90));
        instances.add(p);
        metricsPorts.put(p, port);
        return p;
    }

    /** {@code count} messages spread round-robin over {@code groups} groups, each group's numbered from 1. */
    void send(int count, int groups) {
        var batch = new ArrayList<Sent>();
        for (int i = 0; i < count; i++) {
            String group = "g-" + (i % groups);
            int seq = nextSeq.merge(group, 1, Integer::sum);
            batch.add(new Sent(name + "-" + group + "-" + seq, group, seq));
            if (batch.size() == 10) {
                sendAll(batch);
                batch.clear();
            }
        }
        sendAll(batch);
    }

    /** The very same payloads again, under new message and deduplication ids. */
    void resend(List<Sent> again) {
        var copies = new ArrayList<>(again);
        for (int i = 0; i < copies.size(); i += 10) {
            var chunk = copies.subList(i, Math.min(copies.size(), i + 10));
            sqs.client.sendMessageBatch(b -> b.queueUrl(sqs.url(queue)).entries(IntStream.range(0, chunk.size())
                    .mapToObj(j -> entry(j, chunk.get(j))).toList()));
        }
    }

    private void sendAll(List<Sent> batch) {
        if (batch.isEmpty()) {
            return;
        }
        var copy = List.copyOf(batch);
        var result = sqs.client.sendMessageBatch(b -> b.queueUrl(sqs.url(queue)).entries(IntStream.range(0, copy.size())
                .mapToObj(j -> entry(j, copy.get(j))).toList()));
        if (!result.failed().isEmpty()) {
            throw new IllegalStateException("send failed: " + result.failed());
        }
        sent.addAll(copy);
    }

    private static SendMessageBatchRequestEntry entry(int index, Sent s) {
        return SendMessageBatchRequestEntry.builder().id("e" + index).messageGroupId(s.group())
                .messageDeduplicationId(UUID.randomUUID().toString())
                .messageBody("{\"id\":\"" + s.id() + "\",\"type\":\"work\",\"group\":\"" + s.group() + "\",\"seq\":" + s.seq() + "}")
                .build();
    }

    List<Sent> sent() {
        return List.copyOf(sent);
    }

    int handled() {
        return recorder.distinctKeys();
    }

    boolean awaitHandled(int count, Duration limit) {
        return Await.until(limit, () -> recorder.distinctKeys() >= count);
    }

    /** A counter of an instance, from its metrics endpoint (0 when unreachable). */
    double metric(FerryProcess instance, String name) {
        try {
            var body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPorts.get(instance)
                    + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            return body.lines().filter(l -> l.startsWith(name + "{")).mapToDouble(l -> Double.parseDouble(
                    l.substring(l.lastIndexOf(' ') + 1))).sum();
        } catch (Exception e) {
            return 0;
        }
    }

    /** Messages dead-lettered so far, by the instances' own count (the DLQ is read only by {@link #row}). */
    int deadLetteredNow() {
        double sum = 0;
        for (var p : instances) {
            sum += metric(p, "ferry_messages_dead_lettered_total");
        }
        return (int) sum;
    }

    /** Drains the DLQ and computes the row: lost, repeats, duplicated effects, inversions. */
    Report.Row row(double recoverSeconds, String notes) {
        var dead = sqs.drain("rel-" + name + "-dlq.fifo", 0, 5);
        var deadIds = new ArrayList<String>();
        var reasons = new TreeMap<String, Integer>();
        for (var m : dead) {
            deadIds.add(m.body().replaceAll(".*\"id\":\"([^\"]*)\".*", "$1"));
            String reason = LocalSqs.reason(m);
            reasons.merge(reason == null ? "?" : reason.replaceAll("[0-9a-f-]{36}", "<id>"), 1, Integer::sum);
        }
        var tally = recorder.tally();
        var first = tally.first();
        int lost = 0;
        for (var s : sent.stream().map(Sent::id).distinct().toList()) {
            if (!first.containsKey(s) && !deadIds.contains(s)) {
                lost++;
            }
        }
        var reasonText = new StringBuilder();
        reasons.forEach((r, n) -> reasonText.append(reasonText.isEmpty() ? "" : "; ").append(n).append("x ").append(r));
        var row = new Report.Row(name, (int) sent.stream().map(Sent::id).distinct().count(), first.size(), lost,
                tally.duplicates(), tally.inversions(), dead.size(), reasonText.toString(), recoverSeconds, (System.nanoTime() - started) / 1e9, notes);
        Report.add(row);
        return row;
    }

    @Override
    public void close() throws Exception {
        for (var p : instances) {
            p.close();
        }
        recorder.close();
    }
}
