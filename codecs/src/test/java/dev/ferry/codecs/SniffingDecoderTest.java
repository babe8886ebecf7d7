package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Under {@code auto} (the default format) the first field name the sniffer knows picks the decoder. A body whose
 * first such name was {@code Type} or {@code TopicArn} and that the SNS decoder could not read (a Python producer's
 * NaN, an NDJSON batch, nesting, a number or a string past the limits) was dead-lettered, and so was such a
 * {@code Records} or {@code Events} body, while the same body with other names went on as raw. It goes on as raw
 * now, unless it showed that format's own structure first: a real notification, damaged, stays malformed.
 */
class SniffingDecoderTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();
    private static final Decoder AUTO = Codecs.named("auto", LIMITS);
    /** Arrays nested past the limit of 64. */
    private static final String DEEP = "[".repeat(100) + "]".repeat(100);
    /** A real envelope's first members: its Type and TopicArn are there before anything else. */
    private static final String ENVELOPE =
            "{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\",";

    private static Decoded decode(Decoder decoder, String body) {
        return decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
    }

    /** The one event {@code auto} makes of {@code body}: raw, the body as it came for payload. */
    private static Event raw(String what, String body) {
        var decoded = decode(AUTO, body);
        assertThat(decoded).as(what).isInstanceOf(Decoded.Events.class);
        var events = ((Decoded.Events) decoded).events();
        assertThat(events).as(what).hasSize(1);
        assertThat(events.getFirst().type()).as(what).isEqualTo("raw");
        assertThat(events.getFirst().payload()).as(what).isEqualTo(body.getBytes(StandardCharsets.UTF_8));
        return events.getFirst();
    }

    /** {@code body} goes on under auto exactly as {@code otherNames}, the same body without the format's names, does. */
    private static void alike(String what, String body, String otherNames) {
        var other = raw(what + ", other names", otherNames);
        var e = raw(what, body);
        assertThat(e.key()).as(what).isEqualTo(other.key());
        assertThat(e.time()).as(what).isEqualTo(other.time());
        assertThat(e.groupKey()).as(what).isEqualTo(other.groupKey());
        assertThat(e.attributes()).as(what).isEqualTo(other.attributes());
    }

    @Test
    void aBodyWhoseFirstKnownNameIsTypeOrTopicArn_thatTheSnsDecoderCannotRead_goesOnAsRaw_asWithOtherNames() {
        alike("NaN from a Python producer", "{\"Type\":\"reading\",\"value\":NaN}", "{\"kind\":\"reading\",\"value\":NaN}");
        alike("an NDJSON batch", "{\"Type\":\"log\",\"n\":1}\n{\"Type\":\"log\",\"n\":2}",
                "{\"kind\":\"log\",\"n\":1}\n{\"kind\":\"log\",\"n\":2}");
        alike("nesting past the limit", "{\"Type\":\"log\",\"deep\":" + DEEP + "}", "{\"kind\":\"log\",\"deep\":" + DEEP + "}");
        var digits = "1".repeat(LIMITS.maxNumberLength() + 10);
        alike("a number past the digit limit", "{\"TopicArn\":\"mine\",\"n\":" + digits + "}",
                "{\"topic\":\"mine\",\"n\":" + digits + "}");
        var text = "s".repeat(LIMITS.maxStringLength() + 10);
        alike("a Subject past the string limit", "{\"Type\":\"mail\",\"Subject\":\"" + text + "\"}",
                "{\"kind\":\"mail\",\"Subject\":\"" + text + "\"}");
        alike("a Message past the string limit", "{\"Type\":\"mail\",\"Message\":\"" + text + "\"}",
                "{\"kind\":\"mail\",\"Message\":\"" + text + "\"}");
    }

    @Test
    void aRealSnsNotification_stillDecodesAsSns_andOneThatBreaksAfterItsTypeAndTopicArn_staysMalformedAsToday() {
        var e = ((Decoded.Events) AUTO.decode(Samples.sample("sns-s3.json"))).events().getFirst();
        assertThat(e.type()).isEqualTo("ObjectCreated:Put");
        assertThat(e.attributes()).containsEntry("sns.TopicArn", "arn:aws:sns:us-east-1:123456789012:archive-events");
        var confirmation = ((Decoded.Events) AUTO.decode(Samples.sample("sns-subscription.json"))).events().getFirst();
        assertThat(confirmation.type()).isEqualTo("sns:SubscriptionConfirmation");

        var sns = Codecs.named("sns", LIMITS);
        for (var body : List.of(ENVELOPE + "\"Message\":\"hello\",\"n\":NaN}", ENVELOPE + "\"Message\":\"hello\"}\n{\"n\":2}",
                ENVELOPE + "\"Message\":\"hello\",\"deep\":" + DEEP + "}")) {
            var decoded = decode(AUTO, body);
            assertThat(decoded).as(body).isInstanceOf(Decoded.Malformed.class).isEqualTo(decode(sns, body));
        }
    }

    @Test
    void aRealSnsNotificationWhoseMessageTheInnerFormatRefuses_isMalformed_asTheNamedSnsFormatSaysIt() {
        var sns = Codecs.named("sns", LIMITS);
        // an S3 record without its object's key, and Records nested past the limit: inside a real envelope, both refused
        for (var message : List.of("{\\\"Records\\\":[{\\\"s3\\\":{\\\"bucket\\\":{\\\"name\\\":\\\"b\\\"}}}]}",
                "{\\\"Records\\\":[" + DEEP + "]}")) {
            var body = ENVELOPE + "\"Message\":\"" + message + "\"}";
            var decoded = decode(AUTO, body);
            assertThat(decoded).as(body).isInstanceOfSatisfying(Decoded.Malformed.class,
                    m -> assertThat(m.reason()).startsWith("SNS Message from arn:aws:sns:us-east-1:1:t: "));
            assertThat(decoded).as(body).isEqualTo(decode(sns, body));
        }
    }

    @Test
    void recordsOrEventsThatBreakTheParserBeforeShowingTheirFormat_goOnAsRaw_asWithOtherNames() {
        alike("Records nested past the limit", "{\"Records\":[" + DEEP + "]}", "{\"Items\":[" + DEEP + "]}");
        alike("a record with NaN", "{\"Records\":[{\"eventName\":\"INSERT\",\"n\":NaN}]}",
                "{\"Items\":[{\"eventName\":\"INSERT\",\"n\":NaN}]}");
        alike("Events with NaN", "{\"Events\":[{\"type\":\"click\",\"x\":NaN}]}", "{\"clicks\":[{\"type\":\"click\",\"x\":NaN}]}");
    }

    @Test
    void aNotificationThatShowsItsFormatBeforeItBreaks_staysMalformed() {
        for (var body : List.of("{\"Records\":[{\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}," + DEEP + "]}",
                "{\"Records\":[{\"eventSource\":\"aws:s3\",\"n\":NaN}]}",
                "{\"EventDocId\":\"d\",\"Events\":[{\"EventType\":\"Ping\",\"x\":NaN}]}")) {
            assertThat(decode(AUTO, body)).as(body).isInstanceOf(Decoded.Malformed.class);
        }
    }
}
