package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * Every body under resources/malformed (made by src/test/corpus/make_malformed.py) is refused with
 * a reason that names the field or the offset; nothing throws, nothing hangs.
 */
class MalformedCorpusTest {

    static final JsonLimits LIMITS = JsonLimits.defaults();

    static final Map<String, Decoder> DECODERS = Map.of(
            "s3", Codecs.s3(LIMITS),
            "mturk", Codecs.mturk(LIMITS),
            "sns", Codecs.named("sns", LIMITS),
            "json", Codecs.json(LIMITS, "/id", "/type", "/group", "/time", "json"));

    static Stream<String[]> manifest() {
        var text = new String(Samples.bytes("malformed/manifest.tsv"), StandardCharsets.UTF_8);
        return text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> l.split("\t"));
    }

    @Test
    void theCorpusHasAtLeastAHundredCases() {
        assertThat(manifest().count()).isGreaterThanOrEqualTo(100);
    }

    @TestFactory
    @Timeout(60)
    Stream<DynamicTest> everyMalformedBody_isRefusedWithItsReason() {
        return manifest().map(row -> DynamicTest.dynamicTest(row[0], () -> {
            var decoder = DECODERS.get(row[1]);
            assertThat(decoder).as("decoder " + row[1]).isNotNull();
            var decoded = decoder.decode(Samples.delivery(Samples.bytes("malformed/" + row[0])));
            assertThat(decoded).as(row[0]).isInstanceOf(Decoded.Malformed.class);
            assertThat(((Decoded.Malformed) decoded).reason()).as(row[0]).contains(row[2]);
        }));
    }
}
