package dev.ferry.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.FerryProcess;
import dev.ferry.app.LocalSqs;
import dev.ferry.domain.testing.Await;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * #9, bad input: the codecs' malformed corpus pushed through real SQS queues into a running
 * {@code ferry.jar}, each body to a source of the decoder it was written for. Every message SQS
 * accepts is dead-lettered with a reason; nothing reaches the sink; the process stays healthy and
 * handles a good message afterwards.
 */
class BadInputIT {

    private static final Path CORPUS = Path.of("../codecs/src/test/resources/malformed");
    private static final int SQS_MAX_BYTES = 256 * 1024;
    private static final String CONFIG = """
            aws: {region: us-east-1, endpoint: "${AWS_ENDPOINT_URL}"}
            ledger: {kind: memory}
            sources:
              s3: {sqs: {queue: bad-s3, max-wait: 1s}, format: s3}
              mturk: {sqs: {queue: bad-mturk, max-wait: 1s}, format: mturk}
              sns: {sqs: {queue: bad-sns, max-wait: 1s}, format: sns}
              json:
                sqs: {queue: bad-json, max-wait: 1s}
                format: json
                json: {id: /id, type: /type, group: /group, time: /time}
              s3-http: {http: {listen: "127.0.0.1:${P_S3}", auth: none, max-body-bytes: 1048576}, format: s3}
              mturk-http: {http: {listen: "127.0.0.1:${P_MTURK}", auth: none}, format: mturk}
              sns-http: {http: {listen: "127.0.0.1:${P_SNS}", auth: none}, format: sns}
              json-http:
                http: {listen: "127.0.0.1:${P_JSON}", auth: none}
                format: json
                json: {id: /id, type: /type, group: /group, time: /time}
            sinks:
              api: {type: http, url: "${API_URL}"}
            routes:
              - to: [api]
            unmatched: dead-letter
            listener: {lease: 10s, max-receives: 3}
            metrics: {listen: "127.0.0.1:${METRICS_PORT}"}
            """;

