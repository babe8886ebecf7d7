package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What the SNS decoder refuses, and what it takes as its inner decoder's failure. */
class SnsLimitsTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();

    private static byte[] envelope(int attributes, int events) {
        var body = new StringBuilder("{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\"");
        body.append(",\"MessageAttributes\":{");
        for (int i = 0; i < attributes; i++) {
            body.append(i == 0 ? "" : ",").append("\"a").append(i).append("\":{\"Type\":\"String\",\"Value\":\"v\"}");
        }
        body.append("},\"Message\":\"{\\\"EventDocId\\\":\\\"d\\\",\\\"Events\\\":[");
        for (int i = 0; i < events; i++) {
            body.append(i == 0 ? "" : ",").append("{\\\"EventType\\\":\\\"Ping\\\",\\\"EventTimestamp\\\":\\\"2026-01-01T00:00:00Z\\\"}");
        }
        return body.append("]}\"}").toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test // every inner event carries the envelope's attributes: 20,000 of them on 5,000 events were 10^8 for each sink
    void moreMessageAttributesThanSnsSends_isMalformed_sayingSo() {
        var decoder = Codecs.sns(LIMITS, Codecs.mturk(LIMITS));

        var refused = decoder.decode(Samples.delivery(envelope(SnsDecoder.MAX_MESSAGE_ATTRIBUTES + 1, 2)));

        assertThat(refused).isInstanceOfSatisfying(Decoded.Malformed.class,
                m -> assertThat(m.reason()).contains("MessageAttributes").contains("at most 10"));
        var taken = decoder.decode(Samples.delivery(envelope(SnsDecoder.MAX_MESSAGE_ATTRIBUTES, 2)));
        assertThat(taken).isInstanceOfSatisfying(Decoded.Events.class, e -> {
            assertThat(e.events()).hasSize(2);
            assertThat(e.events().getFirst().attributes()).containsEntry("a99", "v");
        });
    }

    @Test // a null from the inner decoder is its failure, as a throw is: not dead-lettered as the body's, asked once
    void anInnerDecoderThatReturnsNull_isItsFailure_askedOnce() {
        var calls = new AtomicInteger();
        Decoder none = d -> {
            calls.incrementAndGet();
            return null;
        };
        var body = ("{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
                + "\"Message\":\"hello\"}").getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> Codecs.sns(LIMITS, none).decode(Samples.delivery(body)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("returned null");
        assertThat(calls).hasValue(1);

        calls.set(0); // raw delivery, no envelope: the same
        assertThatThrownBy(() -> Codecs.sns(LIMITS, none).decode(Samples.delivery("{\"a\":1}".getBytes(StandardCharsets.UTF_8))))
                .isInstanceOf(IllegalStateException.class);
        assertThat(calls).hasValue(1);
    }
}
