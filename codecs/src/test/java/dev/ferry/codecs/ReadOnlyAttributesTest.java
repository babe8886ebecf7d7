package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An event's attributes are read-only whichever decoder, and whichever of its paths, made them. */
class ReadOnlyAttributesTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();

    @Test // a review: raw handed out the delivery's own map; a handler's put changed what the engine read of the delivery
    void rawEventsAttributes_areNotTheDeliverysOwnMap() {
        var attributes = new HashMap<>(Map.of("k", "v")); // as the SQS, HTTP and Kafka adapters build them
        var delivery = new Delivery("m-1", "body".getBytes(StandardCharsets.UTF_8), attributes, 1, Instant.EPOCH, null, null,
                "q", null);
        var event = ((Decoded.Events) Codecs.raw().decode(delivery)).events().getFirst();

        assertThat(event.attributes()).containsEntry("k", "v");
        assertThatThrownBy(() -> event.attributes().put("k", "z")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(delivery.attributes()).containsEntry("k", "v");
        // nor the delivery's own, which the handler is given too (a second review: left writable, the same fault)
        assertThatThrownBy(() -> delivery.attributes().put("k", "z")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test // a review: on the Jackson path (an escaped field name) an SNS message's attributes could be changed
    void snsMessageAttributes_areReadOnly_onTheFastPathAndOnJacksons() {
        String attributes = "\"MessageAttributes\":{\"a\":{\"Type\":\"String\",\"Value\":\"v\"}}}";
        for (String type : new String[] {"\"Type\"", "\"\\u0054ype\""}) {
            String body = "{" + type + ":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"t\",\"Message\":\"hi\","
                    + attributes;
            var decoded = Codecs.named("sns", LIMITS).decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
            assertThat(decoded).as(body).isInstanceOf(Decoded.Events.class);
            var event = ((Decoded.Events) decoded).events().getFirst();
            var entry = event.attributes().entrySet().stream().filter(e -> e.getKey().equals("a")).findFirst().orElseThrow();

            assertThat(entry.getValue()).isEqualTo("v");
            assertThatThrownBy(() -> entry.setValue("x")).as(body).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> event.attributes().put("b", "y")).as(body).isInstanceOf(UnsupportedOperationException.class);
        }
    }
}
