package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An S3-compatible store that writes its identifiers empty ({@code "sequencer": ""}, {@code "versionId": ""},
 * {@code "eTag": ""}) gave every event of an object one key — {@code s3:b/k#} — and every event after the
 * first of that object, in every source (the format's keys share one scope), was dropped as a duplicate.
 * An empty identifier is no identifier: the key falls back as for a missing one.
 */
class S3EmptyIdentifiersTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();

    @Test
    void emptyIdentifiers_areNoIdentifiers_onTheFastPathAndOnJacksons() {
        String body = """
                {"Records": [
                  {"eventName": "ObjectCreated:Put", "eventTime": "2026-12-02T10:00:00Z",
                   "s3": {"bucket": {"name": "b"}, "object": {"key": "k", "sequencer": "", "versionId": "", "eTag": ""}}},
                  {"eventName": "ObjectRemoved:Delete", "eventTime": "2026-12-02T10:00:01Z",
                   "s3": {"bucket": {"name": "b"}, "object": {"key": "k", "sequencer": "", "versionId": "", "eTag": ""}}}
                ]}""";
        for (Decoder decoder : List.of(new S3Decoder(LIMITS), new S3Decoder(LIMITS).jacksonOnly())) {
            var events = events(decoder, body);
            assertThat(events).hasSize(2);
            assertThat(events.get(0).key()).as("%s", decoder).isNotEqualTo(events.get(1).key())
                    .doesNotEndWith("#");
        }
        assertThat(events(new S3Decoder(LIMITS), body)).extracting(Event::key)
                .isEqualTo(events(new S3Decoder(LIMITS).jacksonOnly(), body).stream().map(Event::key).toList());
    }

    private static List<Event> events(Decoder decoder, String body) {
        var delivery = new Delivery("m-1", body.getBytes(StandardCharsets.UTF_8), Map.of(), 1, Instant.EPOCH, null, null,
                "q", null);
        var decoded = decoder.decode(delivery);
        assertThat(decoded).as(String.valueOf(decoded)).isInstanceOf(Decoded.Events.class);
        return ((Decoded.Events) decoded).events();
    }
}
