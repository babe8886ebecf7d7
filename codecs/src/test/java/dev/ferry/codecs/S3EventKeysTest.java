package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The key of an S3 event without a sequencer (an S3-compatible store's): what tells two events on one object
 * apart. S3 keys live in the scope every source shares, so two events given one key are one: the second is
 * acknowledged as a duplicate, never handled, and nothing says so.
 */
class S3EventKeysTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();

    private static String key(Decoder decoder, String body) {
        var decoded = decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
        assertThat(decoded).as(body).isInstanceOf(Decoded.Events.class);
        return ((Decoded.Events) decoded).events().getFirst().key();
    }

    /** One record: {@code fields} of the record, then of its object ({@code |} between them). */
    private static String record(String fields, int size) {
        var parts = (fields + "|").split("\\|", -1);
        return "{\"Records\":[{" + parts[0] + "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{" + parts[1]
                + "\"key\":\"k\",\"size\":" + size + "}}}]}";
    }

    @Test
    void twoMessagesOnOneObject_withANameOrAnETagButNoTime_areTwoEvents_onBothPaths() {
        // the name alone ("ObjectCreated:Put" for every put) or the content's eTag alone (a put, then a tag change) made
        // one key for every such message: s3:b/k#@ObjectCreated:Put@ — the second dropped as the first's duplicate
        for (var decoder : List.<Decoder>of(new S3Decoder(LIMITS), new S3Decoder(LIMITS).jacksonOnly())) {
            for (var fields : List.of("\"eventName\":\"ObjectCreated:Put\",", "|\"eTag\":\"e1\",",
                    "\"eventName\":\"ObjectCreated:Put\",|\"versionId\":\"v1\",")) {
                var one = record(fields, 1);
                var two = record(fields, 2);
                assertThat(key(decoder, two)).as(fields).isNotEqualTo(key(decoder, one));
                assertThat(key(decoder, one)).as("the same message received again: " + fields).isEqualTo(key(decoder, one));
            }
        }
    }

    @Test
    void withAnEventTime_theKeyIsTheVersionNameAndTime_asBefore() {
        var fields = "\"eventName\":\"ObjectCreated:Put\",\"eventTime\":\"2026-12-03T08:00:00.123Z\",";
        for (var decoder : List.<Decoder>of(new S3Decoder(LIMITS), new S3Decoder(LIMITS).jacksonOnly())) {
            assertThat(key(decoder, record(fields, 1))).isEqualTo("s3:b/k#@ObjectCreated:Put@2026-12-03T08:00:00.123Z")
                    .as("a redelivery with another size is the same event").isEqualTo(key(decoder, record(fields, 2)));
        }
    }
}
