package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A Kafka record without a value (a tombstone: a delete in a compacted topic) comes with an empty body and the
 * attribute {@code kafka.tombstone}, whose value instance a Kafka sink recognises. Under the JSON formats it was
 * refused as an empty body: dead-lettered (its key parked under {@code on-poison: park}), the delete never passed on.
 */
class KafkaTombstoneTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();

    /** Like the Kafka source's mark: "true", an instance of its own. */
    @SuppressWarnings("StringOperationCanBeSimplified")
    private static final String MARK = new String("true");

    /** Every decoder of the JSON family, as the factories build them, and the type a tombstone gets from each. */
    private static Map<String, Decoder> decoders() {
        var all = new java.util.LinkedHashMap<String, Decoder>();
        all.put("json", Codecs.json(LIMITS, "/id", "/type", "/account", null, "order"));
        for (var format : new String[] {"s3", "mturk", "sns", "sns+s3", "sns+mturk"}) {
            all.put(format, Codecs.named(format, LIMITS));
        }
        all.put("s3 (Codecs.s3)", Codecs.s3(LIMITS));
        all.put("mturk (Codecs.mturk)", Codecs.mturk(LIMITS));
        all.put("sns around json", Codecs.sns(LIMITS, Codecs.json(LIMITS, "/id", null, null, null, "order")));
        return all;
    }

    private static Delivery delivery(byte[] body, Map<String, String> attributes, String deduplicationId) {
        return new Delivery("orders-0@7", body, attributes, 1, Instant.parse("2026-12-03T08:00:00Z"), "k",
                deduplicationId, "orders", null);
    }

    private static Map<String, String> tombstone() {
        var attributes = new HashMap<String, String>();
        attributes.put("kafka.topic", "orders");
        attributes.put("kafka.tombstone", MARK);
        return attributes;
    }

    @Test
    void anEmptyBodyMarkedAsATombstone_isOneEmptyEvent_carryingTheMarkItself_underEveryJsonFormat() {
        for (var entry : decoders().entrySet()) {
            var attributes = tombstone();
            var decoded = entry.getValue().decode(delivery(new byte[0], attributes, "orders-0@7/3/1733212800000"));

            assertThat(decoded).as(entry.getKey()).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events()).singleElement().satisfies(event -> {
                        assertThat(event.payload()).isEmpty();
                        assertThat(event.groupKey()).isEqualTo("k");
                        assertThat(event.key()).as("keyed as the raw decoder keys it").isEqualTo("orders-0@7/3/1733212800000");
                        assertThat(event.type()).isEqualTo(entry.getKey().contains("json") ? "order" : "raw");
                        assertThat(event.attributes().get("kafka.tombstone")).as("the mark, not a copy").isSameAs(MARK);
                        assertThat(event.attributes()).containsEntry("kafka.topic", "orders");
                    }));
        }
    }

    @Test
    void withoutADeduplicationId_theTombstoneIsKeyedByTheMessageId_asRawIs() {
        var delivery = delivery(new byte[0], tombstone(), null);
        var raw = ((Decoded.Events) Codecs.named("raw", LIMITS).decode(delivery)).events().getFirst();
        for (var entry : decoders().entrySet()) {
            var decoded = entry.getValue().decode(delivery);
            assertThat(decoded).as(entry.getKey()).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events().getFirst().key()).isEqualTo("orders-0@7").isEqualTo(raw.key()));
        }
    }

    @Test
    void anEmptyBodyWithoutTheMark_isStillMalformed_andABodyWithTheMarkIsReadAsBefore() {
        for (var entry : decoders().entrySet()) {
            var decoder = entry.getValue();
            assertThat(decoder.decode(delivery(new byte[0], Map.of("kafka.topic", "orders"), null))).as(entry.getKey())
                    .isInstanceOfSatisfying(Decoded.Malformed.class, m -> assertThat(m.reason()).contains("empty body"));
        }
        // only an empty body is a tombstone: a document with the attribute is read as a document
        var json = Codecs.json(LIMITS, "/id", null, null, null, "order");
        var body = "{\"id\":\"o-1\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(json.decode(delivery(body, tombstone(), null))).isInstanceOfSatisfying(Decoded.Events.class,
                e -> assertThat(e.events().getFirst().key()).isEqualTo("o-1"));
        for (var format : new String[] {"s3", "mturk", "sns+s3"}) {
            assertThat(Codecs.named(format, LIMITS).decode(delivery(" ".getBytes(StandardCharsets.UTF_8), tombstone(), null)))
                    .as(format).isInstanceOf(Decoded.Malformed.class);
        }
    }
}
