package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Jackson's factory keeps the field names of every body it parsed, to share them with the next parse (until 6,000 of
 * them): each decoder reuses one factory for its life. Bodies of distinct long names (49,000 characters, under
 * Jackson's own limit of 50,000) left about 2 MB each behind — hundreds of MB held, every later parse copying the
 * store once per new name, until a container's heap ran out on whichever message was decoding then. A decoder keeps
 * nothing of a body once it is decoded now.
 */
class FieldNameRetentionTest {

    private static final int BODIES = 60;
    /** 60 bodies of 20 distinct 49,000-character names kept about 120 MB; what is left now is noise. */
    private static final long AT_MOST_KEPT = 32L << 20;

    @Test
    void auto_keepsNoFieldNamesOfTheBodiesItDecoded() {
        var auto = Codecs.named("auto", JsonLimits.defaults());
        assertThat(keptAfterDecoding(auto, "auto")).isLessThan(AT_MOST_KEPT);
    }

    @Test
    void json_keepsNoFieldNamesOfTheBodiesItDecoded() {
        var json = Codecs.json(JsonLimits.defaults(), "/id", null, null, null, "Event");
        assertThat(keptAfterDecoding(json, "json")).isLessThan(AT_MOST_KEPT);
    }

    /** The heap still in use (bytes) after {@code decoder} decoded the bodies, against before, the decoder kept alive. */
    private static long keptAfterDecoding(Decoder decoder, String format) {
        long before = usedAfterGc();
        for (int body = 0; body < BODIES; body++) {
            var decoded = decoder.decode(Samples.delivery(longNames(body).getBytes(StandardCharsets.UTF_8)));
            assertThat(decoded).as("%s: a body of long names decodes (raw, or refused for its missing id)", format)
                    .isInstanceOfAny(Decoded.Events.class, Decoded.Malformed.class);
        }
        long kept = usedAfterGc() - before;
        assertThat(decoder).isNotNull(); // alive to here: what it holds is counted
        return kept;
    }

    /** {"id":"n","<49,000 characters, distinct>":0, … 20 of them}. */
    private static String longNames(int body) {
        var json = new StringBuilder("{\"id\":\"").append(body).append('"');
        for (int name = 0; name < 20; name++) {
            String prefix = body + "-" + name + "-";
            json.append(",\"").append(prefix).append("n".repeat(49_000 - prefix.length())).append("\":0");
        }
        return json.append('}').toString();
    }

    private static long usedAfterGc() {
        var runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }
}
