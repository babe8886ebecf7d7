package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.FerryConfig;
import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TestEventsTest {

    @ParameterizedTest // #16 (18): `ferry send-test-event` must never send what Ferry itself dead-letters
    @ValueSource(strings = {"auto", "s3", "mturk", "sns", "sns+s3", "sns+mturk", "raw"})
    void everyFormatsSample_isAcceptedByThatFormat(String format) {
        var source = new FerryConfig.SourceSpec("s", "sqs", null, format, null, null);
        var body = TestEvents.body(source).getBytes(StandardCharsets.UTF_8);
        var delivery = new Delivery("m-1", body, Map.of(), 1, Instant.now(), null, null, "s", null);
        var decoded = Codecs.named(format, JsonLimits.defaults()).decode(delivery);
        assertThat(decoded).as(format + ": " + new String(body, StandardCharsets.UTF_8)).isInstanceOf(Decoded.Events.class);
        assertThat(((Decoded.Events) decoded).events()).isNotEmpty();
    }
}
