package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The {@code json} decoder under limits far from the defaults: each as it says, none failing every body. */
class JsonPointerLimitsTest {

    private static Decoded decode(JsonLimits limits, String body) {
        return Codecs.json(limits, "/a/b/id", null, null, null, "Event")
                .decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
    }

    @Test // a review: three arrays of maxDepth + 1 per decode; near Integer.MAX_VALUE every body was Malformed
    void aDepthLimitSetVeryHigh_decodesAsTheDefaultsDo() {
        var high = new JsonLimits(1 << 20, Integer.MAX_VALUE, 1 << 18, 64);

        assertThat(decode(high, "{\"a\":{\"b\":{\"id\":\"x\"}}}")).isInstanceOfSatisfying(Decoded.Events.class,
                e -> assertThat(e.events().getFirst().key()).isEqualTo("x"));
    }

    @Test
    void aDocumentNestedPastTheFirstArrays_isReadWhole_andTheLimitStillHolds() {
        var deep = "[".repeat(100) + "]".repeat(100);
        var body = "{\"pad\":" + deep + ",\"a\":{\"b\":{\"id\":\"y\"}}}";

        assertThat(decode(new JsonLimits(1 << 20, 500, 1 << 18, 64), body)).isInstanceOfSatisfying(Decoded.Events.class,
                e -> assertThat(e.events().getFirst().key()).isEqualTo("y"));
        assertThat(decode(new JsonLimits(1 << 20, 50, 1 << 18, 64), body)).isInstanceOf(Decoded.Malformed.class);
    }
}
