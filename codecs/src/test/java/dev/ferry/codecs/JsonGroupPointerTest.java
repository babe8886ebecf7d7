package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import java.nio.charset.StandardCharsets;
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
}
