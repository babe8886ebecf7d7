package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;
import java.util.function.IntFunction;
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
    /** UTF-16 bodies of 10 such names (980,000 bytes, under the 1 MiB limit): 200 of them kept about 98 MB. */
    private static final int UTF16_BODIES = 200;
    /** SNS Notifications of 3 names of 38,000 characters in a UTF-16 Message: 500 of them kept about 57 MB. */
    private static final int SNS_BODIES = 500;

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

    /**
     * A body whose first bytes hold a NUL is read by Jackson as UTF-16, its names kept in the factory's store of
     * characters, which the bound did not count: the sniffer parses before any UTF-8 check, and a Kafka record may be
     * any bytes. What it decodes to is what it was: the raw fallback's event.
     */
    @Test
    void auto_keepsNoFieldNamesOfUtf16Bodies() {
        var auto = Codecs.named("auto", JsonLimits.defaults());
        var raw = Codecs.raw();
        long kept = keptAfterDecoding(auto, UTF16_BODIES,
                body -> longNames(body, 10, 49_000).getBytes(StandardCharsets.UTF_16LE), (delivery, decoded) ->
                        // Events: a body past the limit is never parsed, and would keep nothing without the fix either
                        assertThat(decoded).as("a UTF-16 body goes to the raw fallback, as it did")
                                .isInstanceOf(Decoded.Events.class).isEqualTo(raw.decode(delivery)));
        assertThat(kept).isLessThan(AT_MOST_KEPT);
    }

    /**
     * The same through SNS: a UTF-8 envelope whose Message holds escaped NULs hands its inner sniffer UTF-16 bytes.
     * What it decodes to is what it was: the raw fallback's event with the envelope's attributes.
     */
    @Test
    void auto_keepsNoFieldNamesOfUtf16SnsMessages() {
        var auto = Codecs.named("auto", JsonLimits.defaults());
        var snsOverRaw = Codecs.sns(JsonLimits.defaults(), Codecs.raw());
        BiConsumer<Delivery, Decoded> asBefore = (delivery, decoded) -> {
            assertThat(decoded).as("the Message goes to the raw fallback, the envelope's attributes added, as it did")
                    .isInstanceOf(Decoded.Events.class).isEqualTo(snsOverRaw.decode(delivery));
            assertThat(((Decoded.Events) decoded).events().getFirst().payload()).as("the Message's bytes are UTF-16")
                    .startsWith((byte) '{', (byte) 0, (byte) '"', (byte) 0);
        };
        long kept = keptAfterDecoding(auto, SNS_BODIES, FieldNameRetentionTest::utf16Notification, asBefore);
        assertThat(kept).isLessThan(AT_MOST_KEPT);
    }

    /** The heap still in use (bytes) after {@code decoder} decoded the bodies, against before, the decoder kept alive. */
    private static long keptAfterDecoding(Decoder decoder, String format) {
        return keptAfterDecoding(decoder, BODIES, body -> longNames(body, 20, 49_000).getBytes(StandardCharsets.UTF_8),
                (delivery, decoded) -> assertThat(decoded)
                        .as("%s: a body of long names decodes (raw, or refused for its missing id)", format)
                        .isInstanceOfAny(Decoded.Events.class, Decoded.Malformed.class));
    }

    /** The same for {@code bodies} bodies made by {@code body}, each delivery's answer checked by {@code check}. */
    private static long keptAfterDecoding(Decoder decoder, int bodies, IntFunction<byte[]> body,
                                          BiConsumer<Delivery, Decoded> check) {
        long before = usedAfterGc();
        for (int i = 0; i < bodies; i++) {
            var delivery = Samples.delivery(body.apply(i));
            check.accept(delivery, decoder.decode(delivery));
        }
        long kept = usedAfterGc() - before;
        assertThat(decoder).isNotNull(); // alive to here: what it holds is counted
        return kept;
    }

    /** {"id":"n","<{@code length} characters, distinct>":0, … {@code names} of them}. */
    private static String longNames(int body, int names, int length) {
        var json = new StringBuilder("{\"id\":\"").append(body).append('"');
        for (int name = 0; name < names; name++) {
            String prefix = body + "-" + name + "-";
            json.append(",\"").append(prefix).append("n".repeat(length - prefix.length())).append("\":0");
        }
        return json.append('}').toString();
    }

    /**
     * An SNS Notification whose Message is {@link #longNames} in UTF-16LE: each character followed by an escaped NUL.
     * About 800 KB, a Message of 228,000 characters: under the 1 MiB and 256 KiB limits.
     */
    private static byte[] utf16Notification(int body) {
        var message = new StringBuilder();
        for (char c : longNames(body, 3, 38_000).toCharArray()) {
            if (c == '"') {
                message.append('\\');
            }
            message.append(c).append("\\u0000");
        }
        return ("{\"Type\":\"Notification\",\"MessageId\":\"m-" + body + "\","
                + "\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\",\"Message\":\"" + message + "\"}")
                .getBytes(StandardCharsets.UTF_8);
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
