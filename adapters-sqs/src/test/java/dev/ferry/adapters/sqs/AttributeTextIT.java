package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.PollRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * Attributes SQS refuses as String attributes, through an SQS sink and back through Ferry's SQS source, on ElasticMQ
 * (which refuses the same characters SQS does). docs/RELIABILITY.md, nineteenth round, noticed and left: an S3
 * object key with a control character made an {@code objectKey} attribute the SQS sink rejected — the event
 * dead-lettered, and again on every redrive — while Kafka and HTTP sinks carried it.
 */
@ExtendWith(ElasticMq.class)
class AttributeTextIT {

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private SqsFixture queue(boolean fifo) {
        var q = SqsFixture.create(ElasticMq.client(), fifo, 1000);
        opened.add(q);
        return q;
    }

    private static Event event(String key, String group, Map<String, String> attributes) {
        return new Event(key, "s3:ObjectCreated:Put", null, group, "{\"Records\":[]}".getBytes(StandardCharsets.UTF_8),
                attributes);
    }

    /** What the source hands out of the queue, waited for up to 10 s. */
    private static Delivery received(SqsFixture q) {
        var got = new ArrayList<Delivery>();
        assertThat(Await.until(Duration.ofSeconds(10), () -> {
            got.addAll(q.source().poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(30))));
            return !got.isEmpty();
        })).as("a message in the queue").isTrue();
        assertThat(q.source().stats().md5Mismatches()).as("its attributes' MD5 as SQS computed it").isZero();
        return got.getFirst();
    }

    @Test
    void anAttributeWithAControlCharacter_goesThroughAnSqsSink_andComesBackTheSame() {
        var q = queue(false);
        var sink = SqsSink.builder(ElasticMq.client(), q.url).build();
        opened.add(sink);
        var attributes = Map.of("objectKey", "uploads/a\u0001b.csv", "bucket", "in", "note", "tab\tand \uFFFE");

        assertThat(sink.publish(event("k1", null, attributes))).isEqualTo(Outcome.done());

        // what other consumers of the queue see: the value's UTF-8 bytes, marked as Ferry's (received with no
        // visibility timeout, so that the source receives it next)
        List<Message> raw = q.client.receiveMessage(b -> b.queueUrl(q.url).messageAttributeNames("All").visibilityTimeout(0)
                .waitTimeSeconds(5)).messages();
        assertThat(raw).hasSize(1);
        var sent = raw.getFirst().messageAttributes();
        assertThat(sent.get("objectKey").dataType()).isEqualTo("Binary.ferry-utf8");
        assertThat(sent.get("objectKey").binaryValue().asUtf8String()).isEqualTo("uploads/a\u0001b.csv");
        assertThat(sent.get("note").dataType()).isEqualTo(AttributeText.TYPE);
        assertThat(sent.get("bucket").dataType()).as("text SQS takes stays a String").isEqualTo("String");
        assertThat(sent.get("bucket").stringValue()).isEqualTo("in");

        assertThat(received(q).attributes()).containsAllEntriesOf(attributes);
    }

    @Test
    void aNameSqsRefuses_withAControlCharacterInIt_isFoldedAndComesBackByItsName_notRejected() {
        // a name SQS refuses is folded into ferry.overflow; one with a control character made the fold itself
        // text SQS refuses, and the event was rejected
        var q = queue(false);
        var sink = SqsSink.builder(ElasticMq.client(), q.url).build();
        opened.add(sink);
        var attributes = Map.of("x\u0001y", "plain", "bad name", "a\u0002b", "ok", "fine");

        assertThat(sink.publish(event("k2", null, attributes))).isEqualTo(Outcome.done());

        var d = received(q);
        assertThat(d.attributes()).containsAllEntriesOf(attributes).doesNotContainKey(MessageAttributes.OVERFLOW);
    }

    @Test
    void aBinaryAttributeOfTheProducersOwn_staysBytesInBase64_onlyFerrysTypeIsReadAsText() {
        var q = queue(false);
        byte[] bytes = "not \u0001 ours".getBytes(StandardCharsets.UTF_8);
        q.client.sendMessage(b -> b.queueUrl(q.url).messageBody("body").messageAttributes(Map.of(
                "plain", MessageAttributeValue.builder().dataType("Binary").binaryValue(SdkBytes.fromByteArray(bytes)).build(),
                "custom", MessageAttributeValue.builder().dataType("Binary.utf8").binaryValue(SdkBytes.fromByteArray(bytes))
                        .build())));

        String base64 = java.util.Base64.getEncoder().encodeToString(bytes);
        assertThat(received(q).attributes()).containsEntry("plain", base64).containsEntry("custom", base64);
    }
}