    /** What SQS takes as a message body: XML characters only, and the bytes must survive as UTF-8 text. */
    static boolean sqsCarriesIntact(byte[] body) {
        if (body.length == 0 || body.length > SQS_MAX_BYTES) {
            return false;
        }
        String text = new String(body, StandardCharsets.UTF_8);
        if (!Arrays.equals(text.getBytes(StandardCharsets.UTF_8), body)) {
            return false;
        }
        return text.codePoints().allMatch(c -> c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
                || (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000);
    }

    @Test
    void theMalformedCorpus_throughRealQueues_isDeadLetteredWithReasons_andTheListenerStaysHealthy(@TempDir Path dir)
            throws Exception {
        var manifest = Files.readAllLines(CORPUS.resolve("manifest.tsv")).stream()
                .filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> l.split("\t")).toList();
        assertThat(manifest).hasSizeGreaterThanOrEqualTo(100);
        long started = System.nanoTime();
        try (var sqs = new LocalSqs(); var recorder = new Recorder()) {
            var config = dir.resolve("bad-input.yaml");
            Files.writeString(config, CONFIG);
            int metricsPort;
            try (var probe = new ServerSocket(0)) {
                metricsPort = probe.getLocalPort();
            }
            var env = new HashMap<>(sqs.env());
            env.put("API_URL", recorder.url());
            env.put("METRICS_PORT", Integer.toString(metricsPort));
            var httpPorts = new HashMap<String, Integer>();
            for (String format : List.of("s3", "mturk", "sns", "json")) {
                try (var probe = new ServerSocket(0)) {
                    httpPorts.put(format, probe.getLocalPort());
                }
                env.put("P_" + format.toUpperCase(java.util.Locale.ROOT), Integer.toString(httpPorts.get(format)));
            }
            assertThat(FerryProcess.run(env, "queues", "create", "--config", config.toString()).exitCode()).isZero();
            try (var ferry = FerryProcess.start(env, "run", "--config", config.toString())) {
                ferry.awaitLine("listening on 'json-http'", Duration.ofSeconds(90));
                int sent = 0;
                int notCarried = 0;
                var overHttp = new java.util.ArrayList<String[]>();
                var expected = new HashMap<String, String>();
                for (var row : manifest) {
                    byte[] body = Files.readAllBytes(CORPUS.resolve(row[0]));
                    if (!sqsCarriesIntact(body)) {
                        notCarried++;
                        overHttp.add(row);
                        continue;
                    }
                    String text = new String(body, StandardCharsets.UTF_8);
                    sqs.client.sendMessage(b -> b.queueUrl(sqs.url("bad-" + row[1])).messageBody(text)
                            .messageAttributes(Map.of("corpus-file", software.amazon.awssdk.services.sqs.model
                                    .MessageAttributeValue.builder().dataType("String").stringValue(row[0]).build())));
                    expected.put(row[0], row[2]);
                    sent++;
                }
                int total = sent;
                var dead = new java.util.ArrayList<software.amazon.awssdk.services.sqs.model.Message>();
                assertThat(Await.until(Duration.ofSeconds(120), () -> {
                    for (String q : List.of("bad-s3-dlq", "bad-mturk-dlq", "bad-sns-dlq", "bad-json-dlq")) {
                        dead.addAll(sqs.drain(q, 0, 1));
                    }
                    return dead.size() >= total;
                })).as("dead-lettered %d of %d", dead.size(), total).isTrue();

                int reasonsMatching = 0;
                for (var m : dead) {
                    String file = m.messageAttributes().get("corpus-file").stringValue();
                    String reason = LocalSqs.reason(m);
                    assertThat(reason).as(file).isNotBlank();
                    if (reason.contains(expected.get(file))) {
                        reasonsMatching++;
                    }
                }
                // what SQS cannot carry goes to the HTTP source of its format, as raw bytes
                var http = HttpClient.newHttpClient();
                var statuses = new java.util.TreeMap<Integer, Integer>();
                for (var row : overHttp) {
                    var response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts.get(row[1])
                            + "/events")).timeout(Duration.ofSeconds(60))
                            .POST(HttpRequest.BodyPublishers.ofFile(CORPUS.resolve(row[0]))).build(),
                            HttpResponse.BodyHandlers.ofString());
                    statuses.merge(response.statusCode(), 1, Integer::sum);
                    assertThat(response.statusCode()).as(row[0] + ": " + response.body()).isIn(400, 413, 422);
                    assertThat(response.body()).as(row[0]).containsAnyOf("\"reason\"", "\"error\"");
                }
                assertThat(recorder.effects()).as("nothing malformed reaches the sink").isEmpty();

                var health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort
                        + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).isEqualTo(200);
                sqs.send("bad-json", "{\"id\":\"good-1\",\"type\":\"ok\",\"group\":\"g\",\"seq\":1}");
                assertThat(Await.until(Duration.ofSeconds(30), () -> recorder.distinctKeys() == 1)).isTrue();
                assertThat(ferry.isAlive()).isTrue();

                Report.add(new Report.Row("bad-input", manifest.size(), 1, 0, 0, 0, dead.size(),
                        reasonsMatching + " of " + dead.size() + " with the corpus's expected reason, every one with a reason",
                        -1, (System.nanoTime() - started) / 1e9, "the codecs' " + manifest.size() + " malformed bodies: "
                        + total + " through SQS to the source of their format (all dead-lettered), the " + notCarried
                        + " SQS cannot carry as they are (over 256 KiB, invalid UTF-8, control characters) POSTed as bytes "
                        + "to an HTTP source of their format, each refused with its reason (statuses " + statuses
                        + "); afterwards /health/ready 200 and a good message handled"));
                assertThat(dead).hasSize(total);
            }
        }
    }
}
