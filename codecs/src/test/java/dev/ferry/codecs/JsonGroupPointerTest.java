package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The group a {@code json} source reads at a pointer: one group for one value, however it is written. */
class JsonGroupPointerTest {

    private final dev.ferry.domain.decode.Decoder decoder = Codecs.json(JsonLimits.defaults(), "/id", null, "/account",
            null, "Event");

    private Decoded decode(String body) {
        return decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
    }

    private String group(String body) {
        return ((Decoded.Events) decode(body)).events().getFirst().groupKey();
    }

    @Test
    void aNumberIsOneGroup_howeverItIsWritten_andAContainerIsMalformed() {
        // 1, 1.0 and 1e0 were three groups for one account, and {"n": 1} no group at all: the account's events ran side
        // by side, out of order, with no dead letter and no warning
        assertThat(group("{\"id\":\"a\",\"account\":1}")).isEqualTo("1");
        assertThat(group("{\"id\":\"a\",\"account\":1.0}")).isEqualTo("1");
        assertThat(group("{\"id\":\"a\",\"account\":1e0}")).isEqualTo("1");
        assertThat(group("{\"id\":\"a\",\"account\":10E-1}")).isEqualTo("1");
        assertThat(group("{\"id\":\"a\",\"account\":1.50}")).isEqualTo("1.5");
        assertThat(group("{\"id\":\"a\",\"account\":15e-1}")).isEqualTo("1.5");
        assertThat(group("{\"id\":\"a\",\"account\":1e2}")).isEqualTo("100");
        assertThat(group("{\"id\":\"b\",\"account\":-0}")).isEqualTo("0");
        assertThat(group("{\"id\":\"c\",\"account\":\"acct-1\"}")).isEqualTo("acct-1");
        assertThat(group("{\"id\":\"d\",\"account\":true}")).isEqualTo("true");
        assertThat(group("{\"id\":\"e\"}")).as("no group: unordered, as before").isNull();
        for (var bad : new String[] {"1e999999999", "{\"n\":1}", "[1]"}) {
            assertThat(decode("{\"id\":\"f\",\"account\":" + bad + "}")).as(bad)
                    .isInstanceOfSatisfying(Decoded.Malformed.class, m -> assertThat(m.reason()).contains("/account"));
        }
    }

    /** The group of the one event decoded from a delivery of group "G", as a FIFO queue or a Kafka key gives it. */
    private static String groupInG(dev.ferry.domain.decode.Decoder json, String body) {
        var delivery = new Delivery("msg-1", body.getBytes(StandardCharsets.UTF_8), Map.of(), 1, Instant.EPOCH, "G",
                null, "orders.fifo", null);
        var decoded = json.decode(delivery);
        assertThat(decoded).as(body).isInstanceOf(Decoded.Events.class);
        return ((Decoded.Events) decoded).events().getFirst().groupKey();
    }

    @Test // a review: the events of one FIFO group or Kafka key went to a Kafka sink keyless, spread over partitions
    void withoutAGroupAtThePointer_theEventTakesTheDeliverysGroup_andAGroupFoundWins() {
        var noPointer = Codecs.json(JsonLimits.defaults(), "/id", null, null, null, "Event");
        assertThat(groupInG(noPointer, "{\"id\":\"a\",\"account\":\"acct-1\"}")).as("no group pointer").isEqualTo("G");
        assertThat(groupInG(decoder, "{\"id\":\"b\"}")).as("the field missing").isEqualTo("G");
        assertThat(groupInG(decoder, "{\"id\":\"c\",\"account\":null}")).as("the field null").isEqualTo("G");
        assertThat(groupInG(decoder, "{\"id\":\"d\",\"account\":\"acct-1\"}")).as("the field's value wins")
                .isEqualTo("acct-1");
        assertThat(groupInG(decoder, "{\"id\":\"e\",\"account\":1.0}")).isEqualTo("1");
    }
}
