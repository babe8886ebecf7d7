package dev.ferry.app;

import com.fasterxml.jackson.core.JsonFactory;
import dev.ferry.adapters.http.HttpSourceConfig;
import dev.ferry.adapters.http.IngestAuth;
import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.app.config.FerryConfig;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code ferry send-test-event}: a well-formed sample in a source's format (an MTurk {@code Ping}
 * document, an {@code s3:TestEvent}, a JSON document with the configured pointers filled in), put
 * where the source reads — like MTurk's SendTestEventNotification — for the HTTP and Kafka sources;
 * {@link Operations} puts it on SQS queues.
 */
final class TestEvents {

    private static final JsonFactory JSON = new JsonFactory();

    private TestEvents() {
    }

    /** The sample body for the source's format. */
    static String body(FerryConfig.SourceSpec source) {
        String now = Instant.now().toString();
        String id = UUID.randomUUID().toString();
        if (source.json() != null) {
            var p = source.json();
            var doc = new LinkedHashMap<String, Object>();
            put(doc, p.id(), "ferry-test-" + id);
            if (p.type() != null) {
                put(doc, p.type(), "Ping");
            }
            if (p.group() != null) {
                put(doc, p.group(), "ferry-test");
            }
            if (p.time() != null) {
                put(doc, p.time(), now);
            }
            return render(doc);
        }
        String mturk = "{\"EventDocVersion\":\"2014-08-15\",\"EventDocId\":\"" + id + "\",\"CustomerId\":\"FERRY-TEST\","
                + "\"Events\":[{\"EventType\":\"Ping\",\"EventTimestamp\":\"" + now + "\"}]}";
        String s3 = "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Time\":\"" + now
                + "\",\"Bucket\":\"ferry-test\",\"RequestId\":\"" + id + "\",\"HostId\":\"ferry\"}";
        return switch (source.format()) {
            case "mturk", "auto" -> mturk;
            case "s3" -> s3;
            // #16: an SNS source gets what SNS delivers: a Notification wrapping a sample its inner format accepts
            case "sns", "sns+mturk" -> sns(mturk, id, now);
            case "sns+s3" -> sns(s3, id, now);
            default -> "{\"id\":\"" + id + "\",\"type\":\"Ping\",\"time\":\"" + now + "\"}";
        };
    }

    /** An SNS Notification envelope around {@code message}, as SNS delivers it to SQS. */
    private static String sns(String message, String id, String now) {
        return "{\"Type\":\"Notification\",\"MessageId\":\"" + id + "\",\"TopicArn\":\"arn:aws:sns:us-east-1:000000000000:"
                + "ferry-test\",\"Subject\":\"ferry send-test-event\",\"Message\":\""
                + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\",\"Timestamp\":\"" + now + "\"}";
    }

    /** Sets the value at a JSON Pointer such as {@code /order/id}, making the objects on the way. */
    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> doc, String pointer, String value) {
        var parts = pointer.substring(1).split("/");
        Map<String, Object> at = doc;
        for (int i = 0; i < parts.length - 1; i++) {
            at = (Map<String, Object>) at.computeIfAbsent(unescape(parts[i]), k -> new LinkedHashMap<String, Object>());
        }
        at.put(unescape(parts[parts.length - 1]), value);
    }

    private static String unescape(String segment) {
        return segment.replace("~1", "/").replace("~0", "~");
    }

    @SuppressWarnings("unchecked")
    private static String render(Map<String, Object> doc) {
        var out = new StringWriter();
        try (var g = JSON.createGenerator(out)) {
            writeObject(g, doc);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static void writeObject(com.fasterxml.jackson.core.JsonGenerator g, Map<String, Object> map) throws IOException {
        g.writeStartObject();
        for (var e : map.entrySet()) {
            g.writeFieldName(e.getKey());
            if (e.getValue() instanceof Map<?, ?> nested) {
                writeObject(g, (Map<String, Object>) nested);
            } else {
                g.writeString((String) e.getValue());
            }
        }
        g.writeEndObject();
    }

    /** What an HTTP source answered a test event: its status and body. */
    record Answer(int status, String body) {
        boolean accepted() {
            return status / 100 == 2;
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    /**
     * Where a test event goes: the source's address, a wildcard one (listening on every interface) as the
     * loopback, and an IPv6 literal in brackets.
     */
    static URI address(HttpSourceConfig http) {
        return URI.create((http.tlsKeystore() != null ? "https://" : "http://") + Loopback.uriHost(http.host()) + ":"
                + http.port() + http.path());
    }

    /** POSTs the sample to an HTTP source, signed or with its token; returns the answer. */
    static Answer post(HttpSourceConfig http, String body) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(address(http))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        switch (http.auth()) {
            case IngestAuth.Bearer bearer -> request.header("Authorization", "Bearer " + bearer.token());
            case IngestAuth.HmacSha256 hmac -> {
                // signed over the timestamp, method, path, (no) Idempotency-Key and X-Ferry-Group, and body
                long now = Instant.now().getEpochSecond();
                request.header(IngestAuth.HmacSha256.TIMESTAMP_HEADER, Long.toString(now))
                        .header(hmac.header(), hmac.sign(now, "POST", http.path(), null, null, body.getBytes(StandardCharsets.UTF_8)));
            }
            case IngestAuth.None none -> { }
        }
        try (var client = HttpClient.newHttpClient()) {
            var response = AskRunningFerry.send(client, request.build());
            return new Answer(response.statusCode(), response.body());
        }
    }

    /** Produces the sample to the Kafka source's first topic; returns partition@offset. */
    static String produce(KafkaSourceConfig kafka, String body) throws Exception {
        var config = new LinkedHashMap<String, Object>(kafka.properties());
        config.put("bootstrap.servers", kafka.bootstrapServers());
        config.put("acks", "all");
        try (var producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            var meta = producer.send(new ProducerRecord<>(kafka.topics().getFirst(), "ferry-test", body)).get(60, TimeUnit.SECONDS);
            return kafka.topics().getFirst() + " partition " + meta.partition() + " offset " + meta.offset();
        }
    }
}
